// The customer app against the running stack: the local Clerk-compatible server and the ActAs API
// (buildApp, listening on a free loopback port), both in this process; the customer app's guard
// talks to ActAs over real HTTP with a real M2M token, exactly as in production. The API counts
// the requests it receives (an onRequest hook), so "no call to ActAs per request" is measured
// where it matters.
import type { AddressInfo } from 'node:net'
import { buildApp, createDeps, createLogger, loadConfig, localClerkEnvironment } from '@actas/api'
import type { AppDeps } from '@actas/api'
import { customersAnyoneMayImpersonate, openTestDatabase } from '@actas/api/testing'
import { createFapiClient, startClerkLocal, SUPPORT_ORG_SLUG } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { createActAsClient } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import { createGuard } from '@actas/guard'
import type { Guard } from '@actas/guard'
import type { FastifyInstance } from 'fastify'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCustomerApp } from '../src/app.js'

const ORIGIN = 'http://localhost:5173'
const WEBHOOK_SECRET = `whsec_${Buffer.from('customer-app-test-secret-0123456789').toString('base64')}`
/** Stands for ActAs's origin in the guard's client until the API listens (see beforeAll). */
const ACTAS = 'http://actas.invalid'
/** The guard's poll of sessions.revoked. */
const REFRESH_MS = 1000
/** The guard's action trail is sent this often (the test's setting). */
const TRAIL_FLUSH_MS = 500

let clerk: ClerkLocal
let deps: AppDeps
let database: Awaited<ReturnType<typeof openTestDatabase>> | undefined
let api: FastifyInstance
let apiUrl = ''
let staff: ActAsClient
let guard: Guard
let customerApp: FastifyInstance
let customerCursor = 0
/** Requests the ActAs API received, by tRPC path (`sessions.revoked`, …). */
const received = new Map<string, number>()

interface Session {
  userId: string
  sessionId: string
  token(): Promise<string>
}

async function signInAdmin(): Promise<Session> {
  const fapi = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: ORIGIN })
  const admin = clerk.accounts.find((a) => a.role === 'admin')!
  const signedIn = await fapi.signInWithPassword(admin.identifier, admin.password)
  const support = [...clerk.state.organizations.values()].find((o) => o.slug === SUPPORT_ORG_SLUG)!
  const active = await fapi.touch(signedIn.sessionId, { activeOrganizationId: support.id })
  return { ...active, token: () => fapi.getToken(active.sessionId) }
}

/** Staff starts an impersonation; the console signs in with the ticket and reports it. */
async function impersonate(
  reason = 'Customer cannot see last month invoices',
  mode: 'full' | 'read_only' = 'full',
) {
  const user = customersAnyoneMayImpersonate(clerk)[customerCursor++]
  if (!user) throw new Error('out of customers')
  const started = await staff.impersonation.start.mutate({ userId: user.id, reason, mode })
  const fapi = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: ORIGIN })
  const signedIn = await fapi.signInWithTicket(started.ticket)
  const session: Session = { ...signedIn, token: () => fapi.getToken(signedIn.sessionId) }
  const asCustomer = createActAsClient({ url: apiUrl, getToken: () => session.token() })
  await asCustomer.impersonation.signedIn.mutate({ sessionToken: await session.token() })
  return { id: started.impersonationId, user, session }
}

