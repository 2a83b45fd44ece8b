// Benchmark (prints figures; not a test). Three processes: the local Clerk server with 100k
// users, the API, and this load generator. Same run, same machine:
//   (a) a raw Fastify JSON route          (b) `me` through tRPC with auth
//   (c) `users.search` through the stack   (d) the local server's GET /v1/users directly
//   (e) a diagnostic: (c)'s Clerk read and mapping on a bare Fastify route (no tRPC, no auth)
// Then `pairs`: each piece that leans on a library's internals against the library's plain
// public API, same path, same run; kept only where it saves ≥ 20 % of the API's CPU per request.
// With BENCH_BEFORE_DIR (another checkout's apps/api/bench, e.g. `main`'s), a second API from that
// code runs beside this one against the same local Clerk server, and (b) and (c) are measured on
// both, alternating, BENCH_BEFORE_ROUNDS times (default 3): before → after, with the ratio.
// Targets on a 2-core machine: (b) ≥ 0.06 × (a), (c) ≥ 0.5 × (d), zero errors.
import http from 'node:http'
import os from 'node:os'
import { createFapiClient } from '@actas/clerk-local'
import { localClerkEnvironment } from '../src/config.js'
import { children, startProcess } from './processes.js'

const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 5000)
const WARMUP_MS = Number(process.env['BENCH_WARMUP_MS'] ?? 1500)
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16)
const ORIGIN = 'http://localhost:5173'

// BENCH_PROFILE_DIR: the API process writes a V8 CPU profile there (node --cpu-prof) on exit.
const PROFILE_DIR = process.env['BENCH_PROFILE_DIR']
// BENCH_ROUTES: a subset of a,b,c,e,d to run (profiling one route at a time).
const ROUTES = new Set((process.env['BENCH_ROUTES'] ?? 'a,b,c,e,d,pairs').split(','))
const BEFORE_DIR = process.env['BENCH_BEFORE_DIR']
const BEFORE_ROUNDS = Number(process.env['BENCH_BEFORE_ROUNDS'] ?? 3)

interface Result {
  name: string
  /** CPU time of the API process per measured request, µs (null for (d): the API is idle). */
  apiCpuUs: number | null
  requests: number
  errors: number
  rps: number
  p50: number
  p99: number
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })

function once(url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, headers }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

let cpuUrl: string | undefined

async function apiCpu(url = cpuUrl!): Promise<number> {
  const res = await fetch(url)
  const { user, system } = (await res.json()) as { user: number; system: number }
  return user + system
}

async function load(
  name: string,
  url: string,
  headers: () => Record<string, string>,
  measureApiCpu = true,
  /** The API process whose CPU is read (default the one under test). */
  cpuOf = cpuUrl!,
): Promise<Result> {
  const target = new URL(url)
  const run = async (ms: number, record: boolean) => {
    const latencies: number[] = []
    let errors = 0
    const end = performance.now() + ms
    const h = headers()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now()
          const status = await once(target, h).catch(() => 0)
          if (record) latencies.push(performance.now() - t0)
          if (status !== 200) errors++
        }
      }),
    )
    return { latencies, errors }
  }
  await run(WARMUP_MS, false)
  const cpu0 = measureApiCpu ? await apiCpu(cpuOf) : 0
  const started = performance.now()
  const { latencies, errors } = await run(DURATION_MS, true)
  const elapsed = (performance.now() - started) / 1000
  const cpu1 = measureApiCpu ? await apiCpu(cpuOf) : 0
  latencies.sort((a, b) => a - b)
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN
  return {
    name,
    apiCpuUs: measureApiCpu ? (cpu1 - cpu0) / latencies.length : null,
    requests: latencies.length,
    errors,
    rps: latencies.length / elapsed,
    p50: pct(0.5),
    p99: pct(0.99),
  }
}

