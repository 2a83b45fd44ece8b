import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FaultController, startClerkLocal, type ClerkLocal } from '../src/index.js'
import { assertBapi } from './openapi.js'
import { send } from './support/http.js'
import type { Reply } from './support/http.js'

// Fault injection (library and control API), the quota switch and ticket expiry over HTTP.

let local: ClerkLocal
let clock = Date.UTC(2026, 3, 20, 9, 0, 0)

beforeAll(async () => {
  local = await startClerkLocal({ users: 30, now: () => clock })
})
afterAll(async () => {
  await local.stop()
})
beforeEach(() => {
  local.faults.clear()
  local.faults.setQuota(false)
})

async function call(
  method: string,
  path: string,
  body?: unknown,
  key: string | null = local.secretKey,
) {
  const reply = await send(`${local.url}${path}`, method, { body, key })
  return reply as Reply<Record<string, unknown> & { errors?: Array<{ code: string }> }>
}

const admin = () => local.accounts.find((a) => a.role === 'admin')!
const agent = () => local.accounts.find((a) => a.role === 'agent')!

describe('faults', () => {
  it('applies rules given at start-up, `times` times', async () => {
    const fresh = await startClerkLocal({
      users: 0,
      faults: [{ route: 'GET /v1/jwks', status: 503, times: 1 }],
    })
    try {
      const first = await fetch(`${fresh.url}/v1/jwks`, {
        headers: { Authorization: `Bearer ${fresh.secretKey}` },
      })
      expect(first.status).toBe(503)
      const second = await fetch(`${fresh.url}/v1/jwks`, {
        headers: { Authorization: `Bearer ${fresh.secretKey}` },
      })
      expect(second.status).toBe(200)
    } finally {
      await fresh.stop()
    }
  })

  it('429 with Retry-After on the named route only; other routes untouched', async () => {
    local.faults.add({ route: 'POST /v1/actor_tokens', status: 429, retryAfterSeconds: 7 })
    const limited = await call('POST', '/v1/actor_tokens', {
      user_id: agent().userId,
      actor: { sub: admin().userId },
    })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('7')
    expect(limited.body.errors?.[0]?.code).toBe('too_many_requests')
    expect((await call('GET', '/v1/users?limit=1')).status).toBe(200)
  })

  it('`*` hits every BAPI route but not the FAPI; FAPI routes fail only when named', async () => {
    local.faults.add({ route: '*', status: 500 })
    const users = await call('GET', '/v1/users')
    expect(users.status).toBe(500)
    expect(users.body.errors?.[0]?.code).toBe('internal_clerk_error')
    const env = await fetch(`${local.frontendApiUrl}/v1/environment`)
    expect(env.status).toBe(200)
    local.faults.clear()
    local.faults.add({ route: 'GET /v1/environment', status: 503 })
    expect((await fetch(`${local.frontendApiUrl}/v1/environment`)).status).toBe(503)
  })

  it('holds the matching route only, with or without a status', async () => {
    local.faults.add({ route: 'GET /v1/users/count', latencyMs: 1500, times: 1 })
    let held = true
    const slow = call('GET', '/v1/users/count').finally(() => (held = false))
    // Another route answers while the delayed one is still held.
    expect((await call('GET', '/v1/users?limit=1')).status).toBe(200)
    expect(held).toBe(true)
    const delayed = await slow
    expect(delayed.status).toBe(200)
    expect(delayed.ms).toBeGreaterThanOrEqual(1450)
    // Latency before an injected status: the status arrives, late.
    local.faults.add({ route: 'GET /v1/users/count', latencyMs: 300, status: 503, times: 1 })
    const late = await call('GET', '/v1/users/count')
    expect(late.status).toBe(503)
    expect(late.ms).toBeGreaterThanOrEqual(250)
  })

  it('refuses malformed rules', () => {
    const faults = new FaultController()
    expect(() => faults.add({ route: '' })).toThrow(TypeError)
    expect(() => faults.add({ route: '*' })).toThrow(/status/)
    expect(() => faults.add({ route: '*', status: 404 as 429 })).toThrow(/429, 500 or 503/)
    expect(() => faults.add({ route: '*', status: 503, times: 0 })).toThrow(/times/)
  })
})

