// `tsx test/support/with-servers.ts <command…>`: starts a throwaway Postgres cluster and a Redis
// server, each on a unix socket of its own (no TCP port), runs the command with DATABASE_URL and REDIS_URL set, then stops
// both and deletes their data: on success, on failure, and on Ctrl-C / SIGTERM.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { startPostgres, startRedis } from './servers.js'
import type { PostgresServer, RedisServer } from './servers.js'

const command = process.argv.slice(2)
if (command.length === 0 || !command[0]) {
  process.stderr.write('usage: with-servers <command> [args…]\n')
  process.exit(2)
}

let postgres: PostgresServer | undefined
let redis: RedisServer | undefined
let child: ChildProcess | undefined
let stopping: Promise<void> | undefined

const stopServers = () =>
  (stopping ??= (async () => {
    await Promise.allSettled([postgres?.stop(), redis?.stop()])
  })())

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    child?.kill(signal)
    void stopServers().then(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)))
  })
}

try {
  const started = Date.now()
  ;[postgres, redis] = await Promise.all([startPostgres(), startRedis()])
  process.stdout.write(
    `[with-servers] Postgres on ${postgres.socketDir}, Redis on ${redis.socket} ` +
      `(started in ${Date.now() - started} ms)\n`,
  )
} catch (error) {
  process.stderr.write(`[with-servers] ${error instanceof Error ? error.message : String(error)}\n`)
  await stopServers()
  process.exit(1)
}

const [bin, ...args] = command
const status = await new Promise<number>((resolve) => {
  child = spawn(bin, args, {
    stdio: 'inherit',
    env: { ...process.env, DATABASE_URL: postgres.url, REDIS_URL: redis.url },
  })
  child.once('error', (error) => {
    process.stderr.write(`[with-servers] could not run ${bin}: ${error.message}\n`)
    resolve(1)
  })
  child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
})
await stopServers()
process.exit(status)
