// Soak benchmark (prints figures; not a test): the local Clerk server, the API (as
// bench/api-process.ts starts it) and this load generator as three processes. First the
// capacity of a 50/50 mix of `me` and `users.search` is measured (closed loop, 16 connections,
// SOAK_CAPACITY_MS), then that mix is sent open loop at SOAK_LOAD (default 70 %) of it for
// SOAK_MINUTES (default 10). Per minute: requests, errors, p50/p99 and the API process's RSS.
// Targets: 0 errors, RSS growth ≤ 10 % (from the end of the first minute, after warm-up, to the
// end). `pnpm --filter @actas/api bench:soak`.
import http from 'node:http'
import os from 'node:os'
import { createFapiClient } from '@actas/clerk-local'
import { localClerkEnvironment } from '../src/config.js'
import { children, startProcess } from './processes.js'

const MINUTES = Number(process.env['SOAK_MINUTES'] ?? 10)
const LOAD = Number(process.env['SOAK_LOAD'] ?? 0.7)
const CAPACITY_MS = Number(process.env['SOAK_CAPACITY_MS'] ?? 10_000)
const USERS = process.env['SOAK_USERS'] ?? '20000'
const CONCURRENCY = 16
/** Open loop: requests still in flight beyond this are not sent (counted as errors). */
const MAX_IN_FLIGHT = 512
const ORIGIN = 'http://localhost:5173'

const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT })

function once(url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, { agent, headers }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.end()
  })
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN

async function main(): Promise<void> {
  const clerk = await startProcess<{
    url: string
    frontendApiUrl: string
    publishableKey: string
    secretKey: string
    jwtPublicKeyPem: string
    accounts: { role: string; identifier: string; password: string }[]
    users: number
  }>('clerk-process.ts', { BENCH_USERS: USERS })
  const api = await startProcess<{ apiUrl: string; rawUrl: string }>('api-process.ts', {
    ...localClerkEnvironment(clerk, ORIGIN),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_SEARCH_PER_MINUTE: '100000000',
  })
  const rss = async () => {
    const res = await fetch(`${api.rawUrl}/memory`)
    return ((await res.json()) as { rss: number }).rss
  }

  const admin = clerk.accounts.find((a) => a.role === 'admin')!
  const fapi = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: ORIGIN })
  const session = await fapi.signInWithPassword(admin.identifier, admin.password)
  const orgs = (await (
    await fetch(`${clerk.url}/v1/users/${session.userId}/organization_memberships`, {
      headers: { authorization: `Bearer ${clerk.secretKey}` },
    })
  ).json()) as { data: { organization: { id: string; slug: string } }[] }
  const supportOrg = orgs.data.find((m) => m.organization.slug === 'support')!.organization.id
  await fapi.touch(session.sessionId, { activeOrganizationId: supportOrg })
  let headers = { authorization: `Bearer ${await fapi.getToken(session.sessionId)}` }
  // Session tokens live 60 s: a fresh one every 20 s, as the console does.
  const refresher = setInterval(() => {
    void fapi.getToken(session.sessionId).then((t) => {
      headers = { authorization: `Bearer ${t}` }
    })
  }, 20_000)

  const me = new URL(`${api.apiUrl}/trpc/me`)
  const queries = ['', 'a', 'smith', 'example.com', 'jo', 'user_']
  let n = 0
  /** The next request of the mix: `me` and `users.search` (varied queries) in turn. */
  const next = () => {
    n++
    if (n % 2 === 0) return me
    const input = { query: queries[(n >> 1) % queries.length], limit: 20 }
    return new URL(
      `${api.apiUrl}/trpc/users.search?input=${encodeURIComponent(JSON.stringify(input))}`,
    )
  }

  // Capacity: closed loop, CONCURRENCY connections.
  let done = 0
  const end = performance.now() + CAPACITY_MS
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await once(next(), headers)
        done++
      }
    }),
  )
  const capacity = done / (CAPACITY_MS / 1000)
  const rate = capacity * LOAD
  const rssStart = await rss()
  console.log(
    `\nActAs soak: ${clerk.users} users; capacity of the me/users.search mix ${capacity.toFixed(0)} req/s ` +
      `(closed loop, ${CONCURRENCY} connections); soak at ${(LOAD * 100).toFixed(0)} % = ${rate.toFixed(0)} req/s for ${MINUTES} min`,
  )
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' ',
      )} on ${os.cpus().length} CPUs; API RSS before the soak ${(rssStart / 2 ** 20).toFixed(1)} MiB`,
  )
  console.log('minute   requests   errors   p50 ms   p99 ms   API RSS MiB')

  const rows: { errors: number; rss: number }[] = []
  let inFlight = 0
  for (let minute = 1; minute <= MINUTES; minute++) {
    const latencies: number[] = []
    let errors = 0
    const pending: Promise<void>[] = []
    const minuteStart = performance.now()
    const minuteEnd = minuteStart + 60_000
    let sent = 0
    while (performance.now() < minuteEnd) {
      // Open loop: as many requests as the schedule says by now, whatever the answers.
      const due = Math.floor(((performance.now() - minuteStart) / 1000) * rate)
      while (sent < due) {
        sent++
        if (inFlight >= MAX_IN_FLIGHT) {
          errors++
          continue
        }
        inFlight++
        const t0 = performance.now()
        pending.push(
          once(next(), headers).then((status) => {
            inFlight--
            latencies.push(performance.now() - t0)
            if (status !== 200) errors++
          }),
        )
      }
      await new Promise((r) => setTimeout(r, 5))
    }
    await Promise.all(pending)
    latencies.sort((a, b) => a - b)
    const memory = await rss()
    rows.push({ errors, rss: memory })
    console.log(
      `${String(minute).padStart(6)} ${String(latencies.length).padStart(10)} ${String(errors).padStart(8)} ${pct(latencies, 0.5).toFixed(2).padStart(8)} ${pct(latencies, 0.99).toFixed(2).padStart(8)} ${(memory / 2 ** 20).toFixed(1).padStart(13)}`,
    )
  }
  clearInterval(refresher)

  const errors = rows.reduce((s, r) => s + r.errors, 0)
  const first = rows[0]!.rss
  const last = rows.at(-1)!.rss
  const growth = (last / first - 1) * 100
  console.log(`\nerrors     = ${errors}  (target 0) ${errors === 0 ? 'met' : 'NOT met'}`)
  console.log(
    `RSS growth = ${growth.toFixed(1)} % from the end of minute 1 (${(first / 2 ** 20).toFixed(1)} MiB) to the end (${(last / 2 ** 20).toFixed(1)} MiB)  (target ≤ 10 %) ${growth <= 10 ? 'met' : 'NOT met'}`,
  )
  console.log(
    `             ${((last / rssStart - 1) * 100).toFixed(1)} % from before the soak (${(rssStart / 2 ** 20).toFixed(1)} MiB)`,
  )
}

main()
  .catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(() => {
    agent.destroy()
    for (const child of children) child.kill('SIGTERM')
  })
