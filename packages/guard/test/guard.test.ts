// The guard against the real stack: the local Clerk-compatible server, the API listening on a
// free loopback port (in this process), real sign-ins, real M2M tokens. The guard talks to the
// API over HTTP through the typed client; its fetch can be cut (an outage) and counts requests.
import { createActAsClient } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import { startStack } from '@actas/api/testing'
import type { SignedIn, Stack } from '@actas/api/testing'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createGuard, guardFetch, guardNodeRequest } from '../src/index.js'
import type { Guard, GuardOptions, GuardVerdict } from '../src/index.js'
import { actasGuard } from '../src/fastify.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient
let apiUrl = ''
let machineToken = ''
let customerCursor = 0
const guards: Guard[] = []

/** ActAs as the guard sees it: real HTTP, which a test may cut, with a count of requests. */
const link = { down: false, requests: 0 }
const linkFetch: typeof fetch = (input, init) => {
  link.requests++
  if (link.down) return Promise.reject(new TypeError('fetch failed (ActAs unreachable)'))
  return fetch(input, init)
}

function guardWith(options: Partial<GuardOptions> = {}): Guard {
  const guard = createGuard({
    clerk: { jwtKey: stack.clerk.jwtPublicKeyPem, authorizedParties: ['http://localhost:5173'] },
    actas: createActAsClient({
      url: apiUrl,
      getToken: () => machineToken,
      fetch: linkFetch,
      retries: 0,
    }),
    revokedRefreshMs: 60_000, // the tests poll by hand (refreshRevoked)
    trail: { flushMs: 60_000 },
    logger: { warn: () => undefined },
    ...options,
  })
  guards.push(guard)
  return guard
}

async function impersonate(mode: 'full' | 'read_only' = 'full') {
  const user = stack.customers()[customerCursor++]
  if (!user) throw new Error('out of customers')
  const started = await api.impersonation.start.mutate({
    userId: user.id,
    reason: 'Customer cannot see last month invoices',
    mode,
  })
  const session = await stack.signInWithTicket(started.ticket)
  await stack
    .client(() => session.token())
    .impersonation.signedIn.mutate({ sessionToken: await session.token() })
  return { id: started.impersonationId, user, session }
}

beforeAll(async () => {
  stack = await startStack({
    env: (clerk) => {
      const actas = clerk.machines.find((m) => m.name === 'actas-api')!.id
      const helpdesk = clerk.machines.find((m) => m.name === 'helpdesk')!.id
      return {
        RATE_LIMIT_START_PER_MINUTE: '1000',
        MACHINE_PERMISSIONS: JSON.stringify({
          [actas]: ['sessions.revoked', 'impersonation.get'],
          [helpdesk]: ['impersonation.actions'],
        }),
      }
    },
  })
  apiUrl = await stack.listen()
  admin = await stack.signIn('admin')
  api = stack.client(() => admin.token())
  machineToken = (await stack.m2mToken('helpdesk')).token
}, 60_000)

afterAll(async () => {
  for (const guard of guards) await guard.close()
  await stack?.close()
})

