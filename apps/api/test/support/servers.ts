// Throwaway Postgres and Redis servers for the test command's second run (and the fault tests):
// Debian's binaries (`postgresql`, `redis-server`; scripts/ensure-servers.mjs installs them when
// missing), in temporary directories, never running as root (as the `postgres` user when we are
// root, else as ourselves). Neither listens on TCP: each binds a unix socket in its own private
// directory, so no port is chosen here and handed over (no race with another process for it).
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The directory holding `initdb` and `postgres` (the newest Debian version), or null. */
export function findPostgresBin(): string | null {
  const fromEnv = process.env['ACTAS_POSTGRES_BIN']
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : null
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] ? join(root, versions[0], 'bin') : null
}

/** The `redis-server` binary, or null. */
export function findRedisServer(): string | null {
  const fromEnv = process.env['ACTAS_REDIS_SERVER']
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null
  for (const dir of (process.env['PATH'] ?? '/usr/bin').split(':').concat('/usr/bin')) {
    const candidate = join(dir, 'redis-server')
    if (dir && existsSync(candidate)) return candidate
  }
  return null
}

/** Who the servers run as: ourselves, or the `postgres` system user when we are root. */
function serverUser(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
  if (!line)
    throw new Error(
      'running as root, and there is no `postgres` user to run the test servers as ' +
        "(Debian's postgresql package creates it: apt-get install -y postgresql)",
    )
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/**
 * A free loopback port, for callers that must name a port before their server starts (the
 * example customer application's README commands). The servers here never use it: they bind
 * their own sockets.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function tempDir(prefix: string, user: { uid: number; gid: number } | null): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  if (user) chownSync(dir, user.uid, user.gid)
  return dir
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves when `probe` succeeds, rejects with the server's output after `timeoutMs`. */
async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}):\n${output()}`)
    if (await probe()) return
    await sleep(100)
  }
  throw new Error(`${what} did not start within ${timeoutMs} ms:\n${output()}`)
}

/** Sends `line` to the unix socket at `path` and resolves with the first reply chunk (or null). */
function socketExchange(path: string, line: string | null): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ path })
    const done = (value: string | null) => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(1000, () => done(null))
    socket.once('error', () => done(null))
    socket.once('connect', () => (line === null ? done('') : socket.write(line)))
    socket.once('data', (chunk) => done(chunk.toString('utf8')))
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Signals `child` and waits for it to exit; SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited(child)
  clearTimeout(timer)
}

/** Pids of `pid`'s descendants (from /proc). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid …; comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(Number(entry), ppid)
    } catch {
      // the process ended meanwhile
    }
  }
  const found: number[] = []
  const walk = (parent: number) => {
    for (const [child, ppid] of parents)
      if (ppid === parent) {
        found.push(child)
        walk(child)
      }
  }
  walk(pid)
  return found
}

export interface PostgresServer {
  /** postgres://postgres@localhost/postgres?host=SOCKET_DIR (trust authentication, no TCP). */
  url: string
  /** The directory of its unix socket (private to the server's user). */
  socketDir: string
  dataDir: string
  /** Fast shutdown, then start again on the same port and data (waits until it answers). */
  restart(): Promise<void>
  /** Stops the server, keeping its data (`start()` brings it back). */
  halt(): Promise<void>
  start(): Promise<void>
  /** SIGSTOP to the postmaster and every backend: connections stay open, nothing answers. */
  freeze(): void
  /** SIGCONT to the same processes (and any forked since). */
  thaw(): void
  /** Stops the server and deletes its data. */
  stop(): Promise<void>
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin()
  if (!bin)
    throw new Error(
      'no Postgres binaries (/usr/lib/postgresql/*/bin): run `node scripts/ensure-servers.mjs` ' +
        'from the repository root, or apt-get install -y postgresql',
    )
  const user = serverUser()
  const dataDir = tempDir('actas-pg-', user)
  const ids = user ? { uid: user.uid, gid: user.gid } : {}
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' }
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
    { ...ids, env, cwd: dataDir, encoding: 'utf8' },
  )
  if (init.status !== 0) {
    rmSync(dataDir, { recursive: true, force: true })
    throw new Error(`initdb failed (${init.status}):\n${init.stdout}\n${init.stderr}`)
  }
  // The socket directory is the data directory itself: private (0700), deleted with it.
  const socketDir = dataDir
  const url = `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`
  let child: ChildProcess | undefined
  let log = ''
  let frozen: number[] = []

  const start = async () => {
    log = ''
    const c = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-c',
        'listen_addresses=',
        '-c',
        `unix_socket_directories=${socketDir}`,
        '-c',
        'max_connections=300',
        // A throwaway cluster: durability buys nothing here.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      { ...ids, env, cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = c
    const collect = (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-20_000)
    }
    c.stdout?.on('data', collect)
    c.stderr?.on('data', collect)
    await waitFor(
      'postgres',
      () => canQuery(url),
      c,
      () => log,
    )
  }

  const halt = async () => {
    if (child) await stopChild(child, 'SIGINT')
  }

  await start()
  return {
    url,
    socketDir,
    dataDir,
    start,
    halt,
    restart: async () => {
      await halt()
      await start()
    },
    freeze,
    thaw,
    async stop() {
      if (frozen.length > 0) thaw()
      await halt()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }

  function freeze() {
    if (!child?.pid) throw new Error('postgres is not running')
    frozen = [child.pid, ...descendants(child.pid)]
    for (const pid of frozen) process.kill(pid, 'SIGSTOP')
  }
  function thaw() {
    const pids = child?.pid ? [child.pid, ...descendants(child.pid)] : []
    for (const pid of new Set([...frozen, ...pids])) {
      try {
        process.kill(pid, 'SIGCONT')
      } catch {
        // gone
      }
    }
    frozen = []
  }
}

async function canQuery(url: string): Promise<boolean> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

export interface RedisServer {
  /** redis://localhost?path=SOCKET (ioredis connects to the unix socket `path`). */
  url: string
  /** Its unix socket, in a directory private to the server's user. */
  socket: string
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>
}

export async function startRedis(): Promise<RedisServer> {
  const binary = findRedisServer()
  if (!binary)
    throw new Error(
      'no redis-server: run `node scripts/ensure-servers.mjs` from the repository root, ' +
        'or apt-get install -y redis-server',
    )
  const user = serverUser()
  const dir = tempDir('actas-redis-', user)
  const socket = join(dir, 'redis.sock')
  let log = ''
  const child = spawn(
    binary,
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    {
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const collect = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-20_000)
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const stop = async () => {
    await stopChild(child, 'SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(
      'redis-server',
      async () => (await socketExchange(socket, 'PING\r\n'))?.startsWith('+PONG') === true,
      child,
      () => log,
    )
  } catch (error) {
    await stop()
    throw error
  }
  return { url: `redis://localhost?path=${encodeURIComponent(socket)}`, socket, stop }
}
