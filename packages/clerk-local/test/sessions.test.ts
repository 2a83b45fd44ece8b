import { describe, expect, it } from 'vitest'
import { startClerkLocal } from '../src/index.js'
import { createFapiClient, FapiError } from '../src/testing.js'
import { assertFapi } from './openapi.js'
import type { Reply } from './support/http.js'
import { apiError, backendSdk, checkedBapi, jwtClaims, useServerOnClock } from './support/local.js'

// Sessions over the Backend API (@clerk/backend's sessions.getSessionList / getSession /
// revokeSession, and raw HTTP checked against the spec), and what they mean on the Frontend API:
// a revoked, ended or expired session mints no more tokens. Time is the server's injected clock.

const ORIGIN = 'http://localhost:5173'
const server = useServerOnClock({ users: 20 })
const { account, fapiClient, advance } = server

const bapi = (method: string, path: string, template: string): Promise<Reply> =>
  checkedBapi(server.local, method, path, template, { paginated: template === '/sessions' })

async function fapiError(promise: Promise<unknown>): Promise<FapiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(FapiError)
  return error as FapiError
}

async function verifyToken(token: string) {
  const state = await server.clerk.authenticateRequest(
    new Request('http://localhost:3000/trpc', { headers: { authorization: `Bearer ${token}` } }),
    { jwtKey: server.local.jwtPublicKeyPem, authorizedParties: [ORIGIN] },
  )
  return state
}

/** An impersonation session of the agent, acted by the admin with a rich actor payload. */
async function impersonate(options: { sessionMaxDurationInSeconds?: number } = {}) {
  const actor = {
    sub: account('admin').userId,
    impersonation_id: 'imp_0001',
    reason: 'ticket 42',
    nested: { level: 2 },
  }
  const token = await server.clerk.actorTokens.create({
    userId: account('agent').userId,
    actor,
    expiresInSeconds: 600,
    sessionMaxDurationInSeconds: options.sessionMaxDurationInSeconds ?? 1800,
  })
  const fapi = fapiClient()
  const session = await fapi.signInWithTicket(token.token!)
  return { fapi, session, actor }
}

describe('GET /v1/sessions', () => {
  it('the seed signs some customers in: every 8th has a live ordinary session', async () => {
    const customers = [...server.local.state.users.values()].filter(
      (u) => u.passwordDigest === null,
    )
    const signedIn = customers.filter((_, i) => i % 8 === 2)
    expect(signedIn).toHaveLength(3) // 20 customers
    for (const user of signedIn) {
      const { data } = await server.clerk.sessions.getSessionList({
        userId: user.id,
        status: 'active',
      })
      expect(data).toHaveLength(1)
      expect(data[0]!.actor).toBeNull()
      expect(data[0]!.createdAt).toBeGreaterThan(server.now - 3 * 86_400_000 - 60_001)
      expect(data[0]!.expireAt).toBe(data[0]!.createdAt + 7 * 86_400_000)
      expect(user.lastSignInAt).toBeGreaterThanOrEqual(data[0]!.createdAt)
      expect(user.lastActiveAt).toBeGreaterThanOrEqual(data[0]!.lastActiveAt)
      const { data: byClient } = await server.clerk.sessions.getSessionList({
        clientId: data[0]!.clientId,
      })
      expect(byClient.map((x) => x.id)).toEqual([data[0]!.id])
    }
    const others = customers.filter((_, i) => i % 8 !== 2)
    for (const user of others.slice(0, 3))
      expect((await server.clerk.sessions.getSessionList({ userId: user.id })).data).toEqual([])
  })

  it('lists a user’s sessions through getSessionList (paginated, as the SDK asks) with status and timestamps', async () => {
    const admin = account('admin')
    const fapi = fapiClient()
    const signedIn = await fapi.signInWithPassword(admin.identifier, admin.password)
    const { data, totalCount } = await server.clerk.sessions.getSessionList({
      userId: admin.userId,
    })
    const mine = data.find((s) => s.id === signedIn.sessionId)!
    expect(mine).toMatchObject({
      userId: admin.userId,
      status: 'active',
      lastActiveAt: server.now,
      expireAt: server.now + 7 * 86_400_000,
      abandonAt: server.now + 7 * 86_400_000,
    })
    expect(mine.actor).toBeNull()
    expect(totalCount).toBe(data.length)
    const byClient = await server.clerk.sessions.getSessionList({ clientId: mine.clientId })
    expect(byClient.data.map((s) => s.id)).toEqual([signedIn.sessionId])
    const active = await server.clerk.sessions.getSessionList({
      userId: admin.userId,
      status: 'active',
    })
    expect(active.data.every((s) => s.status === 'active')).toBe(true)

    // Raw: a JSON array without `paginated`, `{data,total_count}` with it; both per the spec.
    const array = await bapi('GET', `/v1/sessions?user_id=${admin.userId}&limit=1`, '/sessions')
    expect(Array.isArray(array.body)).toBe(true)
    expect(array.body as unknown[]).toHaveLength(1)
    const page = await bapi(
      'GET',
      `/v1/sessions?user_id=${admin.userId}&paginated=true&status=active`,
      '/sessions',
    )
    expect((page.body as { total_count: number }).total_count).toBeGreaterThanOrEqual(1)
  })

  it('needs user_id or client_id (422), and refuses a bad status, paging or unknown parameter', async () => {
    const missing = await apiError(server.clerk.sessions.getSessionList({}))
    expect(missing.status).toBe(422)
    expect(missing.errors[0]!.code).toBe('form_param_missing')
    const uid = account('admin').userId
    for (const query of [
      '',
      `user_id=${uid}&status=sleeping`,
      `user_id=${uid}&limit=0`,
      `user_id=${uid}&paginated=yes`,
      `user_id=${uid}&organization_id=org_1`,
    ]) {
      const reply = await bapi('GET', `/v1/sessions?${query}`, '/sessions')
      expect(reply.status, query).toBe(422)
    }
    const nobody = await bapi('GET', '/v1/sessions?user_id=user_nobody', '/sessions')
    expect(nobody.body).toEqual([])
  })
})