describe('check', () => {
  it('describes an ordinary session and an impersonated one, from the token alone', async () => {
    const guard = guardWith()
    await guard.start()
    const plain = await guard.check(await admin.token())
    expect(plain).toMatchObject({
      ok: true,
      verdict: { userId: admin.userId, impersonated: false, actor: null, mode: null },
    })
    const { id, user, session } = await impersonate()
    const before = link.requests
    const checked = await guard.check(await session.token())
    expect(checked).toEqual({
      ok: true,
      verdict: {
        userId: user.id,
        sessionId: session.sessionId,
        impersonated: true,
        actor: {
          userId: stack.account('admin').userId,
          reason: 'Customer cannot see last month invoices',
        },
        impersonationId: id,
        mode: 'full',
        revoked: false,
      },
    })
    // Verified with the jwtKey: nothing asked of ActAs.
    expect(link.requests).toBe(before)
  })

  it("reads a read-only impersonation's mode from act.mode", async () => {
    const guard = guardWith()
    await guard.start()
    const { session } = await impersonate('read_only')
    const checked = await guard.check(await session.token())
    expect(checked).toMatchObject({ ok: true, verdict: { impersonated: true, mode: 'read_only' } })
    expect(checked.ok && guard.decide(checked.verdict, 'GET')).toBeNull()
    expect(checked.ok && guard.decide(checked.verdict, 'POST')).toMatchObject({ status: 403 })
  })

  it('refuses forged, foreign and missing tokens', async () => {
    const guard = guardWith()
    const token = await admin.token()
    const [h, p] = token.split('.')
    expect(await guard.check(`${h}.${p}.AAAA`)).toEqual({ ok: false, reason: 'invalid' })
    expect(await guard.check(null)).toEqual({ ok: false, reason: 'missing' })
    const foreign = await stack.signIn('admin', { origin: 'https://evil.example.com' })
    expect(await guard.check(await foreign.token())).toEqual({ ok: false, reason: 'invalid' })
  })

  it('without a jwtKey, verifies with the JWKS it fetched once', async () => {
    const guard = guardWith({
      clerk: {
        secretKey: stack.clerk.secretKey,
        apiUrl: stack.clerk.url,
        authorizedParties: ['http://localhost:5173'],
      },
    })
    const before = stack.clerk.requests.snapshot().routes['GET /v1/jwks'] ?? 0
    for (let i = 0; i < 3; i++) {
      const signedIn = await stack.signIn('agent')
      expect(await guard.check(await signedIn.token())).toMatchObject({ ok: true })
    }
    const after = stack.clerk.requests.snapshot().routes['GET /v1/jwks'] ?? 0
    expect(after - before).toBeLessThanOrEqual(1)
  })
})

describe('the kill switch', () => {
  it('an ended impersonation is refused (401) once the guard has polled sessions.revoked', async () => {
    const guard = guardWith()
    await guard.start()
    const { id, session } = await impersonate()
    const token = await session.token()
    const live = await guard.check(token)
    expect(live.ok && guard.decide(live.verdict, 'GET')).toBeNull()
    await api.impersonation.end.mutate({ impersonationId: id, reason: 'Wrong customer opened' })
    await guard.refreshRevoked()
    const ended = await guard.check(token) // the same, still valid JWT
    expect(ended).toMatchObject({ ok: true, verdict: { revoked: true } })
    expect(ended.ok && guard.decide(ended.verdict, 'GET')).toMatchObject({
      status: 401,
      body: { error: { code: 'IMPERSONATION_ENDED' } },
    })
  })

  it('learns an end by push (GET /v1/sessions/ended) without waiting for its poll', async () => {
    const actas = (await stack.m2mToken('actas-api')).token
    const guard = guardWith({
      revokedPush: { url: new URL('/v1/sessions/ended', apiUrl).href, getToken: () => actas },
    })
    await guard.start()
    const { id, session } = await impersonate()
    const token = await session.token()
    // Connected, and its first poll done: from here on the poll (every 60 s here) is silent.
    for (let i = 0; i < 100 && !guard.stats().revoked.pushConnected; i++)
      await new Promise((resolve) => setTimeout(resolve, 100))
    expect(guard.stats().revoked.pushConnected).toBe(true)
    await guard.refreshRevoked()
    const polls = link.requests
    await api.impersonation.end.mutate({ impersonationId: id, reason: 'Ended, pushed at once' })
    let checked = await guard.check(token)
    for (let i = 0; i < 200 && checked.ok && !checked.verdict.revoked; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      checked = await guard.check(token)
    }
    expect(checked).toMatchObject({ ok: true, verdict: { revoked: true } })
    expect(link.requests).toBe(polls)
    expect(guard.stats().revoked.pushed).toBeGreaterThan(0)
  })

  it('a guard started later learns the ends of the last two hours', async () => {
    const { id, session } = await impersonate()
    await api.impersonation.end.mutate({ impersonationId: id, reason: 'Ended before the start' })
    const guard = guardWith()
    await guard.start()
    const checked = await guard.check(await session.token().catch(() => ''))
    // Clerk may refuse a new token for the revoked session: either way it is not let in.
    if (checked.ok) expect(checked.verdict.revoked).toBe(true)
    expect(guard.stats().revoked.size).toBeGreaterThan(0)
  })

  it('while ActAs is unreachable too long, impersonated sessions wait (503); others are untouched', async () => {
    const guard = guardWith({ failClosedAfterMs: 1 })
    link.down = true
    try {
      await guard.start()
      const { session } = await impersonate()
      const imp = await guard.check(await session.token())
      expect(imp.ok && guard.decide(imp.verdict, 'GET')).toMatchObject({
        status: 503,
        body: { error: { code: 'REVOCATIONS_STALE' } },
      })
      const plain = await guard.check(await admin.token())
      expect(plain.ok && guard.decide(plain.verdict, 'POST')).toBeNull()
      expect(guard.stats().revoked.failures).toBeGreaterThan(0)
    } finally {
      link.down = false
    }
  })
})