describe('control API', () => {
  it('requires the secret key', async () => {
    expect((await call('POST', '/__local/faults', { route: '*', status: 503 }, null)).status).toBe(
      401,
    )
    expect((await call('POST', '/__local/quota', { enabled: true }, 'sk_test_nope')).status).toBe(
      401,
    )
    expect((await call('POST', '/__local/actor_tokens/expire', undefined, null)).status).toBe(401)
    expect(local.faults.rules()).toEqual([])
  })

  it('POST /__local/faults adds a rule, {clear:true} removes all, bad rules are 422', async () => {
    const added = await call('POST', '/__local/faults', {
      route: 'GET /v1/users/:user_id',
      status: 503,
      retryAfterSeconds: 2,
      times: 2,
    })
    expect(added.status).toBe(200)
    expect(added.body.rules).toEqual([
      { route: 'GET /v1/users/:user_id', status: 503, retryAfterSeconds: 2, times: 2 },
    ])
    const hit = await call('GET', `/v1/users/${admin().userId}`)
    expect(hit.status).toBe(503)
    expect(hit.headers.get('retry-after')).toBe('2')
    expect((await call('POST', '/__local/faults', { clear: true })).body.rules).toEqual([])
    expect((await call('GET', `/v1/users/${admin().userId}`)).status).toBe(200)
    const bad = await call('POST', '/__local/faults', { route: '*', status: 418 })
    expect(bad.status).toBe(422)
    // The control API itself is never faulted, or a `*` rule could not be cleared.
    await call('POST', '/__local/faults', { route: '*', status: 503 })
    expect((await call('GET', '/__local/faults')).status).toBe(200)
    expect((await call('POST', '/__local/faults', { clear: true })).status).toBe(200)
  })

  it('POST /__local/quota switches the free-plan quota (402 after `limit` tokens this month)', async () => {
    const on = await call('POST', '/__local/quota', { enabled: true, limit: 1 })
    expect(on.body.quota).toEqual({ enabled: true, limit: 1 })
    const make = () =>
      call('POST', '/v1/actor_tokens', { user_id: agent().userId, actor: { sub: admin().userId } })
    // Tokens created earlier this month (by other tests) count: at most `limit` in total.
    clock = Date.UTC(2026, 4, 2)
    expect((await make()).status).toBe(200)
    const refused = await make()
    expect(refused.status).toBe(402)
    assertBapi('POST', '/actor_tokens', 402, refused.body)
    expect((await call('POST', '/__local/quota', { enabled: 'yes' })).status).toBe(422)
    await call('POST', '/__local/quota', { enabled: false })
    expect((await make()).status).toBe(200)
  })

  it('POST /__local/actor_tokens/expire expires every pending ticket', async () => {
    const created = await call('POST', '/v1/actor_tokens', {
      user_id: agent().userId,
      actor: { sub: admin().userId },
    })
    const id = created.body.id as string
    const token = local.state.actorTokens.get(id)!
    expect(token.expiresAt).toBeGreaterThan(clock)
    const expired = await call('POST', '/__local/actor_tokens/expire')
    expect(expired.status).toBe(200)
    expect(expired.body.expired).toBeGreaterThanOrEqual(1)
    expect(token.expiresAt).toBeLessThan(clock)
    expect(token.status).toBe('pending')
  })
})

describe('request counts', () => {
  it('counts Backend API requests per route, not the control API, and resets', async () => {
    local.requests.reset()
    await call('GET', '/v1/users?limit=1')
    await call('GET', '/v1/users?limit=2')
    await call('GET', `/v1/users/${admin().userId}/organization_memberships`)
    // Refused (401) and faulted requests reach Clerk too: they count.
    await call('GET', '/v1/users/count', undefined, null)
    await call('GET', '/__local/faults')
    const counts = await call('GET', '/__local/requests')
    expect(counts.body).toEqual({
      total: 4,
      routes: {
        'GET /v1/users': 2,
        'GET /v1/users/:user_id/organization_memberships': 1,
        'GET /v1/users/count': 1,
      },
    })
    expect(local.requests.snapshot().total).toBe(4)
    expect((await call('POST', '/__local/requests/reset', {})).body).toEqual({
      total: 0,
      routes: {},
    })
    expect((await call('GET', '/__local/requests', undefined, null)).status).toBe(401)
  })
})