describe('GET /v1/sessions/{id} and revoke', () => {
  it('getSession answers the session, 404 for an unknown id', async () => {
    const agent = account('agent')
    const { sessionId } = await fapiClient().signInWithPassword(agent.identifier, agent.password)
    const session = await server.clerk.sessions.getSession(sessionId)
    expect(session).toMatchObject({ id: sessionId, userId: agent.userId, status: 'active' })
    await bapi('GET', `/v1/sessions/${sessionId}`, '/sessions/{session_id}')
    const unknown = await apiError(server.clerk.sessions.getSession('sess_unknown'))
    expect(unknown.status).toBe(404)
    expect(unknown.errors[0]!.code).toBe('resource_not_found')
    const raw = await bapi('GET', '/v1/sessions/sess_unknown', '/sessions/{session_id}')
    expect(raw.status).toBe(404)
    const revokeUnknown = await bapi(
      'POST',
      '/v1/sessions/sess_unknown/revoke',
      '/sessions/{session_id}/revoke',
    )
    expect(revokeUnknown.status).toBe(404)
  })

  it('revokeSession: the next FAPI token refresh fails (401 signed_out); a JWT minted before stays valid until exp', async () => {
    const agent = account('agent')
    const fapi = fapiClient()
    const { sessionId, token } = await fapi.signInWithPassword(agent.identifier, agent.password)
    const revoked = await server.clerk.sessions.revokeSession(sessionId)
    expect(revoked.status).toBe('revoked')
    const refused = await fapiError(fapi.getToken(sessionId))
    expect(refused.status).toBe(401)
    expect(refused.code).toBe('signed_out')
    const touch = await fapi.request('POST', `/v1/client/sessions/${sessionId}/touch`, {})
    expect(touch.status).toBe(401)
    assertFapi('POST', '/v1/client/sessions/{session_id}/touch', 401, touch.body)
    // The client no longer lists it.
    const client = await fapi.request('GET', '/v1/client')
    expect((client.body as { response: { sessions: unknown[] } }).response.sessions).toEqual([])
    // Clerk's documented behaviour: tokens already minted are valid until they expire.
    expect((await verifyToken(token)).status).toBe('signed-in')
    // Revoking again changes nothing.
    const again = await bapi(
      'POST',
      `/v1/sessions/${sessionId}/revoke`,
      '/sessions/{session_id}/revoke',
    )
    expect(again.status).toBe(200)
    expect((again.body as { status: string }).status).toBe('revoked')
    const listed = await server.clerk.sessions.getSessionList({
      userId: agent.userId,
      status: 'revoked',
    })
    expect(listed.data.map((s) => s.id)).toContain(sessionId)
  })

  it('FAPI sign-out ends the session (status ended over BAPI), and its tokens stop', async () => {
    const agent = account('agent')
    const fapi = fapiClient()
    const { sessionId } = await fapi.signInWithPassword(agent.identifier, agent.password)
    await fapi.signOut()
    expect((await server.clerk.sessions.getSession(sessionId)).status).toBe('ended')
    const refused = await fapiError(fapi.getToken(sessionId))
    expect(refused.code).toBe('signed_out')
  })
})