async function main(): Promise<void> {
  const clerk = await startProcess<{
    url: string
    frontendApiUrl: string
    publishableKey: string
    secretKey: string
    jwtPublicKeyPem: string
    accounts: { role: string; identifier: string; password: string }[]
    users: number
  }>('clerk-process.ts', {})
  const apiEnv = {
    ...localClerkEnvironment(clerk, ORIGIN),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_SEARCH_PER_MINUTE: '100000000',
  }
  const api = await startProcess<{ apiUrl: string; rawUrl: string }>(
    'api-process.ts',
    apiEnv,
    PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : undefined,
  )
  const before = BEFORE_DIR
    ? await startProcess<{ apiUrl: string; rawUrl: string }>(
        'api-process.ts',
        apiEnv,
        undefined,
        BEFORE_DIR,
      )
    : null

  cpuUrl = `${api.rawUrl}/cpu`
  const admin = clerk.accounts.find((a) => a.role === 'admin')!
  const fapi = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: ORIGIN })
  const session = await fapi.signInWithPassword(admin.identifier, admin.password)
  const orgs = await (
    await fetch(`${clerk.url}/v1/users/${session.userId}/organization_memberships`, {
      headers: { authorization: `Bearer ${clerk.secretKey}` },
    })
  ).json()
  const supportOrg = (orgs as { data: { organization: { id: string; slug: string } }[] }).data.find(
    (m) => m.organization.slug === 'support',
  )!.organization.id
  await fapi.touch(session.sessionId, { activeOrganizationId: supportOrg })
  let token = await fapi.getToken(session.sessionId)
  const bearer = () => ({ authorization: `Bearer ${token}` })
  const refresh = async () => {
    token = await fapi.getToken(session.sessionId)
  }

  // Clerk calls per search page, counted at the local server (before any load: caches cold).
  const budget = await clerkCallsPerPage(clerk, api.apiUrl, bearer)

  const searchInput = encodeURIComponent(JSON.stringify({ limit: 20 }))
  const results: Record<string, Result> = {}
  if (ROUTES.has('a'))
    results['a'] = await load('(a) raw Fastify JSON route', `${api.rawUrl}/raw`, () => ({}))
  await refresh()
  if (ROUTES.has('b'))
    results['b'] = await load('(b) me through tRPC + auth', `${api.apiUrl}/trpc/me`, bearer)
  await refresh()
  if (ROUTES.has('c'))
    results['c'] = await load(
      '(c) users.search, whole stack',
      `${api.apiUrl}/trpc/users.search?input=${searchInput}`,
      bearer,
    )
  if (ROUTES.has('e'))
    results['e'] = await load(
      '(e) the same read, bare Fastify',
      `${api.rawUrl}/raw-search`,
      () => ({}),
    )
  if (ROUTES.has('d'))
    results['d'] = await load(
      '(d) local GET /v1/users',
      `${clerk.url}/v1/users?limit=20&order_by=-created_at`,
      () => ({
        authorization: `Bearer ${clerk.secretKey}`,
      }),
      false,
    )

  const pairs: Array<{ what: string; plain: Result; ours: Result }> = []
  if (ROUTES.has('pairs')) {
    const pair = async (
      what: string,
      plain: [string, string],
      ours: [string, string],
      h: () => Record<string, string> = bearer,
    ) => {
      await refresh()
      pairs.push({
        what,
        plain: await load(plain[0], plain[1], h),
        ours: await load(ours[0], ours[1], h),
      })
    }
    await pair(
      'keep-alive BAPI reader (directory/bapi-reader.ts)',
      ['(p1) page read, @clerk/backend', `${api.rawUrl}/raw-search-sdk`],
      ['(o1) page read, BapiReader', `${api.rawUrl}/raw-search`],
      () => ({}),
    )
  }

  // Before (another checkout's API) → after (this one), alternating which goes first.
  const beforeAfter: Array<{ what: string; before: Result[]; after: Result[] }> = []
  if (before) {
    const routes = [
      { what: '(b) me', path: '/trpc/me' },
      { what: '(c) users.search', path: `/trpc/users.search?input=${searchInput}` },
    ]
    for (const route of routes) {
      const row = { what: route.what, before: [] as Result[], after: [] as Result[] }
      for (let round = 0; round < BEFORE_ROUNDS; round++) {
        const sides = [
          { into: row.before, api: before, name: `${route.what} before` },
          { into: row.after, api, name: `${route.what} after` },
        ]
        if (round % 2 === 1) sides.reverse()
        for (const side of sides) {
          await refresh()
          side.into.push(
            await load(
              side.name,
              `${side.api.apiUrl}${route.path}`,
              bearer,
              true,
              `${side.api.rawUrl}/cpu`,
            ),
          )
        }
      }
      beforeAfter.push(row)
    }
  }

  console.log(
    `\nActAs API benchmark: ${clerk.users} users, concurrency ${CONCURRENCY}, ${DURATION_MS / 1000}s per route`,
  )
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${os.cpus().length} CPUs`,
  )
  console.log(
    '\nClerk calls per search page (counted at the local server; target ≤ 3 cold, ≤ 2 warm)',
  )
  console.log('page   query        cold   warm   next page   by route (cold)')
  for (const row of budget) {
    console.log(
      `${String(row.limit).padEnd(6)} ${JSON.stringify(row.query).padEnd(12)} ${String(row.cold.total).padStart(4)} ${String(row.warm.total).padStart(6)} ${String(row.next.total).padStart(11)}   ${Object.entries(
        row.cold.routes,
      )
        .map(([route, n]) => `${route} ×${n}`)
        .join(', ')}`,
    )
  }
  const within = budget.every((r) => r.cold.total <= 3 && r.warm.total <= 2 && r.next.total <= 2)
  console.log(`Clerk calls per page ${within ? 'met' : 'NOT met'}\n`)
  console.log(
    'route                               req/s     p50 ms   p99 ms   errors   API CPU µs/req',
  )
  for (const r of Object.values(results)) {
    console.log(
      `${r.name.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(8)} ${(r.apiCpuUs === null ? '–' : r.apiCpuUs.toFixed(0)).padStart(16)}`,
    )
  }
  for (const { plain, ours } of pairs) {
    for (const r of [plain, ours]) {
      console.log(
        `${r.name.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(8)} ${(r.apiCpuUs === null ? '–' : r.apiCpuUs.toFixed(0)).padStart(16)}`,
      )
    }
  }
  for (const { what, plain, ours } of pairs) {
    const saved = 1 - ours.apiCpuUs! / plain.apiCpuUs!
    console.log(
      `${what}: ${(saved * 100).toFixed(0)} % less API CPU per request (${plain.apiCpuUs!.toFixed(0)} → ${ours.apiCpuUs!.toFixed(0)} µs), req/s ×${(ours.rps / plain.rps).toFixed(2)}; keep only at ≥ 20 %: ${saved >= 0.2 ? 'keep' : 'REPLACE with the public API'}`,
    )
  }
  if (beforeAfter.length > 0) {
    console.log(
      `\nBefore (${BEFORE_DIR}) → after (this checkout), API CPU µs per request, ${BEFORE_ROUNDS} rounds alternating:`,
    )
    const median = (xs: number[]) => {
      const s = [...xs].sort((x, y) => x - y)
      return s[Math.floor(s.length / 2)]!
    }
    for (const { what, before: b, after: a } of beforeAfter) {
      const cpuB = b.map((r) => r.apiCpuUs!)
      const cpuA = a.map((r) => r.apiCpuUs!)
      const errors = [...b, ...a].reduce((n, r) => n + r.errors, 0)
      console.log(
        `${what.padEnd(20)} before ${cpuB.map((x) => x.toFixed(0)).join(', ')}  after ${cpuA.map((x) => x.toFixed(0)).join(', ')}  median ${median(cpuB).toFixed(0)} → ${median(cpuA).toFixed(0)} µs: after/before = ${(median(cpuA) / median(cpuB)).toFixed(3)}; req/s ${median(b.map((r) => r.rps)).toFixed(0)} → ${median(a.map((r) => r.rps)).toFixed(0)}; errors ${errors}`,
      )
    }
  }
  if (!['a', 'b', 'c', 'd'].every((k) => results[k])) return
  const b = results['b']!.rps / results['a']!.rps
  const c = results['c']!.rps / results['d']!.rps
  const errors = Object.values(results).reduce((n, r) => n + r.errors, 0)
  console.log(`\n(b)/(a) = ${b.toFixed(3)}  (target ≥ 0.06) ${b >= 0.06 ? 'met' : 'NOT met'}`)
  console.log(`(c)/(d) = ${c.toFixed(3)}  (target ≥ 0.5)  ${c >= 0.5 ? 'met' : 'NOT met'}`)
  // (c) is (b)'s path (tRPC, auth) plus the search, so (b) bounds (c).
  const ceiling = results['b']!.rps / results['d']!.rps
  console.log(
    `(b)/(d) = ${ceiling.toFixed(3)}  (the most (c)/(d) can be: (c) is (b)'s path plus the search)`,
  )
  console.log(`errors  = ${errors}      (target 0)     ${errors === 0 ? 'met' : 'NOT met'}`)
  // The API serves (c) on one thread, so 0.5 × (d) searches per second leave it 1 / (0.5 × (d))
  // seconds of CPU per search, Clerk's answer included; (b) shows what tRPC + auth alone use.
  const budgetUs = 1e6 / (0.5 * results['d']!.rps)
  const [meUs, searchUs] = [results['b']!.apiCpuUs!, results['c']!.apiCpuUs!]
  console.log(
    `(c) at 0.5 × (d) leaves the API ${budgetUs.toFixed(0)} µs of CPU per search; it used ${searchUs.toFixed(0)} µs, of which tRPC + auth (as in (b)) ${meUs.toFixed(0)} µs`,
  )
  const bare = results['e']
  if (bare) {
    console.log(
      `(e)/(d) = ${(bare.rps / results['d']!.rps).toFixed(3)}  (the same Clerk read without tRPC and auth: ${bare.apiCpuUs!.toFixed(0)} µs)`,
    )
  }
}

