import { createPublicKey, verify } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createFapiClient, FapiError, type FapiClient } from '../src/testing.js'
import { assertFapi } from './openapi.js'
import { startTestServer, type TestServer } from './support/local-server.js'

// Every FAPI route over HTTP, as clerk-js calls it; every answer is checked against
// Clerk's contract (fapi-2026-05-12.yml). Time is driven through the server's `now`.

const ORIGIN = 'http://localhost:5173'
let clock = Date.parse('2026-05-12T10:00:00Z')
let server: TestServer
let fapi: FapiClient

const advance = (ms: number) => {
  clock += ms
}

beforeAll(async () => {
  server = await startTestServer({ now: () => clock })
})
afterAll(async () => {
  await server.stop()
})
beforeEach(() => {
  fapi = createFapiClient({ frontendApiUrl: server.frontendApiUrl, origin: ORIGIN })
})

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'

/** One call through the real client; asserts the status and validates the body against the spec. */
async function call(
  method: Method,
  path: string,
  template: string,
  status: number,
  body?: Record<string, string>,
  client = fapi,
) {
  const res = await client.request(method, path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  assertFapi(method, template, status, res.body)
  return res.body as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function claimsOf(jwt: string): Record<string, any> {
  const [h, p, s] = jwt.split('.') as [string, string, string]
  const ok = verify(
    'RSA-SHA256',
    Buffer.from(`${h}.${p}`),
    createPublicKey(server.jwtPublicKeyPem),
    Buffer.from(s, 'base64url'),
  )
  expect(ok).toBe(true)
  return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** An actor token for `role`'s user, impersonated by the admin, created through BAPI (@clerk/backend). */
async function actorToken(
  role: 'agent' | 'banned' | 'locked',
  { expiresInSeconds = 600, sessionMaxDurationSeconds = 1800 } = {},
) {
  const { id, ticket } = await server.createActorToken(
    server.account(role).userId,
    { sub: server.account('admin').userId, reason: 'ticket 42' },
    {
      expiresInSeconds,
      sessionMaxDurationInSeconds: sessionMaxDurationSeconds,
    },
  )
  return { id, token: ticket }
}

async function expectFapiError(promise: Promise<unknown>, status: number, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(FapiError)
  expect((error as FapiError).status).toBe(status)
  expect((error as FapiError).code).toBe(code)
}

describe('the contract check itself', () => {
  it('rejects answers that break fapi-2026-05-12.yml', () => {
    const client = {
      object: 'client',
      id: 'client_1',
      sessions: [],
      sign_in: null,
      sign_up: null,
      last_active_session_id: null,
      last_authentication_strategy: null,
      cookie_expires_at: null,
      captcha_bypass: false,
      created_at: 1,
      updated_at: 1,
    }
    expect(() =>
      assertFapi('GET', '/v1/client', 200, { response: client, client: null }),
    ).not.toThrow()
    expect(() =>
      assertFapi('GET', '/v1/client', 200, {
        response: { ...client, sessions: undefined },
        client: null,
      }),
    ).toThrow(/sessions/)
    expect(() => assertFapi('GET', '/v1/environment', 200, { object: 'environment' })).toThrow()
    expect(() =>
      assertFapi('POST', '/v1/client/sessions/{session_id}/touch', 200, {
        response: { id: 'sess_1' },
        client: null,
      }),
    ).toThrow()
  })
})

describe('dev browser, environment, client', () => {
  it('creates a dev browser and refuses an unknown one with dev_browser_unauthenticated', async () => {
    const res = await fetch(`${server.frontendApiUrl}/v1/dev_browser`, { method: 'POST' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(((await res.json()) as { id: string }).id).toMatch(/^dvb_/)

    const bad = await fetch(`${server.frontendApiUrl}/v1/client?__clerk_db_jwt=dvb_unknown`)
    expect(bad.status).toBe(401)
    const body = await bad.json()
    assertFapi('GET', '/v1/client', 401, body)
    expect((body as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
      'dev_browser_unauthenticated',
    )
  })

  it('serves the environment for GET and the tunnelled PATCH', async () => {
    const got = await call('GET', '/v1/environment', '/v1/environment', 200)
    expect(got.display_config.instance_environment_type).toBe('development')
    expect(got.auth_config.single_session_mode).toBe(true)
    const patched = await call('PATCH', '/v1/environment', '/v1/environment', 200)
    expect(patched).toEqual(got)
  })

  it('has no client before the first sign-in', async () => {
    const body = await call('GET', '/v1/client', '/v1/client', 200)
    expect(body).toEqual({ response: null, client: null })
  })
})

describe('password sign-in', () => {
  it('signs in with identifier and password in one call, in the first organization', async () => {
    const admin = server.account('admin')
    const before = clock
    const body = await call('POST', '/v1/client/sign_ins', '/v1/client/sign_ins', 200, {
      strategy: 'password',
      identifier: admin.identifier,
      password: admin.password,
    })
    expect(body.response.status).toBe('complete')
    const sid = body.response.created_session_id as string
    expect(sid).toMatch(/^sess_/)
    expect(body.client.sign_in).toBeNull()
    expect(body.client.last_active_session_id).toBe(sid)
    const session = body.client.sessions.find((s: { id: string }) => s.id === sid)
    expect(session.status).toBe('active')
    expect(session.user.id).toBe(admin.userId)
    expect(session.user.private_metadata).toBeUndefined()
    expect(session.last_active_organization_id).toBe(server.supportOrgId)
    expect(session.user.organization_memberships[0].role).toBe('org:admin')
    expect(server.state.users.get(admin.userId)!.lastSignInAt).toBe(before)

    const claims = claimsOf(session.last_active_token.jwt)
    expect(claims).toMatchObject({
      sub: admin.userId,
      sid,
      azp: ORIGIN,
      iss: server.issuer,
      v: 2,
      sts: 'active',
      fva: [0, -1],
    })
    expect(claims.exp - claims.iat).toBe(60)
    expect(claims.o).toMatchObject({ id: server.supportOrgId, rol: 'admin', slg: 'support' })
    expect(claims.act).toBeUndefined()

    // A second sign-in on a signed-in client is refused (single-session mode).
    const again = await fapi.request('POST', '/v1/client/sign_ins', {
      strategy: 'password',
      identifier: admin.identifier,
      password: admin.password,
    })
    expect(again.status).toBe(400)
    expect((again.body as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
      'session_exists',
    )
    assertFapi('POST', '/v1/client/sign_ins', 400, again.body)
  })

  it('finishes a sign-in created with only an identifier through attempt_first_factor', async () => {
    const agent = server.account('agent')
    const created = await call('POST', '/v1/client/sign_ins', '/v1/client/sign_ins', 200, {
      identifier: agent.identifier,
      locale: 'en-US',
    })
    expect(created.response.status).toBe('needs_first_factor')
    expect(created.response.supported_first_factors).toEqual([{ strategy: 'password' }])
    const id = created.response.id as string
    expect(created.client.sign_in.id).toBe(id)

    const fetched = await call(
      'GET',
      `/v1/client/sign_ins/${id}`,
      '/v1/client/sign_ins/{sign_in_id}',
      200,
    )
    expect(fetched.response.identifier).toBe(agent.identifier)

    const wrong = await call(
      'POST',
      `/v1/client/sign_ins/${id}/attempt_first_factor`,
      '/v1/client/sign_ins/{sign_in_id}/attempt_first_factor',
      422,
      { strategy: 'password', password: 'nope' },
    )
    expect(wrong.errors[0]).toMatchObject({
      code: 'form_password_incorrect',
      meta: { param_name: 'password' },
    })

    const done = await call(
      'POST',
      `/v1/client/sign_ins/${id}/attempt_first_factor`,
      '/v1/client/sign_ins/{sign_in_id}/attempt_first_factor',
      200,
      { strategy: 'password', password: agent.password },
    )
    expect(done.response.status).toBe('complete')
    expect(done.response.first_factor_verification).toMatchObject({
      strategy: 'password',
      status: 'verified',
    })
    expect(done.client.sessions[0].user.id).toBe(agent.userId)
  })

  it('refuses unknown identifiers, banned and locked users with Clerk codes (4xx)', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['nobody@support.test', 'whatever', 422, 'form_identifier_not_found'],
      [server.account('banned').identifier, server.account('banned').password, 403, 'user_banned'],
      [server.account('locked').identifier, server.account('locked').password, 403, 'user_locked'],
    ]
    for (const [identifier, password, status, code] of cases) {
      const body = await call('POST', '/v1/client/sign_ins', '/v1/client/sign_ins', status, {
        strategy: 'password',
        identifier,
        password,
      })
      expect(body.errors[0].code).toBe(code)
    }
    await expectFapiError(
      fapi.signInWithPassword(server.account('admin').identifier, 'wrong'),
      422,
      'form_password_incorrect',
    )
  })

  it('answers bad input with 4xx, never 5xx', async () => {
    const bad: Array<[Method, string, Record<string, string> | undefined, number]> = [
      ['POST', '/v1/client/sign_ins', { strategy: 'oauth_google' }, 422],
      [
        'POST',
        '/v1/client/sign_ins',
        { strategy: 'password', identifier: 'ada@support.test' },
        422,
      ],
      ['POST', '/v1/client/sign_ins', { strategy: 'ticket' }, 422],
      ['GET', '/v1/client/sign_ins/sia_missing', undefined, 404],
      [
        'POST',
        '/v1/client/sign_ins/sia_missing/attempt_first_factor',
        { strategy: 'password', password: 'x' },
        404,
      ],
      ['POST', '/v1/client/sessions/sess_missing/touch', {}, 404],
      ['POST', '/v1/client/sessions/sess_missing/tokens', {}, 404],
      ['POST', '/v1/client/sessions/sess_missing/end', {}, 404],
      ['DELETE', '/v1/client/sessions', undefined, 404],
    ]
    for (const [method, path, body, status] of bad) {
      const res = await fapi.request(method, path, body)
      expect(res.status, `${method} ${path}`).toBe(status)
      expect((res.body as { errors: unknown[] }).errors).toHaveLength(1)
    }
    const junk = await fetch(`${server.frontendApiUrl}/v1/client/sign_ins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    })
    expect(junk.status).toBe(400)
  })
})

describe('sessions', () => {
  it('touch switches the active organization; tokens follow it', async () => {
    const admin = server.account('admin')
    const signedIn = await fapi.signInWithPassword(admin.identifier, admin.password)
    const sid = signedIn.sessionId
    const tpl = '/v1/client/sessions/{session_id}/touch'

    const personal = await call('POST', `/v1/client/sessions/${sid}/touch`, tpl, 200, {
      active_organization_id: '',
      intent: 'select_org',
    })
    expect(personal.response.last_active_organization_id).toBeNull()
    expect(claimsOf(personal.response.last_active_token.jwt).o).toBeUndefined()
    const personalToken = await call(
      'POST',
      `/v1/client/sessions/${sid}/tokens`,
      '/v1/client/sessions/{session_id}/tokens',
      200,
      { organization_id: '' },
    )
    expect(personalToken.object).toBe('token')
    expect(claimsOf(personalToken.jwt as string).o).toBeUndefined()

    const bySlug = await call('POST', `/v1/client/sessions/${sid}/touch`, tpl, 200, {
      active_organization_id: 'support',
      intent: 'select_org',
    })
    expect(bySlug.response.last_active_organization_id).toBe(server.supportOrgId)
    expect(claimsOf(await fapi.getToken(sid)).o.id).toBe(server.supportOrgId)

    const now = clock
    server.state.organizations.set('org_other', {
      id: 'org_other',
      name: 'Other',
      slug: 'other',
      roles: {},
      createdAt: now,
      updatedAt: now,
    })
    const notMember = await call('POST', `/v1/client/sessions/${sid}/touch`, tpl, 403, {
      active_organization_id: 'org_other',
    })
    expect(notMember.errors[0].code).toBe('not_a_member_in_organization')
    const unknown = await call('POST', `/v1/client/sessions/${sid}/touch`, tpl, 404, {
      active_organization_id: 'org_nope',
    })
    expect(unknown.errors[0].code).toBe('resource_not_found')

    const got = await call(
      'GET',
      `/v1/client/sessions/${sid}`,
      '/v1/client/sessions/{session_id}',
      200,
    )
    expect(got.response.last_active_organization_id).toBe(server.supportOrgId)

    // The same through the test client, which (like clerk-js) sends its session's org with every token call.
    const toPersonal = await fapi.touch(sid, { activeOrganizationId: null })
    expect(toPersonal.activeOrganizationId).toBeNull()
    expect(claimsOf(toPersonal.token).o).toBeUndefined()
    expect(claimsOf(await fapi.getToken()).o).toBeUndefined()
    const back = await fapi.touch(sid, { activeOrganizationId: server.supportOrgId })
    expect(claimsOf(back.token).o.id).toBe(server.supportOrgId)
    expect(claimsOf(await fapi.getToken()).o.id).toBe(server.supportOrgId)
  })

  it('mints azp from Origin, else Referer, else the origin the client last used, else none', async () => {
    const admin = server.account('admin')
    const { sessionId } = await fapi.signInWithPassword(admin.identifier, admin.password)
    expect(claimsOf(await fapi.getToken(sessionId)).azp).toBe(ORIGIN)
    const res = await fetch(
      `${server.frontendApiUrl}/v1/client/sessions/${sessionId}/tokens?__clerk_db_jwt=${fapi.devBrowserId}`,
      { method: 'POST' },
    )
    expect(res.status).toBe(200)
    // No Origin, no Referer: the origin this client last called from.
    expect(claimsOf(((await res.json()) as { jwt: string }).jwt).azp).toBe(ORIGIN)
    const restored = await fetch(
      `${server.frontendApiUrl}/v1/client?__clerk_db_jwt=${fapi.devBrowserId}`,
    )
    const body = (await restored.json()) as {
      response: { sessions: Array<{ last_active_token: { jwt: string } }> }
    }
    expect(claimsOf(body.response.sessions[0]!.last_active_token.jwt).azp).toBe(ORIGIN)
    const viaReferer = await fetch(
      `${server.frontendApiUrl}/v1/client?__clerk_db_jwt=${fapi.devBrowserId}`,
      { headers: { referer: 'http://127.0.0.1:4321/app/page?x=1' } },
    )
    const refBody = (await viaReferer.json()) as typeof body
    expect(claimsOf(refBody.response.sessions[0]!.last_active_token.jwt).azp).toBe(
      'http://127.0.0.1:4321',
    )

    // A client that never showed an origin gets tokens without azp.
    const admin2 = await fetch(`${server.frontendApiUrl}/v1/client/sign_ins`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        strategy: 'password',
        identifier: admin.identifier,
        password: admin.password,
      }).toString(),
    })
    const signedIn = (await admin2.json()) as {
      client: { sessions: Array<{ last_active_token: { jwt: string } }> }
    }
    expect(claimsOf(signedIn.client.sessions[0]!.last_active_token.jwt).azp).toBeUndefined()
  })

  it('ends and removes sessions; their tokens are refused with 401', async () => {
    const admin = server.account('admin')
    const first = await fapi.signInWithPassword(admin.identifier, admin.password)
    const ended = await call(
      'POST',
      `/v1/client/sessions/${first.sessionId}/end`,
      '/v1/client/sessions/{session_id}/end',
      200,
    )
    expect(ended.response.status).toBe('ended')
    expect(ended.client.sessions).toEqual([])
    const refused = await call(
      'POST',
      `/v1/client/sessions/${first.sessionId}/tokens`,
      '/v1/client/sessions/{session_id}/tokens',
      401,
      {},
    )
    expect(refused.errors[0].code).toBe('signed_out')
    const touch = await fapi.request('POST', `/v1/client/sessions/${first.sessionId}/touch`, {})
    expect(touch.status).toBe(401)

    const second = await fapi.signInWithPassword(admin.identifier, admin.password)
    const removed = await call(
      'POST',
      `/v1/client/sessions/${second.sessionId}/remove`,
      '/v1/client/sessions/{session_id}/remove',
      200,
    )
    expect(removed.response.status).toBe('removed')
    await expectFapiError(fapi.getToken(second.sessionId), 401, 'signed_out')
  })

  it('signs out all sessions (DELETE /v1/client/sessions), then deletes the client (DELETE /v1/client)', async () => {
    const admin = server.account('admin')
    const { sessionId } = await fapi.signInWithPassword(admin.identifier, admin.password)
    const out = await call('DELETE', '/v1/client/sessions', '/v1/client/sessions', 200)
    expect(out.response.sessions).toEqual([])
    expect(server.state.sessions.get(sessionId)!.status).toBe('ended')
    const client = await call('GET', '/v1/client', '/v1/client', 200)
    expect(client.response.sessions).toEqual([])

    const again = await fapi.signInWithPassword(admin.identifier, admin.password)
    const deleted = await call('DELETE', '/v1/client', '/v1/client', 200)
    expect(deleted.client).toBeNull()
    expect(server.state.sessions.get(again.sessionId)!.status).toBe('ended')
    expect(await call('GET', '/v1/client', '/v1/client', 200)).toEqual({
      response: null,
      client: null,
    })
  })

  it('identifies the client by the __client cookie when there is no dev browser', async () => {
    const admin = server.account('admin')
    const res = await fetch(`${server.frontendApiUrl}/v1/client/sign_ins`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
      body: new URLSearchParams({
        strategy: 'password',
        identifier: admin.identifier,
        password: admin.password,
      }).toString(),
    })
    expect(res.status).toBe(200)
    const cookie = res.headers.get('set-cookie')!
    expect(cookie).toMatch(/^__client=client_\w+; Path=\/; HttpOnly; SameSite=Lax/)
    const client = await fetch(`${server.frontendApiUrl}/v1/client`, {
      headers: { cookie: cookie.split(';')[0]! },
    })
    const body = (await client.json()) as {
      response: { sessions: Array<{ user: { id: string } }> }
    }
    expect(body.response.sessions[0]!.user.id).toBe(admin.userId)
  })
})

describe('ticket sign-in (actor tokens)', () => {
  it('signs in as the subject with act, marks the token accepted, and refuses a second use', async () => {
    const token = await actorToken('agent')
    const body = await call('POST', '/v1/client/sign_ins', '/v1/client/sign_ins', 200, {
      strategy: 'ticket',
      ticket: token.token,
      locale: 'en-US',
    })
    expect(body.response).toMatchObject({
      status: 'complete',
      first_factor_verification: { strategy: 'ticket', status: 'verified' },
    })
    const session = body.client.sessions[0]
    expect(session.user.id).toBe(server.account('agent').userId)
    expect(session.actor).toEqual({ sub: server.account('admin').userId, reason: 'ticket 42' })
    const claims = claimsOf(session.last_active_token.jwt)
    expect(claims.act).toEqual({ sub: server.account('admin').userId, reason: 'ticket 42' })
    expect(claims.sub).toBe(server.account('agent').userId)
    expect(server.state.actorTokens.get(token.id)!.status).toBe('accepted')

    const other = createFapiClient({ frontendApiUrl: server.frontendApiUrl, origin: ORIGIN })
    const reused = await call(
      'POST',
      '/v1/client/sign_ins',
      '/v1/client/sign_ins',
      400,
      { strategy: 'ticket', ticket: token.token },
      other,
    )
    expect(reused.errors[0].code).toBe('actor_token_already_used_code')
  })

  it('refuses revoked, expired, unknown tickets and banned subjects', async () => {
    const revoked = await actorToken('agent')
    await server.revokeActorToken(revoked.id)
    await expectFapiError(fapi.signInWithTicket(revoked.token), 400, 'actor_token_revoked_code')

    const expiring = await actorToken('agent', { expiresInSeconds: 60 })
    advance(60_000)
    await expectFapiError(fapi.signInWithTicket(expiring.token), 400, 'ticket_expired_code')
    expect(server.state.actorTokens.get(expiring.id)!.status).toBe('pending')

    await expectFapiError(fapi.signInWithTicket('not-a-ticket'), 400, 'ticket_invalid_code')
    await expectFapiError(
      fapi.signInWithTicket((await actorToken('banned')).token),
      403,
      'user_banned',
    )
    await expectFapiError(
      fapi.signInWithTicket((await actorToken('locked')).token),
      403,
      'user_locked',
    )
  })

  it('forwards the actor token url (GET /v1/tickets/accept) to the sign-in page with __clerk_ticket', async () => {
    const created = await server.createActorToken(server.account('agent').userId, {
      sub: server.account('admin').userId,
    })
    const token = { id: created.id, token: created.ticket }
    expect(created.url).toBe(
      `${server.frontendApiUrl}/v1/tickets/accept?ticket=${encodeURIComponent(created.ticket)}`,
    )
    const accept = (query: string) =>
      fetch(`${server.frontendApiUrl}/v1/tickets/accept?${query}`, { redirect: 'manual' })
    const relative = await accept(`ticket=${encodeURIComponent(token.token)}`)
    expect(relative.status).toBe(303)
    expect(relative.headers.get('location')).toBe(
      `/sign-in?__clerk_ticket=${encodeURIComponent(token.token)}&__clerk_status=sign_in`,
    )
    const absolute = await accept(
      `ticket=${encodeURIComponent(token.token)}&redirect_url=${encodeURIComponent('http://localhost:5173/impersonate?x=1')}`,
    )
    expect(absolute.headers.get('location')).toBe(
      `http://localhost:5173/impersonate?x=1&__clerk_ticket=${encodeURIComponent(token.token)}&__clerk_status=sign_in`,
    )
    expect(server.state.actorTokens.get(token.id)!.status).toBe('pending')

    expect((await accept('ticket=nope')).status).toBe(400)
    expect(
      (await accept(`ticket=${encodeURIComponent(token.token)}&redirect_url=javascript:alert(1)`))
        .status,
    ).toBe(422)
    await fapi.signInWithTicket(token.token)
    const used = await accept(`ticket=${encodeURIComponent(token.token)}`)
    expect(used.status).toBe(400)
    expect(((await used.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
      'actor_token_already_used_code',
    )
  })

  it("ends the client's other sessions", async () => {
    const admin = server.account('admin')
    const adminSession = await fapi.signInWithPassword(admin.identifier, admin.password)
    const actor = await fapi.signInWithTicket((await actorToken('agent')).token)
    expect(actor.actor).toMatchObject({ sub: admin.userId })
    expect(server.state.sessions.get(adminSession.sessionId)!.status).toBe('ended')
    const client = await call('GET', '/v1/client', '/v1/client', 200)
    expect(client.response.sessions.map((s: { id: string }) => s.id)).toEqual([actor.sessionId])
    const old = await call(
      'GET',
      `/v1/client/sessions/${adminSession.sessionId}`,
      '/v1/client/sessions/{session_id}',
      200,
    )
    expect(old.response.status).toBe('ended')
  })

  it('abandons an actor session after 10 idle minutes; activity pushes the deadline', async () => {
    const { sessionId } = await fapi.signInWithTicket(
      (await actorToken('agent', { sessionMaxDurationSeconds: 3600 })).token,
    )
    advance(9 * 60_000)
    await fapi.getToken(sessionId)
    advance(9 * 60_000)
    await fapi.touch(sessionId)
    advance(9 * 60_000)
    expect(claimsOf(await fapi.getToken(sessionId)).sid).toBe(sessionId)
    expect(server.state.users.get(server.account('agent').userId)!.lastActiveAt).toBe(clock)
    advance(10 * 60_000)
    await expectFapiError(fapi.getToken(sessionId), 401, 'signed_out')
    const client = await call('GET', '/v1/client', '/v1/client', 200)
    expect(client.response.sessions).toEqual([])
    expect(client.response.last_active_session_id).toBeNull()
    expect(server.state.sessions.get(sessionId)!.status).toBe('abandoned')
  })

  it('expires an actor session at its max duration, however active', async () => {
    const token = await actorToken('agent', { sessionMaxDurationSeconds: 1800 })
    const { sessionId } = await fapi.signInWithTicket(token.token)
    for (let i = 0; i < 5; i++) {
      advance(5 * 60_000)
      await fapi.getToken(sessionId)
    }
    advance(4 * 60_000) // 29 minutes in
    const last = claimsOf(await fapi.getToken(sessionId))
    expect(last.act.sub).toBe(server.account('admin').userId)
    advance(60_000) // 30 minutes
    await expectFapiError(fapi.getToken(sessionId), 401, 'signed_out')
    const got = await call(
      'GET',
      `/v1/client/sessions/${sessionId}`,
      '/v1/client/sessions/{session_id}',
      200,
    )
    expect(got.response.status).toBe('expired')
  })
})