describe('impersonation sessions', () => {
  it('carry the actor token’s payload, every field, as `actor` over BAPI and `act` in the JWT', async () => {
    const { fapi, session, actor } = await impersonate()
    const bapiSession = await server.clerk.sessions.getSession(session.sessionId)
    expect(bapiSession.actor).toEqual(actor)
    const raw = await bapi('GET', `/v1/sessions/${session.sessionId}`, '/sessions/{session_id}')
    expect((raw.body as { actor: unknown }).actor).toEqual(actor)
    expect(jwtClaims(await fapi.getToken()).act).toEqual(actor)
    const verified = await verifyToken(session.token)
    expect(verified.toAuth()).toMatchObject({ actor })
    expect(bapiSession.expireAt).toBe(server.now + 1800 * 1000)
    expect(bapiSession.abandonAt).toBe(server.now + 600 * 1000)
  })

  it('ends at session_max_duration_in_seconds however active (status expired; no more tokens)', async () => {
    const { fapi, session } = await impersonate({ sessionMaxDurationInSeconds: 900 })
    for (let i = 0; i < 4; i++) {
      advance(3 * 60_000)
      await fapi.getToken()
    }
    advance(2 * 60_000) // 14 minutes in
    await fapi.getToken()
    expect((await server.clerk.sessions.getSession(session.sessionId)).status).toBe('active')
    advance(60_000) // 15 minutes
    expect((await fapiError(fapi.getToken())).code).toBe('signed_out')
    const ended = await server.clerk.sessions.getSession(session.sessionId)
    expect(ended.status).toBe('expired')
    expect(ended.updatedAt).toBe(ended.expireAt)
  })

  it('ends after 10 minutes without activity (status abandoned); each token pushes abandon_at', async () => {
    const { fapi, session } = await impersonate()
    advance(9 * 60_000)
    await fapi.getToken()
    const pushed = await server.clerk.sessions.getSession(session.sessionId)
    expect(pushed.abandonAt).toBe(server.now + 10 * 60_000)
    expect(pushed.lastActiveAt).toBe(server.now)
    advance(10 * 60_000)
    expect((await fapiError(fapi.getToken())).code).toBe('signed_out')
    expect((await server.clerk.sessions.getSession(session.sessionId)).status).toBe('abandoned')
    const { data } = await server.clerk.sessions.getSessionList({
      userId: account('agent').userId,
      status: 'abandoned',
    })
    expect(data.map((s) => s.id)).toContain(session.sessionId)
  })
})

describe('a configurable inactivity timeout', () => {
  it('actorSessionIdleSeconds: 120 abandons an idle impersonation after two minutes', async () => {
    let now = Date.now()
    const short = await startClerkLocal({ users: 0, now: () => now, actorSessionIdleSeconds: 120 })
    try {
      const sdk = backendSdk(short)
      const admin = short.accounts.find((a) => a.role === 'admin')!
      const agent = short.accounts.find((a) => a.role === 'agent')!
      const token = await sdk.actorTokens.create({
        userId: agent.userId,
        actor: { sub: admin.userId },
      })
      const fapi = createFapiClient({ frontendApiUrl: short.frontendApiUrl, origin: ORIGIN })
      const { sessionId } = await fapi.signInWithTicket(token.token!)
      now += 119_000
      await fapi.getToken()
      now += 120_000
      expect((await fapiError(fapi.getToken())).code).toBe('signed_out')
      expect((await sdk.sessions.getSession(sessionId)).status).toBe('abandoned')
    } finally {
      await short.stop()
    }
  })
})
