// Benchmark (prints figures; not a test): how fast a kill switch reaches every API instance,
// the guards and the host banner, timed from the moment the staff member's end request leaves
// (`impersonation.end`, what Active now's End sends) and from its answer. Production's shape:
// two API processes (src/server.ts, as production starts them) on one Postgres server and one
// Redis (throwaway, apps/api/test/support/servers.ts), the local Clerk server in this process.
// Per run, one impersonation is started through A, signed in, then ended through A; until:
//   (instance) each instance's own push (`GET /v1/sessions/ended` as a machine granted
//              `sessions.revoked`) names it: the instance's registry has learnt the end (A from
//              its own append, B through Postgres NOTIFY);
//   (guard)    a guard following A's push and one following B's refuse the session's (still
//              valid) token, checked every 2 ms; a third guard only polls `sessions.revoked`
//              every 1,000 ms (the backstop, for comparison);
//   (banner)   the impersonated session's own stream, on A and on B, read as the host kit's
//              `followEnds` (packages/host-kit/src/ended-stream.ts, what <actas-banner> runs)
//              reads it: the session's token as a Bearer header, until its `ended` event. (The
//              kit's module itself needs the DOM's types, which this package does not have.)
// Target: p99 ≤ 500 ms from the click. BENCH_KILL_RUNS runs (default 30).
import os from 'node:os'
import { createFapiClient, startClerkLocal, SUPPORT_ORG_SLUG } from '@actas/clerk-local'
import { localClerkEnvironment } from '@actas/api'
import { createActAsClient } from '@actas/contracts/client'
import { SESSIONS_ENDED_PATH } from '@actas/contracts'
import { startApiProcess } from '../../../apps/api/test/support/api-process.ts'
import type { ApiProcess } from '../../../apps/api/test/support/api-process.ts'
import { startPostgres, startRedis } from '../../../apps/api/test/support/servers.ts'
import { createGuard } from '../src/index.js'
import type { Guard } from '../src/index.js'

const RUNS = Number(process.env['BENCH_KILL_RUNS'] ?? 30)
const ORIGIN = 'http://localhost:5173'

process.env['CLERK_TELEMETRY_DISABLED'] = '1'
const [clerk, postgres, redis] = await Promise.all([
  startClerkLocal({ port: 0, users: 200, seed: 1 }),
  startPostgres(),
  startRedis(),
])
const machineId = clerk.machines.find((m) => m.name === 'actas-api')!
const env = {
  ...localClerkEnvironment(clerk, ORIGIN),
  DATABASE_URL: postgres.url,
  REDIS_URL: redis.url,
  LOG_LEVEL: 'info', // startApiProcess waits for the "Server listening" line
  RATE_LIMIT_START_PER_MINUTE: '100000',
  MACHINE_PERMISSIONS: JSON.stringify({ [machineId.id]: ['sessions.revoked'] }),
}
const apis: ApiProcess[] = []
const guards: Guard[] = []
const aborts = new AbortController()

/** A machine stream's reader: when each impersonation's end was first told (performance.now). */
function followInstance(url: string, token: string): Map<string, number> {
  const seen = new Map<string, number>()
  void (async () => {
    while (!aborts.signal.aborted) {
      try {
        const res = await fetch(url, {
          headers: { authorization: `Bearer ${token}` },
          signal: aborts.signal,
        })
        if (!res.ok || !res.body) throw new Error(`the stream answered ${res.status}`)
        let buffer = ''
        for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
          buffer += chunk
          let cut: number
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut)
            buffer = buffer.slice(cut + 2)
            if (!block.includes('event: ended')) continue
            const data = block.split('\n').find((l) => l.startsWith('data: '))
            const id = (JSON.parse(data!.slice(6)) as { impersonationId: string }).impersonationId
            if (!seen.has(id)) seen.set(id, performance.now())
          }
        }
      } catch {
        // closed (its credential's lifetime) or aborted: open it again
      }
    }
  })()
  return seen
}

/** The impersonated session's own stream (the banner's): its `open`, then its `ended` (ms). */
async function sessionStream(
  url: string,
  token: string,
): Promise<{ opened: Promise<void>; ended: Promise<number> }> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: aborts.signal,
  })
  if (!res.ok || !res.body) throw new Error(`the stream answered ${res.status}`)
  let opened!: () => void
  const openedP = new Promise<void>((resolve) => (opened = resolve))
  const ended = (async () => {
    let buffer = ''
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
      buffer += chunk
      if (buffer.includes('event: open')) opened()
      if (buffer.includes('event: ended')) return performance.now()
    }
    return Number.NaN // closed without an end
  })()
  return { opened: openedP, ended }
}

