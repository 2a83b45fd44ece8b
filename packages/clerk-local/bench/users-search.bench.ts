import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

// `pnpm bench`: GET /v1/users (and /count, as @clerk/backend sends both) at 1k, 10k and 100k
// seeded users. The server runs in a child process (the CLI); this process is the client, over
// loopback, with keep-alive connections. Prints req/s, p50, p99 per size and the growth ratio.
// A script that prints figures, not a test: nothing here asserts.

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number)
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000)
const WARMUP = 300
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)

const packageDir = fileURLToPath(new URL('..', import.meta.url))

interface Server {
  child: ChildProcess
  url: string
  secretKey: string
  seedMs: number
}

function startServer(users: number): Promise<Server> {
  const started = Date.now()
  // BENCH_CPU_PROF=dir writes a V8 CPU profile of the server into dir.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : []
  const child = spawn(
    process.execPath,
    [
      ...profile,
      ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      '--conditions=@actas/source',
      'src/cli.ts',
      '--port',
      '0',
      '--users',
      String(users),
    ],
    {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return
      const info = JSON.parse(line) as { url: string; secretKey: string }
      resolve({ child, url: info.url, secretKey: info.secretKey, seedMs: Date.now() - started })
    })
  })
}

function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit')
    server.child.once('exit', () => resolve())
    server.child.kill('SIGTERM')
  })
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })

function get(server: Server, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { agent, headers: { Authorization: `Bearer ${server.secretKey}` } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

interface SampleUser {
  id: string
  first_name: string | null
  last_name: string | null
  username: string | null
  email_addresses: Array<{ email_address: string }>
  phone_numbers: Array<{ phone_number: string }>
}

/** A deterministic mix of what the console's search box sends. */
function buildMix(sample: SampleUser[], users: number): string[] {
  let seed = 42
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff
  }
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)]!
  const paths: string[] = []
  const q = (s: string) => encodeURIComponent(s)
  for (let i = 0; i < REQUESTS + WARMUP; i++) {
    const u = pick(sample)
    const email = u.email_addresses[0]?.email_address ?? 'someone@example.com'
    const kind = i % 12
    switch (kind) {
      case 0:
        paths.push('/v1/users?limit=20') // the empty search box
        break
      case 1:
        paths.push(`/v1/users?limit=20&offset=${Math.floor(rand() * Math.min(users, 2000))}`)
        break
      case 2:
        paths.push(`/v1/users?query=${q(email.slice(0, 3 + Math.floor(rand() * 6)))}&limit=20`)
        break
      case 3:
        paths.push(`/v1/users/count?query=${q(email.slice(0, 4))}`)
        break
      case 4:
        paths.push(
          `/v1/users?query=${q(`${u.first_name ?? ''} ${u.last_name ?? ''}`.trim())}&limit=20`,
        )
        break
      case 5:
        paths.push(`/v1/users?query=${q(pick(['a', 'jo', 'li', 'e', 'ma', 'son']))}&limit=20`)
        break
      case 6:
        paths.push(
          `/v1/users?query=${q(u.phone_numbers[0]?.phone_number.slice(2, 8) ?? '555')}&limit=20`,
        )
        break
      case 7:
        paths.push(`/v1/users?query=${q(u.last_name ?? 'smith')}&limit=20&order_by=-last_active_at`)
        break
      case 8:
        paths.push(`/v1/users?query=gmail&limit=20&order_by=%2Blast_name`)
        break
      case 9:
        paths.push(`/v1/users/count?query=${q(u.last_name ?? 'smith')}`)
        break
      case 10:
        paths.push(`/v1/users?query=${q(`zz${Math.floor(rand() * 1e6)}qq`)}&limit=20`) // no match
        break
      default:
        paths.push(`/v1/users?query=${q(u.id.slice(0, 12))}&limit=20`)
    }
  }
  return paths
}

async function load(server: Server, paths: string[]): Promise<number[]> {
  const latencies: number[] = []
  let next = 0
  let failures = 0
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]!
      const started = performance.now()
      const res = await get(server, path)
      latencies.push(performance.now() - started)
      if (res.status !== 200) failures++
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  if (failures > 0) console.warn(`  ${failures} non-200 answers`)
  return latencies
}

/** CPU time (user + system, ms) the server process has used, from /proc (Linux); NaN elsewhere. */
function serverCpuMs(server: Server): number {
  try {
    const fields = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime + stime, in clock ticks of 10 ms
  } catch {
    return Number.NaN
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

async function benchSize(users: number) {
  const server = await startServer(users)
  try {
    // A sample of real users to build queries from (not measured).
    const sample: SampleUser[] = []
    for (const offset of [0, Math.floor(users / 3), Math.floor((2 * users) / 3)]) {
      sample.push(
        ...(JSON.parse(
          (await get(server, `/v1/users?limit=100&offset=${offset}`)).body,
        ) as SampleUser[]),
      )
    }
    const paths = buildMix(sample, users)
    await load(server, paths.slice(0, WARMUP))
    const started = performance.now()
    const cpuBefore = serverCpuMs(server)
    const latencies = await load(server, paths.slice(WARMUP))
    const seconds = (performance.now() - started) / 1000
    const cpuPerRequest = (serverCpuMs(server) - cpuBefore) / latencies.length
    latencies.sort((a, b) => a - b)
    return {
      users,
      startupMs: server.seedMs,
      rps: latencies.length / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1]!,
      cpuPerRequest,
    }
  } finally {
    await stopServer(server)
  }
}

const results = []
console.log(
  `GET /v1/users + /v1/users/count: ${REQUESTS} requests per size after ${WARMUP} warm-up, concurrency ${CONCURRENCY}, loopback, keep-alive`,
)
console.log('users     start-up   req/s    p50 ms   p99 ms   max ms   server CPU ms/req')
for (const size of SIZES) {
  const r = await benchSize(size)
  results.push(r)
  console.log(
    `${String(r.users).padEnd(9)} ${`${(r.startupMs / 1000).toFixed(1)} s`.padEnd(10)} ${r.rps.toFixed(0).padEnd(8)} ${r.p50.toFixed(2).padEnd(8)} ${r.p99.toFixed(2).padEnd(8)} ${r.max.toFixed(2).padEnd(8)} ${r.cpuPerRequest.toFixed(3)}`,
  )
}
agent.destroy()
const first = results[0]!
const last = results[results.length - 1]!
console.log(
  `growth ${last.users / 1000}k/${first.users / 1000}k: p50 x${(last.p50 / first.p50).toFixed(2)}, p99 x${(last.p99 / first.p99).toFixed(2)}, req/s x${(last.rps / first.rps).toFixed(2)}, server CPU/req x${(last.cpuPerRequest / first.cpuPerRequest).toFixed(2)}`,
)
console.log(
  `load average during the run: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (2 cores)`,
)
