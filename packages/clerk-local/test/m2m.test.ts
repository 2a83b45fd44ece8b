import { createClerkClient } from '@clerk/backend'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startClerkLocal, type ClerkLocal, type SeededMachine } from '../src/index.js'
import { backendSdk } from './support/local.js'
import { assertBapi } from './openapi.js'
import { send } from './support/http.js'

// Machines and M2M tokens: every route over HTTP with its answers checked against
// bapi-2026-05-12.yml, then the real @clerk/backend (m2m.createToken / verify / revokeToken,
// authenticateRequest with acceptsToken) against the local server.

let clock = Date.UTC(2026, 10, 15, 12, 0, 0)
let local: ClerkLocal
let helpdesk: SeededMachine
let noScope: SeededMachine
let actas: SeededMachine

beforeAll(async () => {
  process.env.CLERK_TELEMETRY_DISABLED = '1'
  local = await startClerkLocal({ users: 5, seed: 3, now: () => clock })
  const byName = (name: string) => local.machines.find((m) => m.name === name)!
  helpdesk = byName('helpdesk')
  noScope = byName('no-scope')
  actas = byName('actas-api')
})
afterAll(async () => {
  await local.stop()
})

async function call(
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
): Promise<{ status: number; body: unknown; contentType: string | null }> {
  const reply = await send(`${local.url}${path}`, method, { body, key })
  return { status: reply.status, body: reply.body, contentType: reply.headers.get('content-type') }
}

interface TokenJson {
  id: string
  token?: string
  subject: string
  scopes: string[]
  claims: unknown
  revoked: boolean
  expired: boolean
  expiration: number | null
}

describe('seeded machines', () => {
  it('are deterministic per seed, with ActAs in the scopes of the callers that may use it', async () => {
    const again = await startClerkLocal({ users: 0, seed: 3 })
    try {
      expect(again.machines.map((m) => [m.name, m.id, m.scopedMachineIds])).toEqual(
        local.machines.map((m) => [m.name, m.id, m.scopedMachineIds]),
      )
      // Secret keys are new on every start.
      expect(again.machines[1]!.secretKey).not.toBe(local.machines[1]!.secretKey)
    } finally {
      await again.stop()
    }
    for (const m of local.machines) {
      expect(m.id).toMatch(/^mch_\w{27}$/)
      expect(m.secretKey).toMatch(/^ak_[0-9a-f]{32}$/)
    }
    expect(helpdesk.scopedMachineIds).toEqual([actas.id])
    expect(noScope.scopedMachineIds).toEqual([])
  })

  it('GET /v1/machines lists them (instance secret key), as the spec says', async () => {
    const res = await call('GET', '/v1/machines?limit=10', local.secretKey)
    expect(res.contentType).toBe('application/json')
    expect(res.status).toBe(200)
    assertBapi('GET', '/machines', res.status, res.body)
    const body = res.body as {
      data: Array<{ id: string; scoped_machines: Array<{ id: string }> }>
      total_count: number
    }
    expect(body.total_count).toBe(4)
    expect(body.data.find((m) => m.id === helpdesk.id)?.scoped_machines.map((s) => s.id)).toEqual([
      actas.id,
    ])
    const one = await call('GET', `/v1/machines/${helpdesk.id}`, local.secretKey)
    assertBapi('GET', '/machines/{machine_id}', one.status, one.body)
    const missing = await call('GET', '/v1/machines/mch_nope', local.secretKey)
    assertBapi('GET', '/machines/{machine_id}', missing.status, missing.body)
    expect(missing.status).toBe(404)
    // A machine secret key is not an instance secret key.
    expect((await call('GET', '/v1/machines', helpdesk.secretKey)).status).toBe(401)
    const bad = await call('GET', '/v1/machines?limit=0', local.secretKey)
    assertBapi('GET', '/machines', bad.status, bad.body)
  })
})

