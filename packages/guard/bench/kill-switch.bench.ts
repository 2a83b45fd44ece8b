// Benchmark (prints figures; not a test): how fast a kill switch reaches the guard and the
// host banner. One process: the local Clerk server, the API listening on loopback, and per run
// one impersonation that a staff member ends with `impersonation.end`. Timed from the moment the
// end is sent, and from its answer, until:
//   (push)   each of two guards following GET /v1/sessions/ended refuses the session's token;
//   (poll)   a guard that only polls sessions.revoked (every 1,000 ms, the backstop) refuses it;
//   (banner) the impersonated session's own stream (what a browser banner follows) says `ended`.
// The guards are checked every 2 ms. Target: push p99 ≤ 500 ms once ActAs has ended it (from the
// end's answer; from the end sent adds the end's own work: its audit event, Clerk's revocation).
// BENCH_KILL_RUNS runs (default 30).
import os from 'node:os'
import { startStack } from '@actas/api/testing'
import { createActAsClient } from '@actas/contracts/client'
import { SESSIONS_ENDED_PATH } from '@actas/contracts'
import { createGuard } from '../src/index.js'
import type { Guard } from '../src/index.js'

const RUNS = Number(process.env['BENCH_KILL_RUNS'] ?? 30)

const stack = await startStack({
  env: (clerk) => ({
    RATE_LIMIT_START_PER_MINUTE: '100000',
    MACHINE_PERMISSIONS: JSON.stringify({
      [clerk.machines.find((m) => m.name === 'actas-api')!.id]: ['sessions.revoked'],
    }),
  }),
})
const guards: Guard[] = []
try {
  const url = await stack.listen()
  const streamUrl = new URL(SESSIONS_ENDED_PATH, url).href
  const admin = await stack.signIn('admin')
  const staff = stack.client(() => admin.token())
  const machine = (await stack.m2mToken('actas-api', { secondsUntilExpiration: 3600 })).token
  const client = createActAsClient({ url, getToken: () => machine })
  const make = (push: boolean): Guard =>
    createGuard({
      clerk: { jwtKey: stack.clerk.jwtPublicKeyPem, authorizedParties: ['http://localhost:5173'] },
      actas: client,
      revokedRefreshMs: 1_000,
      revokedPush: push ? { url: streamUrl, getToken: () => machine } : false,
      trail: false,
      logger: { warn: () => undefined },
    })
  const pushed = [make(true), make(true)]
  const polled = make(false)
  guards.push(...pushed, polled)
  await Promise.all(guards.map((g) => g.start()))
  for (let i = 0; i < 100 && !pushed.every((g) => g.stats().revoked.pushConnected); i++)
    await new Promise((resolve) => setTimeout(resolve, 50))

  /** The impersonated session's own stream: resolves at its `ended` event (ms, performance.now). */
  const banner = async (
    token: string,
  ): Promise<{ opened: Promise<void>; ended: Promise<number> }> => {
    const res = await fetch(streamUrl, { headers: { authorization: `Bearer ${token}` } })
    if (!res.ok || !res.body) throw new Error(`the stream answered ${res.status}`)
    let opened!: () => void
    const openedP = new Promise<void>((resolve) => (opened = resolve))
    const ended = (async () => {
      const decoder = new TextDecoder()
      let buffer = ''
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        if (buffer.includes('event: open')) opened()
        if (buffer.includes('event: ended')) return performance.now()
      }
      throw new Error('the stream closed without an end')
    })()
    return { opened: openedP, ended }
  }

  const fromSend: Record<string, number[]> = { push: [], poll: [], banner: [] }
  const fromAnswer: Record<string, number[]> = { push: [], poll: [], banner: [] }
  const customers = stack.customers()
  for (let run = 0; run < RUNS; run++) {
    const user = customers[run % customers.length]!
    const started = await staff.impersonation.start.mutate({
      userId: user.id,
      reason: 'Benchmark of the kill switch',
    })
    const session = await stack.signInWithTicket(started.ticket)
    const token = await session.token()
    await stack.client(() => session.token()).impersonation.signedIn.mutate({ sessionToken: token })
    const stream = await banner(token)
    await stream.opened
    const t0 = performance.now()
    let answeredAt = Number.NaN
    const ending = staff.impersonation.end
      .mutate({ impersonationId: started.impersonationId, reason: 'Benchmark kill switch' })
      .then(() => {
        answeredAt = performance.now()
      })
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
    const bannerAt = await stream.ended
    for (const guard of pushed) {
      fromSend['push']!.push(refusedAt.get(guard)! - t0)
      fromAnswer['push']!.push(refusedAt.get(guard)! - answeredAt)
    }
    fromSend['poll']!.push(refusedAt.get(polled)! - t0)
    fromAnswer['poll']!.push(refusedAt.get(polled)! - answeredAt)
    fromSend['banner']!.push(bannerAt - t0)
    fromAnswer['banner']!.push(bannerAt - answeredAt)
  }

  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b)
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!
    return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! }
  }
  console.log(
    `\nkill switch → refusal, ${RUNS} runs (${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, node ${process.version}); ms\n`,
  )
  console.log(
    '| path                                   | from the end sent: p50 / p99 / max | from its answer: p50 / p99 / max |',
  )
  console.log(
    '| -------------------------------------- | ---------------------------------- | -------------------------------- |',
  )
  const names: Record<string, string> = {
    push: '(push) guard following the stream (×2)',
    poll: '(poll) guard polling every 1,000 ms',
    banner: "(banner) the session's own stream",
  }
  for (const key of ['push', 'poll', 'banner']) {
    const a = stat(fromSend[key]!)
    const b = stat(fromAnswer[key]!)
    const f = (r: { p50: number; p99: number; max: number }) =>
      `${r.p50.toFixed(0)} / ${r.p99.toFixed(0)} / ${r.max.toFixed(0)}`
    console.log(`| ${names[key]!.padEnd(38)} | ${f(a).padStart(34)} | ${f(b).padStart(32)} |`)
  }
  const p99 = stat(fromAnswer['push']!).p99
  console.log(
    `\npush p99 from the end's answer ${p99.toFixed(0)} ms: target ≤ 500 ms ${p99 <= 500 ? 'met' : 'NOT met'}`,
  )
} finally {
  for (const guard of guards) await guard.close()
  await stack.close()
}