describe('route rules', () => {
  const verdict = (mode: 'full' | 'read_only' | null): GuardVerdict => ({
    userId: 'user_1',
    sessionId: 'sess_1',
    impersonated: mode !== null,
    actor: mode ? { userId: 'user_staff', reason: 'Support ticket 42' } : null,
    impersonationId: mode ? '00000000-0000-4000-8000-000000000000' : null,
    mode,
    revoked: false,
  })

  it('blockWhileImpersonated refuses impersonated sessions only, with a typed 403', async () => {
    const guard = guardWith()
    await guard.start()
    expect(guard.decide(verdict(null), 'POST', { blockWhileImpersonated: true })).toBeNull()
    expect(guard.decide(verdict('full'), 'POST', { blockWhileImpersonated: true })).toMatchObject({
      status: 403,
      body: { error: { code: 'BLOCKED_WHILE_IMPERSONATED' } },
    })
    expect(guard.decide(verdict('full'), 'POST')).toBeNull()
  })

  it('a read-only impersonation may use only safe methods', async () => {
    const guard = guardWith()
    await guard.start()
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      expect(guard.decide(verdict('read_only'), method)).toBeNull()
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'])
      expect(guard.decide(verdict('read_only'), method)).toMatchObject({
        status: 403,
        body: { error: { code: 'READ_ONLY_IMPERSONATION' } },
      })
  })
})

describe('the action trail', () => {
  it('batches what an impersonated session did into the impersonation, and nothing else', async () => {
    const guard = guardWith()
    await guard.start()
    const { id, session } = await impersonate()
    const checked = await guard.check(await session.token())
    if (!checked.ok) throw new Error('the impersonated token did not verify')
    const plain = await guard.check(await admin.token())
    const before = link.requests
    guard.record(checked.verdict, { method: 'GET', route: '/orders', status: 200 })
    guard.record(checked.verdict, { method: 'POST', route: '/orders', status: 201 })
    guard.record(plain.ok ? plain.verdict : null, { method: 'GET', route: '/orders', status: 200 })
    // A path with a value is never sent (it could carry data about the customer).
    guard.record(checked.verdict, { method: 'GET', route: '/orders/8812', status: 200 })
    expect(link.requests).toBe(before) // no call per request
    expect(guard.stats().trail).toMatchObject({ buffered: 2, invalid: 1 })
    await guard.flushTrail()
    expect(link.requests).toBe(before + 1) // one batch
    const got = await api.impersonation.get.query({ impersonationId: id })
    expect(got.actions.map((a) => `${a.method} ${a.route} ${a.status}`)).toEqual([
      'GET /orders 200',
      'POST /orders 201',
    ])
    expect(guard.stats().trail).toMatchObject({ buffered: 0, sent: 2 })
  })

  it('an ActAs outage loses nothing the buffer holds; what does not fit is dropped and counted', async () => {
    const guard = guardWith({ trail: { flushMs: 60_000, maxBuffer: 5 } })
    await guard.start()
    const { id, session } = await impersonate()
    const checked = await guard.check(await session.token())
    if (!checked.ok) throw new Error('the impersonated token did not verify')
    link.down = true
    try {
      for (let i = 0; i < 7; i++)
        guard.record(checked.verdict, { method: 'GET', route: '/orders', status: 200 })
      await guard.flushTrail()
      expect(guard.stats().trail).toMatchObject({ buffered: 5, dropped: 2, sent: 0 })
      expect(guard.stats().trail!.failures).toBeGreaterThan(0)
    } finally {
      link.down = false
    }
    // Back: the retry (after its backoff) sends all five.
    await guard.close()
    expect(guard.stats().trail).toMatchObject({ buffered: 0, sent: 5, dropped: 2 })
    const got = await api.impersonation.get.query({ impersonationId: id })
    expect(got.actionsTotal).toBe(5)
  })
})