async function call(session: Session, method: 'GET' | 'POST', url: string, payload?: object) {
  const res = await customerApp.inject({
    method,
    url,
    headers: { authorization: `Bearer ${await session.token()}` },
    ...(payload ? { payload } : {}),
  })
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as unknown) : null }
}

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  clerk = await startClerkLocal({ port: 0, users: 60, seed: 1 })
  const actas = clerk.machines.find((m) => m.name === 'actas-api')!
  // The customer app's machine: `helpdesk` (scoped to ActAs), granted the trail's write.
  const machine = clerk.machines.find((m) => m.name === 'helpdesk')!
  const m2m = await fetch(`${clerk.url}/m2m_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${machine.secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ seconds_until_expiration: 3600 }),
  })
  const { token } = (await m2m.json()) as { token: string }

  // The customer app listens first: ActAs's config names its webhook endpoint. Its guard's
  // client is pointed at the API once the API listens (ACTAS below stands for its origin).
  let apiOrigin = ''
  guard = createGuard({
    clerk: { jwtKey: clerk.jwtPublicKeyPem, authorizedParties: [ORIGIN] },
    actas: createActAsClient({
      url: `${ACTAS}/trpc`,
      getToken: () => token,
      fetch: (input, init) =>
        fetch(String(input instanceof Request ? input.url : input).replace(ACTAS, apiOrigin), init),
    }),
    revokedRefreshMs: REFRESH_MS,
    trail: { flushMs: TRAIL_FLUSH_MS },
    logger: { warn: () => undefined },
  })
  customerApp = await buildCustomerApp({ guard, webhookSecret: WEBHOOK_SECRET })
  const customerUrl = await customerApp.listen({ port: 0, host: '127.0.0.1' })

  const config = loadConfig({
    ...localClerkEnvironment(clerk, ORIGIN),
    CLERK_MACHINE_ID: actas.id,
    MACHINE_PERMISSIONS: JSON.stringify({
      [actas.id]: ['sessions.revoked', 'impersonation.get'],
      [machine.id]: ['impersonation.actions'],
    }),
    WEBHOOK_ENDPOINTS: JSON.stringify([
      { url: `${customerUrl}/webhooks/actas`, secret: WEBHOOK_SECRET },
    ]),
    WEBHOOK_DISPATCH_INTERVAL_MS: '200',
    RATE_LIMIT_START_PER_MINUTE: '1000',
    IMPERSONATION_QUOTA: '1000',
    RECONCILER_INTERVAL_SECONDS: '0',
  })
  // The audit log on PGlite loaded from the run's migrated template (the API suite's global set-up).
  database = await openTestDatabase()
  deps = await createDeps(config, { logger: createLogger('silent'), database })
  api = await buildApp(deps)
  api.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!.replace(/^\/trpc\//, '')
    received.set(path, (received.get(path) ?? 0) + 1)
  })
  await api.listen({ port: 0, host: '127.0.0.1' })
  apiOrigin = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`
  apiUrl = `${apiOrigin}/trpc`
  await guard.refreshRevoked() // the guard's first poll ran before the API listened

  const admin = await signInAdmin()
  staff = createActAsClient({ url: apiUrl, getToken: () => admin.token() })
}, 120_000)

afterAll(async () => {
  await customerApp?.close()
  await api?.close()
  await deps?.close()
  await database?.close()
  await clerk?.stop()
})

/** Waits (bounded) until `probe` answers something truthy. */
async function eventually<T>(
  probe: () => Promise<T | null>,
  what: string,
  tries = 100,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe()
    if (value !== null) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`never happened: ${what}`)
}

describe('a full impersonation', () => {
  it('can read and create orders but cannot change the password', async () => {
    const { session } = await impersonate()
    expect(await call(session, 'GET', '/orders')).toEqual({ status: 200, body: { items: [] } })
    const created = await call(session, 'POST', '/orders', { item: 'Invoice reprint', quantity: 1 })
    expect(created).toMatchObject({ status: 201, body: { item: 'Invoice reprint', quantity: 1 } })
    expect(await call(session, 'GET', '/orders')).toMatchObject({
      status: 200,
      body: { items: [{ item: 'Invoice reprint' }] },
    })
    const password = await call(session, 'POST', '/account/password', {
      password: 'a-new-password-from-support',
    })
    expect(password).toEqual({
      status: 403,
      body: {
        error: {
          code: 'BLOCKED_WHILE_IMPERSONATED',
          message:
            'Support staff acting as this user may not do this; only the user themselves can.',
        },
      },
    })
    // The block is for impersonated sessions only: a user acting as themselves may.
    const self = await signInAdmin()
    expect(
      (await call(self, 'POST', '/account/password', { password: 'my-own-new-password' })).status,
    ).toBe(204)
  })

  it("its actions appear on the impersonation's timeline in ActAs, without query strings", async () => {
    const { id, session } = await impersonate()
    await call(session, 'GET', '/orders?page=2&email=someone@example.com')
    await call(session, 'POST', '/orders', { item: 'Refund check', quantity: 2 })
    await call(session, 'POST', '/account/password', { password: 'a-new-password-from-support' })
    // The guard sends its batch on its own (every 500 ms here).
    const got = await eventually(async () => {
      const record = await staff.impersonation.get.query({ impersonationId: id })
      return record.actions.length >= 3 ? record : null
    }, 'the batch reached ActAs')
    expect(got.actions.map((a) => `${a.method} ${a.route} ${a.status}`)).toEqual([
      'GET /orders 200',
      'POST /orders 201',
      'POST /account/password 403',
    ])
    expect(JSON.stringify(got.actions)).not.toContain('someone@example.com')
  })
})