interface RequestCounts {
  total: number
  routes: Record<string, number>
}

/**
 * For pages of 20 and 100, each with a query no earlier search used: the Clerk calls of the first
 * search (cold: no count cached), of the same search again (warm) and of its next page.
 */
async function clerkCallsPerPage(
  clerk: { url: string; secretKey: string },
  apiUrl: string,
  headers: () => Record<string, string>,
): Promise<
  { limit: number; query: string; cold: RequestCounts; warm: RequestCounts; next: RequestCounts }[]
> {
  const control = (path: string, method = 'GET') =>
    fetch(`${clerk.url}/__local/${path}`, {
      method,
      headers: { authorization: `Bearer ${clerk.secretKey}`, 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: '{}' } : {}),
    }).then((r) => r.json() as Promise<RequestCounts>)
  const count = async (input: { query: string; limit: number; offset?: number }) => {
    await control('requests/reset', 'POST')
    const url = `${apiUrl}/trpc/users.search?input=${encodeURIComponent(JSON.stringify(input))}`
    const res = await fetch(url, { headers: headers() })
    if (!res.ok) throw new Error(`users.search answered ${res.status}: ${await res.text()}`)
    return control('requests')
  }
  const rows = []
  for (const [limit, query] of [
    [20, 'gmail'],
    [100, 'yahoo'],
  ] as const) {
    const cold = await count({ query, limit })
    const warm = await count({ query, limit })
    const next = await count({ query, limit, offset: limit })
    rows.push({ limit, query, cold, warm, next })
  }
  return rows
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