try {
  // One after the other: both would run the migrations at once otherwise.
  apis.push(await startApiProcess(env))
  apis.push(await startApiProcess(env))
  const [a, b] = apis as [ApiProcess, ApiProcess]
  const streamOf = (api: ApiProcess) => new URL(SESSIONS_ENDED_PATH, api.url).href

  const support = [...clerk.state.organizations.values()].find((o) => o.slug === SUPPORT_ORG_SLUG)!
  const admin = clerk.accounts.find((x) => x.role === 'admin')!
  const fapi = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: ORIGIN })
  const signedIn = await fapi.signInWithPassword(admin.identifier, admin.password)
  const active = await fapi.touch(signedIn.sessionId, { activeOrganizationId: support.id })
  const staff = createActAsClient({
    url: `${a.url}/trpc`,
    getToken: () => fapi.getToken(active.sessionId),
  })
  const m2m = await fetch(`${clerk.url}/m2m_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${machineId.secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ seconds_until_expiration: 3600 }),
  })
  const machine = ((await m2m.json()) as { token: string }).token
  const make = (push: ApiProcess | null): Guard =>
    createGuard({
      clerk: { jwtKey: clerk.jwtPublicKeyPem, authorizedParties: [ORIGIN] },
      actas: createActAsClient({ url: `${a.url}/trpc`, getToken: () => machine }),
      revokedRefreshMs: 1_000,
      revokedPush: push ? { url: streamOf(push), getToken: () => machine } : false,
      trail: false,
      logger: { warn: () => undefined },
    })
  const pushed = { 'guard on A': make(a), 'guard on B': make(b) }
  const polled = make(null)
  guards.push(...Object.values(pushed), polled)
  await Promise.all(guards.map((g) => g.start()))
  for (let i = 0; i < 200 && !guards.slice(0, 2).every((g) => g.stats().revoked.pushConnected); i++)
    await new Promise((resolve) => setTimeout(resolve, 50))
  const instances = {
    'instance A (its own end)': followInstance(streamOf(a), machine),
    'instance B (NOTIFY)': followInstance(streamOf(b), machine),
  }

  const staffIds = new Set(clerk.accounts.map((x) => x.userId))
  const customers = [...clerk.state.users.values()].filter(
    (u) =>
      !staffIds.has(u.id) &&
      !u.banned &&
      !u.locked &&
      clerk.state.membershipsOfUser(u.id).length === 0,
  )
  const fromClick = new Map<string, number[]>()
  const fromAnswer = new Map<string, number[]>()
  const note = (path: string, at: number, t0: number, answeredAt: number) => {
    fromClick.set(path, [...(fromClick.get(path) ?? []), at - t0])
    fromAnswer.set(path, [...(fromAnswer.get(path) ?? []), at - answeredAt])
  }
  for (let run = 0; run < RUNS; run++) {
    const user = customers[run % customers.length]!
    const started = await staff.impersonation.start.mutate({
      userId: user.id,
      reason: 'Benchmark of the kill switch',
    })
    const session = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: ORIGIN })
    const { sessionId } = await session.signInWithTicket(started.ticket)
    const token = await session.getToken(sessionId)
    await createActAsClient({
      url: `${a.url}/trpc`,
      getToken: () => session.getToken(sessionId),
    }).impersonation.signedIn.mutate({ sessionToken: token })
    // The banner's stream, on each instance: opened (its `open` event) before the end is sent.
    const banners = new Map<string, Promise<number>>()
    for (const [name, api] of [
      ['banner on A', a],
      ['banner on B', b],
    ] as const) {
      const stream = await sessionStream(streamOf(api), token)
      await stream.opened
      banners.set(name, stream.ended)
    }

    const t0 = performance.now()
    let answeredAt = Number.NaN
    const ending = staff.impersonation.end
      .mutate({ impersonationId: started.impersonationId, reason: 'Benchmark kill switch' })
      .then(() => {
        answeredAt = performance.now()
      })
    const guardNames = new Map<Guard, string>([
      ...Object.entries(pushed).map(([n, g]) => [g, n] as [Guard, string]),
      [polled, 'guard polling every 1,000 ms (backstop)'],
    ])
    const refusedAt = new Map<Guard, number>()
    while (refusedAt.size < guards.length && performance.now() - t0 < 10_000) {
      for (const guard of guards) {
        if (refusedAt.has(guard)) continue
        const checked = await guard.check(token)
        if (!checked.ok || checked.verdict.revoked) refusedAt.set(guard, performance.now())
      }
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    await ending
    for (const [name, seen] of Object.entries(instances)) {
      for (let i = 0; i < 500 && !seen.has(started.impersonationId); i++)
        await new Promise((resolve) => setTimeout(resolve, 20))
      note(name, seen.get(started.impersonationId) ?? Number.NaN, t0, answeredAt)
    }
    for (const [guard, name] of guardNames)
      note(name, refusedAt.get(guard) ?? Number.NaN, t0, answeredAt)
    for (const [name, at] of banners) note(name, await at, t0, answeredAt)
    note("the end's answer", answeredAt, t0, answeredAt)
  }

  const stat = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y)
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!
    return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! }
  }
  const f = (r: { p50: number; p99: number; max: number }) =>
    `${r.p50.toFixed(0)} / ${r.p99.toFixed(0)} / ${r.max.toFixed(0)}`
  console.log(
    `\nkill switch → learnt, ${RUNS} runs, two API processes on Postgres + Redis (${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, node ${process.version}, ${new Date().toISOString()}); ms\n`,
  )
  console.log(
    '| path                                     | from the click: p50 / p99 / max | from the answer: p50 / p99 / max |',
  )
  console.log(
    '| ---------------------------------------- | ------------------------------: | -------------------------------: |',
  )
  for (const [name, xs] of fromClick)
    console.log(
      `| ${name.padEnd(40)} | ${f(stat(xs)).padStart(31)} | ${f(stat(fromAnswer.get(name)!)).padStart(32)} |`,
    )
  const pushPaths = [...fromClick.keys()].filter(
    (n) =>
      n.startsWith('instance') ||
      n.startsWith('banner') ||
      n.endsWith(' on A') ||
      n.endsWith(' on B'),
  )
  const worst = Math.max(...pushPaths.map((n) => stat(fromClick.get(n)!).p99))
  console.log(
    `\nworst p99 from the click (instances, pushed guards, banners): ${worst.toFixed(0)} ms: target ≤ 500 ms ${worst <= 500 ? 'met' : 'NOT met'}`,
  )
} finally {
  aborts.abort()
  for (const guard of guards) await guard.close()
  await Promise.allSettled(apis.map((api) => api.stop()))
  await Promise.allSettled([postgres.stop(), redis.stop(), clerk.stop()])
}