describe('M2M tokens over HTTP', () => {
  it('create (machine secret key) → verify (instance key or a scoped machine) → revoke', async () => {
    for (const prefix of ['', '/v1']) {
      const created = await call('POST', `${prefix}/m2m_tokens`, helpdesk.secretKey, {
        seconds_until_expiration: 120,
        claims: { purpose: 'test' },
      })
      expect(created.status).toBe(201)
      assertBapi('POST', '/m2m_tokens', created.status, created.body)
      const t = created.body as TokenJson
      expect(t.subject).toBe(helpdesk.id)
      expect(t.scopes).toEqual([actas.id])
      expect(t.token).toMatch(/^mt_[0-9a-f]{48}$/)
      expect(t.expiration).toBe(clock + 120_000)

      // The instance key verifies any token; the ActAs machine verifies tokens scoped to it.
      for (const key of [local.secretKey, actas.secretKey]) {
        const verified = await call('POST', `${prefix}/m2m_tokens/verify`, key, { token: t.token })
        expect(verified.status).toBe(200)
        assertBapi('POST', '/m2m_tokens/verify', verified.status, verified.body)
        expect(verified.body).toMatchObject({
          id: t.id,
          subject: helpdesk.id,
          scopes: [actas.id],
          claims: { purpose: 'test' },
          revoked: false,
          expired: false,
        })
        expect((verified.body as TokenJson).token).toBeUndefined()
      }
      // A machine the token was not granted to cannot verify it.
      const stranger = await call('POST', `${prefix}/m2m_tokens/verify`, noScope.secretKey, {
        token: t.token,
      })
      expect(stranger.status).toBe(404)
      assertBapi('POST', '/m2m_tokens/verify', stranger.status, stranger.body)

      // Another machine cannot revoke it; its own machine can.
      const foreign = await call(
        'POST',
        `${prefix}/m2m_tokens/${t.id}/revoke`,
        noScope.secretKey,
        {},
      )
      expect(foreign.status).toBe(404)
      const revoked = await call(
        'POST',
        `${prefix}/m2m_tokens/${t.id}/revoke`,
        helpdesk.secretKey,
        { revocation_reason: 'rotated' },
      )
      expect(revoked.status).toBe(200)
      assertBapi('POST', '/m2m_tokens/{m2m_token_id}/revoke', revoked.status, revoked.body)
      expect(revoked.body).toMatchObject({ revoked: true, revocation_reason: 'rotated' })
      const again = await call('POST', `${prefix}/m2m_tokens/${t.id}/revoke`, local.secretKey, {})
      expect(again.status).toBe(400)
      assertBapi('POST', '/m2m_tokens/{m2m_token_id}/revoke', again.status, again.body)

      const afterRevoke = await call('POST', `${prefix}/m2m_tokens/verify`, local.secretKey, {
        token: t.token,
      })
      expect(afterRevoke.status).toBe(404)
      assertBapi('POST', '/m2m_tokens/verify', afterRevoke.status, afterRevoke.body)
    }
  })

  it('expired tokens no longer verify; tokens without a scope verify but carry no scope', async () => {
    const created = await call('POST', '/m2m_tokens', noScope.secretKey, {
      seconds_until_expiration: 30,
    })
    const t = created.body as TokenJson
    expect(t.scopes).toEqual([])
    const ok = await call('POST', '/m2m_tokens/verify', local.secretKey, { token: t.token })
    expect(ok.status).toBe(200)
    clock += 31_000
    const late = await call('POST', '/m2m_tokens/verify', local.secretKey, { token: t.token })
    expect(late.status).toBe(404)
    assertBapi('POST', '/m2m_tokens/verify', late.status, late.body)
    expect((late.body as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('token_expired')
  })

  it('reuses a live token when min_remaining_ttl_seconds allows it', async () => {
    const first = (
      await call('POST', '/m2m_tokens', helpdesk.secretKey, {
        seconds_until_expiration: 600,
        min_remaining_ttl_seconds: 60,
      })
    ).body as TokenJson
    const second = (
      await call('POST', '/m2m_tokens', helpdesk.secretKey, {
        seconds_until_expiration: 600,
        min_remaining_ttl_seconds: 60,
      })
    ).body as TokenJson
    expect(second.id).toBe(first.id)
    const bad = await call('POST', '/m2m_tokens', helpdesk.secretKey, {
      seconds_until_expiration: 60,
      min_remaining_ttl_seconds: 60,
    })
    expect(bad.status).toBe(400)
    assertBapi('POST', '/m2m_tokens', bad.status, bad.body)
  })

  it('refuses bad bodies with 400 and unknown callers with 401, never a 5xx', async () => {
    const cases: Array<[string, string, string | null, unknown]> = [
      ['POST', '/m2m_tokens', helpdesk.secretKey, { nope: 1 }],
      ['POST', '/m2m_tokens', helpdesk.secretKey, { token_format: 'jwt' }],
      ['POST', '/m2m_tokens', helpdesk.secretKey, { seconds_until_expiration: -5 }],
      ['POST', '/m2m_tokens', helpdesk.secretKey, { seconds_until_expiration: 'soon' }],
      ['POST', '/m2m_tokens/verify', local.secretKey, {}],
      ['POST', '/m2m_tokens/verify', local.secretKey, { token: 42 }],
      ['POST', '/m2m_tokens/verify', local.secretKey, { token: 'mt_x', extra: true }],
    ]
    for (const [method, path, key, body] of cases) {
      const res = await call(method, path, key, body)
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400)
      assertBapi(method, path, res.status, res.body)
    }
    const garbage = await call('POST', '/m2m_tokens/verify', local.secretKey, {
      token: 'mt_garbage',
    })
    expect(garbage.status).toBe(404)
    // Creating needs a machine secret key: the instance key, none or a wrong one is 401 (the
    // spec documents no 401 for these routes; Clerk's envelope all the same).
    for (const key of [local.secretKey, null, 'ak_0123456789abcdef0123456789abcdef', 'Bearer']) {
      const res = await call('POST', '/m2m_tokens', key, {})
      expect(res.status).toBe(401)
      expect((res.body as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
        'authentication_invalid',
      )
    }
    for (const path of [
      '/m2m_tokens/verify',
      '/m2m_tokens/mt_0123456789abcdef0123456789abcdef/revoke',
    ]) {
      const res = await call('POST', path, 'sk_test_wrong', { token: 'mt_x' })
      expect(res.status).toBe(401)
    }
  })

  it('fault injection applies to the M2M routes', async () => {
    local.faults.add({ route: 'POST /m2m_tokens/verify', status: 503, times: 1 })
    const res = await call('POST', '/m2m_tokens/verify', local.secretKey, { token: 'mt_x' })
    expect(res.status).toBe(503)
    const after = await call('POST', '/m2m_tokens/verify', local.secretKey, { token: 'mt_x' })
    expect(after.status).toBe(404)
  })
})

describe('@clerk/backend against the local M2M routes', () => {
  it('m2m.createToken with the machine secret key, m2m.verify with the instance key, revokeToken', async () => {
    const clerk = backendSdk(local)
    const created = await clerk.m2m.createToken({
      machineSecretKey: helpdesk.secretKey,
      secondsUntilExpiration: 300,
      claims: { job: 'sdk' },
    })
    expect(created.subject).toBe(helpdesk.id)
    expect(created.scopes).toEqual([actas.id])
    expect(created.token).toMatch(/^mt_/)
    const verified = await clerk.m2m.verify({ token: created.token! })
    expect(verified.id).toBe(created.id)
    expect(verified.claims).toEqual({ job: 'sdk' })
    // Verifying as the ActAs machine (machineSecretKey) checks the scope at the server.
    const asActas = createClerkClient({ apiUrl: local.url, machineSecretKey: actas.secretKey })
    expect((await asActas.m2m.verify({ token: created.token! })).subject).toBe(helpdesk.id)
    const revoked = await clerk.m2m.revokeToken({
      m2mTokenId: created.id,
      revocationReason: 'done',
    })
    expect(revoked.revoked).toBe(true)
    await expect(clerk.m2m.verify({ token: created.token! })).rejects.toMatchObject({ status: 404 })
  })

  it("authenticateRequest({ acceptsToken: 'm2m_token' }) signs a machine in, and refuses revoked, expired and unknown tokens", async () => {
    const clerk = backendSdk(local)
    const created = await clerk.m2m.createToken({
      machineSecretKey: helpdesk.secretKey,
      secondsUntilExpiration: 60,
    })
    const auth = async (token: string) => {
      const state = await clerk.authenticateRequest(
        new Request('http://api.test/x', { headers: { authorization: `Bearer ${token}` } }),
        { acceptsToken: ['session_token', 'm2m_token'] },
      )
      return state.toAuth() as {
        tokenType: string | null
        isAuthenticated: boolean
        machineId?: string | null
        scopes?: string[] | null
      }
    }
    expect(await auth(created.token!)).toMatchObject({
      tokenType: 'm2m_token',
      isAuthenticated: true,
      machineId: helpdesk.id,
      scopes: [actas.id],
    })
    expect(await auth('mt_garbage')).toMatchObject({ isAuthenticated: false })
    clock += 61_000
    expect(await auth(created.token!)).toMatchObject({ isAuthenticated: false })
    const fresh = await clerk.m2m.createToken({ machineSecretKey: helpdesk.secretKey })
    await clerk.m2m.revokeToken({ m2mTokenId: fresh.id })
    expect(await auth(fresh.token!)).toMatchObject({ isAuthenticated: false })
  })
})