describe('the Fastify plugin', () => {
  it('decorates the request, refuses blocked routes, and records route patterns', async () => {
    const guard = guardWith()
    const app = Fastify()
    await app.register(actasGuard, { guard })
    app.get('/orders/:id', async (req) => ({ verdict: req.actas }))
    app.post(
      '/account/password',
      { config: { actas: { blockWhileImpersonated: true } } },
      async () => ({ changed: true }),
    )
    await app.ready()
    try {
      const { id, session } = await impersonate()
      const auth = { authorization: `Bearer ${await session.token()}` }
      const order = await app.inject({ method: 'GET', url: '/orders/8812?x=secret', headers: auth })
      expect(order.statusCode).toBe(200)
      expect(order.json<{ verdict: GuardVerdict }>().verdict).toMatchObject({
        impersonated: true,
        impersonationId: id,
      })
      const password = await app.inject({ method: 'POST', url: '/account/password', headers: auth })
      expect(password.statusCode).toBe(403)
      expect(password.json()).toMatchObject({ error: { code: 'BLOCKED_WHILE_IMPERSONATED' } })
      const staff = await app.inject({
        method: 'POST',
        url: '/account/password',
        headers: { authorization: `Bearer ${await admin.token()}` },
      })
      expect(staff.statusCode).toBe(200)
      await guard.flushTrail()
      const got = await api.impersonation.get.query({ impersonationId: id })
      expect(got.actions.map((a) => `${a.method} ${a.route} ${a.status}`)).toEqual([
        'GET /orders/:id 200',
        'POST /account/password 403',
      ])
    } finally {
      await app.close()
    }
  })
})

describe('plain Node and fetch handlers', () => {
  it('guardFetch refuses blocked routes, hands the verdict over, and records the route pattern', async () => {
    const guard = guardWith()
    await guard.start()
    const { id, session } = await impersonate()
    const handler = guardFetch(
      guard,
      { route: '/account/email', blockWhileImpersonated: true, requireSession: true },
      () => Response.json({ changed: true }),
    )
    const orders = guardFetch(guard, { route: '/orders/:id', requireSession: true }, (_req, v) =>
      Response.json({ impersonated: v?.impersonated }),
    )
    const auth = { authorization: `Bearer ${await session.token()}` }
    const blocked = await handler(
      new Request('http://app.test/account/email', { method: 'POST', headers: auth }),
    )
    expect(blocked.status).toBe(403)
    expect(await blocked.json()).toMatchObject({ error: { code: 'BLOCKED_WHILE_IMPERSONATED' } })
    const order = await orders(new Request('http://app.test/orders/8812?x=1', { headers: auth }))
    expect(await order.json()).toEqual({ impersonated: true })
    const anonymous = await orders(new Request('http://app.test/orders/1'))
    expect(anonymous.status).toBe(401)
    await guard.flushTrail()
    const got = await api.impersonation.get.query({ impersonationId: id })
    expect(got.actions.map((a) => `${a.method} ${a.route} ${a.status}`)).toEqual([
      'POST /account/email 403',
      'GET /orders/:id 200',
    ])
  })

  it('guardNodeRequest answers the refusal itself on a node:http server', async () => {
    const guard = guardWith()
    await guard.start()
    const server = createServer((req, res) => {
      void guardNodeRequest(guard, req, res, {
        route: '/account/password',
        blockWhileImpersonated: true,
      }).then((ok) => {
        if (ok) res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/account/password`
      const { session } = await impersonate()
      const refused = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${await session.token()}` },
      })
      expect(refused.status).toBe(403)
      expect(await refused.json()).toMatchObject({ error: { code: 'BLOCKED_WHILE_IMPERSONATED' } })
      const self = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${await admin.token()}` },
      })
      expect(self.status).toBe(204)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