describe('a read-only impersonation', () => {
  it('can read orders but not create one (act.mode travels in the session token)', async () => {
    const { id, session } = await impersonate('Looking at the order history only', 'read_only')
    expect(await call(session, 'GET', '/orders')).toEqual({ status: 200, body: { items: [] } })
    const created = await call(session, 'POST', '/orders', {
      item: 'Should not exist',
      quantity: 1,
    })
    expect(created).toMatchObject({
      status: 403,
      body: { error: { code: 'READ_ONLY_IMPERSONATION' } },
    })
    expect(await call(session, 'GET', '/orders')).toEqual({ status: 200, body: { items: [] } })
    // The refused attempt is on the timeline too.
    const got = await eventually(async () => {
      const record = await staff.impersonation.get.query({ impersonationId: id })
      return record.actions.length >= 3 ? record : null
    }, 'the batch reached ActAs')
    expect(got.mode).toBe('read_only')
    expect(got.actions.map((a) => `${a.method} ${a.route} ${a.status}`)).toEqual([
      'GET /orders 200',
      'POST /orders 403',
      'GET /orders 200',
    ])
  })
})

describe('the kill switch', () => {
  it('an ended impersonation is refused at the next poll, with no call to ActAs per request', async () => {
    const { id, session } = await impersonate()
    expect((await call(session, 'GET', '/orders')).status).toBe(200)
    const token = await session.token() // still a valid JWT for up to 60 s after the end
    const ask = () =>
      customerApp.inject({
        method: 'GET',
        url: '/orders',
        headers: { authorization: `Bearer ${token}` },
      })

    // A poll that reached ActAs while the end was being written may read after it: it counts
    // for "a poll learnt it", not for "at most two polls after the end".
    const pollsBeforeEnd = received.get('sessions.revoked') ?? 0
    await staff.impersonation.end.mutate({ impersonationId: id, reason: 'Wrong customer opened' })
    const endedAt = Date.now()
    const before = new Map(received)
    const pollsBefore = received.get('sessions.revoked') ?? 0
    let requests = 0
    let refused: Awaited<ReturnType<typeof ask>> | null = null
    for (let i = 0; i < 400 && !refused; i++) {
      const res = await ask()
      requests++
      if (res.statusCode === 401) refused = res
      else await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const elapsed = Date.now() - endedAt
    expect(refused?.json()).toMatchObject({ error: { code: 'IMPERSONATION_ENDED' } })
    // At most two polls started after the end (one a second): the refusal came from the first
    // poll that read after the end, and nothing else reached ActAs meanwhile.
    const polls = received.get('sessions.revoked') ?? 0
    expect(polls - pollsBeforeEnd).toBeGreaterThanOrEqual(1)
    expect(polls - pollsBefore).toBeLessThanOrEqual(2)
    const others = [...received].filter(
      ([path, n]) =>
        path !== 'sessions.revoked' && path !== 'impersonation.actions' && n !== before.get(path),
    )
    expect(others).toEqual([])
    // The action trail goes on its own clock (every TRAIL_FLUSH_MS), never one call per request
    // (a count against `requests` was flaky: a refusal at the second request leaves two requests
    // beside one poll and one flush).
    const flushes =
      (received.get('impersonation.actions') ?? 0) - (before.get('impersonation.actions') ?? 0)
    expect(flushes).toBeLessThanOrEqual(Math.ceil(elapsed / TRAIL_FLUSH_MS) + 1)
    console.info(
      `kill switch → refused by the guard after ${elapsed} ms, ${requests} requests, ${polls} poll(s) of sessions.revoked (every ${REFRESH_MS} ms)`,
    )
  })
})

describe("ActAs's webhooks", () => {
  it('each one arrives signed, verifies, and the customer sees who accessed their account and why', async () => {
    const { id, session } = await impersonate('Helping with the address change')
    // ActAs sends impersonation.started and .signed_in to this app (WEBHOOK_ENDPOINTS); the
    // receiver makes a notice only from a message that verifies.
    const notices = await eventually(async () => {
      const res = await call(session, 'GET', '/notices')
      const items = (res.body as { items: Array<{ impersonationId: string; text: string }> }).items
      return items.length > 0 ? items : null
    }, 'the webhook reached the customer app')
    expect(notices).toEqual([
      expect.objectContaining({
        impersonationId: id,
        text: 'Support (ada@…) accessed your account: Helping with the address change',
      }),
    ])
    // ActAs's outbox says both messages were delivered.
    const deliveries = await eventually(async () => {
      const page = await staff.webhooks.deliveries.query({})
      const mine = page.items.filter((d) => d.impersonationId === id && d.status === 'delivered')
      return mine.length >= 2 ? mine : null
    }, 'both deliveries recorded as delivered')
    expect(deliveries.map((d) => d.type).sort()).toEqual([
      'impersonation.signed_in',
      'impersonation.started',
    ])
  })
})

/**
 * The receiver alone, with payloads signed here by the standardwebhooks library: a second
 * instance of the app that ActAs does not send to, so only these messages reach it.
 */
describe('the webhook receiver, with payloads signed by the standardwebhooks library', () => {
  let receiver: FastifyInstance
  beforeAll(async () => {
    const own = createGuard({
      clerk: { jwtKey: clerk.jwtPublicKeyPem, authorizedParties: [ORIGIN] },
      actas: { url: apiUrl, getToken: () => 'unused' },
      trail: false,
      failClosedAfterMs: 0,
      logger: { warn: () => undefined },
    })
    receiver = await buildCustomerApp({ guard: own, webhookSecret: WEBHOOK_SECRET })
    await receiver.ready()
  })
  afterAll(async () => {
    await receiver?.close()
  })
  const read = async (session: Session) => {
    const res = await receiver.inject({
      method: 'GET',
      url: '/notices',
      headers: { authorization: `Bearer ${await session.token()}` },
    })
    return res.json<{ items: Array<{ impersonationId: string; text: string }> }>().items
  }

  const sign = (id: string, body: string, secret = WEBHOOK_SECRET) => {
    const at = new Date()
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, body),
    }
  }

  it('a signed impersonation.started becomes a notice for the customer, once', async () => {
    const { id, user } = await impersonate('Checking the failed card payment')
    const now = new Date().toISOString()
    const body = JSON.stringify({
      type: 'impersonation.started',
      timestamp: now,
      data: {
        impersonationId: id,
        actor: { id: 'user_staff', email: 'ada@support.actas.test' },
        user: { id: user.id },
        reason: 'Checking the failed card payment',
        seq: 1,
        occurredAt: now,
        ticketExpiresAt: null,
        sessionExpiresAt: null,
      },
    })
    const res = await receiver.inject({
      method: 'POST',
      url: '/webhooks/actas',
      headers: sign('msg_started_1', body),
      payload: body,
    })
    expect(res.statusCode).toBe(200)
    // A retry of the same delivery, and the signed_in event of the same impersonation: no second notice.
    await receiver.inject({
      method: 'POST',
      url: '/webhooks/actas',
      headers: sign('msg_started_1', body),
      payload: body,
    })
    const signedInBody = body
      .replace('impersonation.started', 'impersonation.signed_in')
      .replace('"ticketExpiresAt":null', '"clerkSessionId":null')
    await receiver.inject({
      method: 'POST',
      url: '/webhooks/actas',
      headers: sign('msg_signed_in_1', signedInBody),
      payload: signedInBody,
    })
    // The customer reads their notices (here through a session of their own account).
    const { session } = await impersonateUser(user.id)
    expect(await read(session)).toEqual([
      expect.objectContaining({
        impersonationId: id,
        text: 'Support (ada@…) accessed your account: Checking the failed card payment',
      }),
    ])
  })

  it('refuses a payload that does not verify, and makes no notice', async () => {
    const { id, user } = await impersonate()
    const body = JSON.stringify({
      type: 'impersonation.started',
      data: { impersonationId: id, user: { id: user.id }, reason: 'Forged by someone' },
    })
    const forged = sign(
      'msg_forged_1',
      body,
      `whsec_${Buffer.from('another-secret-entirely-00').toString('base64')}`,
    )
    const res = await receiver.inject({
      method: 'POST',
      url: '/webhooks/actas',
      headers: forged,
      payload: body,
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: { code: 'INVALID_SIGNATURE' } })
    const tampered = await receiver.inject({
      method: 'POST',
      url: '/webhooks/actas',
      headers: sign('msg_tampered_1', body),
      payload: body.replace('Forged by someone', 'Tampered in transit'),
    })
    expect(tampered.statusCode).toBe(400)
    const { session } = await impersonateUser(user.id)
    expect(await read(session)).toEqual([])
  })
})

/** A session of a given customer (customers have no password here: an impersonation's session). */
async function impersonateUser(userId: string) {
  const started = await staff.impersonation.start.mutate({
    userId,
    reason: 'Reading the notices of this account',
  })
  const fapi = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: ORIGIN })
  const signedIn = await fapi.signInWithTicket(started.ticket)
  const session: Session = { ...signedIn, token: () => fapi.getToken(signedIn.sessionId) }
  return { session }
}
