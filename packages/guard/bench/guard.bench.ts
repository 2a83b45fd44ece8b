// Benchmark (prints figures; not a test): what the guard costs a request, against asking ActAs
// over HTTP (`sessions.inspect`), measured in the same run on the same machine.
//   (a) guard, token seen before: check (cached claims) + revoked lookup + route rules
//   (b) guard, every token new:  the same with @clerk/backend's verifyToken (jwtKey, RS256) each time
//   (c) sessions.inspect over loopback HTTP (keep-alive), the API in this process
// It also counts the requests the guard's client sent to ActAs during (a) and (b): 0 expected.
// Target: (a) p50 ≤ 100 µs, no network per request.
import os from 'node:os'
import { startStack } from '@actas/api/testing'
import { createActAsClient } from '@actas/contracts/client'
import { createGuard } from '../src/index.js'
import type { Guard } from '../src/index.js'

const ITERATIONS = Number(process.env['BENCH_GUARD_ITERATIONS'] ?? 20_000)
const HTTP_ITERATIONS = Number(process.env['BENCH_GUARD_HTTP_ITERATIONS'] ?? 1_000)

function percentiles(samplesNs: bigint[]): { p50: number; p99: number; mean: number } {
  const us = samplesNs.map((n) => Number(n) / 1000).sort((a, b) => a - b)
  const at = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))]!
  return { p50: at(0.5), p99: at(0.99), mean: us.reduce((a, b) => a + b, 0) / us.length }
}

async function measure(n: number, run: () => Promise<unknown>): Promise<bigint[]> {
  for (let i = 0; i < Math.min(500, n / 10); i++) await run() // warm-up
  const samples: bigint[] = []
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint()
    await run()
    samples.push(process.hrtime.bigint() - t0)
  }
  return samples
}

const stack = await startStack({
  env: (clerk) => ({
    RATE_LIMIT_START_PER_MINUTE: '1000',
    MACHINE_PERMISSIONS: JSON.stringify({
      [clerk.machines.find((m) => m.name === 'actas-api')!.id]: [
        'sessions.revoked',
        'sessions.inspect',
      ],
    }),
  }),
})
try {
  const url = await stack.listen()
  const admin = await stack.signIn('admin')
  const staff = stack.client(() => admin.token())
  const user = stack.customers()[0]!
  const started = await staff.impersonation.start.mutate({
    userId: user.id,
    reason: 'Benchmark of the guard per request',
  })
  const session = await stack.signInWithTicket(started.ticket)
  const token = await session.token()
  const machine = (await stack.m2mToken('helpdesk', { secondsUntilExpiration: 3600 })).token

  let guardRequests = 0
  const guardClient = createActAsClient({
    url,
    getToken: () => machine,
    fetch: (input, init) => {
      guardRequests++
      return fetch(input, init)
    },
  })
  const make = (cacheSize: number): Guard =>
    createGuard({
      clerk: { jwtKey: stack.clerk.jwtPublicKeyPem, authorizedParties: ['http://localhost:5173'] },
      actas: guardClient,
      verifiedTokenCacheSize: cacheSize,
      trail: false,
    })
  const cached = make(10_000)
  const uncached = make(0)
  await cached.start()
  await uncached.start()
  // Only the per-request path is measured: stop the background polls' noise from the count.
  await cached.close()
  await uncached.close()
  const check = (guard: Guard) => async () => {
    const checked = await guard.check(token)
    if (!checked.ok || !checked.verdict.impersonated) throw new Error('the token did not verify')
    if (guard.decide(checked.verdict, 'GET', { blockWhileImpersonated: false }) !== null)
      throw new Error('refused')
  }
  const before = guardRequests
  const a = percentiles(await measure(ITERATIONS, check(cached)))
  const b = percentiles(await measure(Math.max(1000, ITERATIONS / 10), check(uncached)))
  const network = guardRequests - before

  const inspector = createActAsClient({ url, getToken: () => machine, batch: false })
  const c = percentiles(
    await measure(HTTP_ITERATIONS, async () => {
      const answer = await inspector.sessions.inspect.mutate({ token })
      if (!answer.valid || !answer.impersonated) throw new Error('inspect refused the token')
    }),
  )

  const row = (name: string, r: { p50: number; p99: number; mean: number }) =>
    `| ${name.padEnd(52)} | ${r.p50.toFixed(1).padStart(8)} | ${r.p99.toFixed(1).padStart(8)} | ${r.mean.toFixed(1).padStart(8)} |`
  console.log(
    `\nguard per request vs sessions.inspect over HTTP (${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, node ${process.version})\n`,
  )
  console.log(
    `| ${'path'.padEnd(52)} | ${'p50 µs'.padStart(8)} | ${'p99 µs'.padStart(8)} | ${'mean µs'.padStart(8)} |`,
  )
  console.log(`| ${'-'.repeat(52)} | ${'-'.repeat(8)} | ${'-'.repeat(8)} | ${'-'.repeat(8)} |`)
  console.log(row(`(a) guard, token seen before (${ITERATIONS} checks)`, a))
  console.log(row('(b) guard, verifyToken every time (jwtKey)', b))
  console.log(row(`(c) sessions.inspect over HTTP (${HTTP_ITERATIONS} calls)`, c))
  console.log(
    `\nrequests to ActAs during (a) and (b): ${network}; (c)/(a) p50 ${(c.p50 / a.p50).toFixed(0)}×, (c)/(b) p50 ${(c.p50 / b.p50).toFixed(1)}×; target (a) p50 ≤ 100 µs: ${a.p50 <= 100 ? 'met' : 'NOT met'}`,
  )
} finally {
  await stack.close()
}
