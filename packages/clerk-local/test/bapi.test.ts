import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startClerkLocal, type ClerkLocal } from '../src/index.js'
import type { LocalUser } from '../src/model.js'
import { compareForOrder, ORDER_KEYS, orderValue } from '../src/search.js'
import { assertBapi } from './openapi.js'
import { send } from './support/http.js'
import type { Reply } from './support/http.js'

// Every BAPI route over HTTP, as @clerk/backend calls it, with each response (success and
// error) checked against bapi-2026-05-12.yml.

let clock = Date.UTC(2026, 10, 15, 12, 0, 0)
let local: ClerkLocal

beforeAll(async () => {
  local = await startClerkLocal({ users: 400, seed: 7, now: () => clock })
})
afterAll(async () => {
  await local.stop()
})

function call(
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null; raw?: string } = {},
): Promise<Reply> {
  const key = options.key === undefined ? local.secretKey : options.key
  return send(`${local.url}${path}`, method, { ...options, key })
}

/** Calls a documented route and checks the answer against the spec. */
async function bapi(
  method: string,
  path: string,
  template: string,
  options: Parameters<typeof call>[2] = {},
): Promise<Reply> {
  const reply = await call(method, path, options)
  expect(reply.headers.get('content-type')).toBe('application/json')
  assertBapi(method, template, reply.status, reply.body)
  return reply
}

const users = (reply: Reply) => reply.body as Array<{ id: string; [k: string]: unknown }>
const errorOf = (reply: Reply) =>
  (
    reply.body as {
      errors: Array<{ code: string; long_message: string; meta?: { param_name?: string } }>
    }
  ).errors[0]!
const allUsers = (): LocalUser[] => [...local.state.users.values()]
const slotOf = (u: LocalUser) => local.state.userIndex.slotById.get(u.id)!
const customer = (i = 0) => allUsers().filter((u) => u.passwordDigest === null)[i]!

describe('authentication', () => {
  it('answers 401 with Clerk’s error body without a key, with a wrong key, or a non-Bearer header', async () => {
    for (const key of [null, 'sk_test_wrong', `${local.secretKey}x`]) {
      const reply = await bapi('GET', '/v1/users', '/users', { key })
      expect(reply.status).toBe(401)
      expect(errorOf(reply).code).toBe('authentication_invalid')
    }
    const basic = await fetch(`${local.url}/v1/users`, {
      headers: { Authorization: `Basic ${local.secretKey}` },
    })
    expect(basic.status).toBe(401)
  })
})

describe('GET /v1/users', () => {
  it('returns a JSON array of users, newest first, 10 by default', async () => {
    const reply = await bapi('GET', '/v1/users', '/users')
    expect(reply.status).toBe(200)
    const list = users(reply)
    expect(list).toHaveLength(10)
    const expected = allUsers()
      .sort((a, b) =>
        compareForOrder(
          { value: a.createdAt, slot: slotOf(a) },
          { value: b.createdAt, slot: slotOf(b) },
          true,
        ),
      )
      .slice(0, 10)
      .map((u) => u.id)
    expect(list.map((u) => u.id)).toEqual(expected)
  })

  it('every email and phone carries linked_to and a verification (what @clerk/backend dereferences)', async () => {
    const reply = await bapi('GET', '/v1/users?limit=100', '/users')
    const withPhone = users(reply).filter((u) => (u.phone_numbers as unknown[]).length > 0)
    expect(withPhone.length).toBeGreaterThan(0)
    for (const u of users(reply)) {
      for (const e of u.email_addresses as Array<Record<string, unknown>>) {
        expect(e.linked_to).toEqual([])
        expect(e.verification).toMatchObject({ status: 'verified' })
      }
      for (const p of u.phone_numbers as Array<Record<string, unknown>>)
        expect(p.linked_to).toEqual([])
    }
  })

  it('orders by every documented key, both directions, nulls last', async () => {
    for (const key of ORDER_KEYS) {
      for (const desc of [false, true]) {
        const reply = await bapi(
          'GET',
          `/v1/users?order_by=${desc ? '-' : '%2B'}${key}&limit=25&offset=5`,
          '/users',
        )
        const expected = allUsers()
          .sort((a, b) =>
            compareForOrder(
              { value: orderValue(a, key), slot: slotOf(a) },
              { value: orderValue(b, key), slot: slotOf(b) },
              desc,
            ),
          )
          .slice(5, 30)
          .map((u) => u.id)
        expect(
          users(reply).map((u) => u.id),
          `${desc ? '-' : '+'}${key}`,
        ).toEqual(expected)
      }
    }
  })

  it('pages are disjoint and cover the directory', async () => {
    const seen = new Set<string>()
    for (let offset = 0; offset < local.state.users.size; offset += 150) {
      const page = users(
        await bapi('GET', `/v1/users?limit=150&offset=${offset}&order_by=last_name`, '/users'),
      )
      for (const u of page) {
        expect(seen.has(u.id)).toBe(false)
        seen.add(u.id)
      }
    }
    expect(seen.size).toBe(local.state.users.size)
  })

  it('query: case-insensitive partial match on email, phone, username, names, user id and external id', async () => {
    const target = allUsers().find(
      (u) => u.username && u.externalId && u.phoneNumbers.length > 0 && u.passwordDigest === null,
    )!
    const email = target.emailAddresses[0]!.emailAddress
    const probes = [
      email.slice(1, 8).toUpperCase(),
      target.phoneNumbers[0]!.phoneNumber.slice(3, 10),
      target.username!.slice(0, 6),
      `${target.firstName} ${target.lastName}`.toUpperCase(),
      target.id.slice(5, 16),
      target.externalId!,
    ]
    for (const q of probes) {
      const found = users(
        await bapi('GET', `/v1/users?query=${encodeURIComponent(q)}&limit=500`, '/users'),
      )
      expect(
        found.map((u) => u.id),
        q,
      ).toContain(target.id)
      const count = await bapi(
        'GET',
        `/v1/users/count?query=${encodeURIComponent(q)}`,
        '/users/count',
      )
      expect((count.body as { total_count: number }).total_count).toBe(found.length)
    }
    const none = await bapi('GET', '/v1/users?query=zzqqxxnothing', '/users')
    expect(users(none)).toEqual([])
  })

  it('filters: email_address, phone_number, username, external_id, user_id (repeatable, +/-), organization_id', async () => {
    const [a, b, c] = [customer(1), customer(2), customer(3)]
    const byEmail = users(
      await bapi(
        'GET',
        `/v1/users?email_address=${encodeURIComponent(a.emailAddresses[0]!.emailAddress.toUpperCase())}&email_address=${encodeURIComponent(b.emailAddresses[0]!.emailAddress)}`,
        '/users',
      ),
    )
    expect(new Set(byEmail.map((u) => u.id))).toEqual(new Set([a.id, b.id]))

    const byId = users(
      await bapi('GET', `/v1/users?user_id=${a.id}&user_id=${c.id}&user_id=user_missing`, '/users'),
    )
    expect(new Set(byId.map((u) => u.id))).toEqual(new Set([a.id, c.id]))

    const excluded = await bapi('GET', `/v1/users/count?user_id=-${a.id}`, '/users/count')
    expect((excluded.body as { total_count: number }).total_count).toBe(local.state.users.size - 1)

    const withPhone = allUsers().find((u) => u.phoneNumbers.length > 0)!
    const byPhone = users(
      await bapi(
        'GET',
        `/v1/users?phone_number=${encodeURIComponent(withPhone.phoneNumbers[0]!.phoneNumber)}`,
        '/users',
      ),
    )
    expect(byPhone.map((u) => u.id)).toEqual([withPhone.id])

    const withUsername = allUsers().find((u) => u.username)!
    expect(
      users(await bapi('GET', `/v1/users?username=${withUsername.username!}`, '/users')).map(
        (u) => u.id,
      ),
    ).toEqual([withUsername.id])

    const withExternal = allUsers().find((u) => u.externalId)!
    expect(
      users(await bapi('GET', `/v1/users?external_id=${withExternal.externalId!}`, '/users')).map(
        (u) => u.id,
      ),
    ).toEqual([withExternal.id])

    const support = [...local.state.organizations.values()].find((o) => o.slug === 'support')!
    const staff = users(await bapi('GET', `/v1/users?organization_id=${support.id}`, '/users'))
    const admin = local.accounts.find((x) => x.role === 'admin')!
    const agent = local.accounts.find((x) => x.role === 'agent')!
    const colleague = local.accounts.find((x) => x.role === 'colleague')!
    const approver = local.accounts.find((x) => x.role === 'approver')!
    expect(new Set(staff.map((u) => u.id))).toEqual(
      new Set([admin.userId, agent.userId, colleague.userId, approver.userId]),
    )

    // Different filters combine with AND.
    const both = users(
      await bapi('GET', `/v1/users?organization_id=${support.id}&query=ada`, '/users'),
    )
    expect(both.map((u) => u.id)).toEqual([admin.userId])
    const banned = users(await bapi('GET', '/v1/users?banned=true', '/users'))
    expect(banned.map((u) => u.id)).toEqual([
      local.accounts.find((x) => x.role === 'banned')!.userId,
    ])
  })

  it('starting_after continues the created_at order', async () => {
    const first = users(await bapi('GET', '/v1/users?limit=5', '/users'))
    const next = users(
      await bapi('GET', `/v1/users?limit=5&starting_after=${first[4]!.id}`, '/users'),
    )
    const both = users(await bapi('GET', '/v1/users?limit=10', '/users'))
    expect([...first, ...next].map((u) => u.id)).toEqual(both.map((u) => u.id))
  })

  it('rejects bad parameters with 422 form_param_value_invalid naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=', 'limit'],
      ['offset=-1', 'offset'],
      ['offset=1.5', 'offset'],
      ['order_by=password', 'order_by'],
      ['order_by=--created_at', 'order_by'],
      ['banned=maybe', 'banned'],
      ['created_at_after=yesterday', 'created_at_after'],
      ['starting_after=user_x&order_by=-updated_at', 'starting_after'],
      ['starting_after=user_unknown', 'starting_after'],
      ['provider=oauth_google', 'provider'],
      [Array.from({ length: 101 }, (_, i) => `user_id=u${i}`).join('&'), 'user_id'],
    ]
    for (const [qs, param] of cases) {
      const reply = await bapi('GET', `/v1/users?${qs}`, '/users')
      expect(reply.status, qs).toBe(422)
      expect(errorOf(reply)).toMatchObject({
        code: 'form_param_value_invalid',
        meta: { param_name: param },
      })
    }
    const count = await bapi('GET', '/v1/users/count?banned=1', '/users/count')
    expect(count.status).toBe(422)
  })
})

describe('hostile input', () => {
  it('never answers 500: malformed escapes, wrong JSON shapes, huge values', async () => {
    const probes: Array<[string, string, string | undefined]> = [
      ['GET', '/v1/users/%E0%A4%A', undefined],
      ['POST', '/v1/actor_tokens/%ZZ/revoke', undefined],
      ['GET', '/v1/users?query=%E0%A4%A', undefined],
      ['GET', `/v1/users?query=${'a'.repeat(5000)}`, undefined],
      ['GET', '/v1/users?limit=99999999999999999999', undefined],
      ['GET', '/v1/users?user_id=%2B&email_address=&order_by=', undefined],
      ['POST', '/v1/actor_tokens', '[1,2]'],
      ['POST', '/v1/actor_tokens', 'null'],
      ['POST', '/v1/actor_tokens', '{"user_id":{},"actor":{"sub":"x"}}'],
      ['POST', '/v1/actor_tokens', '{"user_id":"x","actor":[]}'],
    ]
    for (const [method, path, raw] of probes) {
      const reply = await call(method, path, raw === undefined ? {} : { raw })
      expect(reply.status, `${method} ${path.slice(0, 60)}`).toBeLessThan(500)
      expect(reply.status, `${method} ${path.slice(0, 60)}`).toBeGreaterThanOrEqual(200)
    }
    expect((await call('GET', '/v1/users/%E0%A4%A')).status).toBe(404)
  })
})

describe('GET /v1/users/count', () => {
  it('counts with the same filters, ignoring paging', async () => {
    const reply = await bapi('GET', '/v1/users/count?limit=1', '/users/count')
    expect(reply.body).toEqual({ object: 'total_count', total_count: local.state.users.size })
    const gmail = allUsers().filter((u) =>
      u.emailAddresses.some((e) => e.emailAddress.includes('gmail')),
    ).length
    expect((await bapi('GET', '/v1/users/count?query=GMAIL', '/users/count')).body).toEqual({
      object: 'total_count',
      total_count: gmail,
    })
  })
})

describe('GET /v1/users/{user_id}', () => {
  it('returns the user, or 404 resource_not_found', async () => {
    const admin = local.accounts.find((a) => a.role === 'admin')!
    const reply = await bapi('GET', `/v1/users/${admin.userId}`, '/users/{user_id}')
    expect(reply.body).toMatchObject({
      object: 'user',
      id: admin.userId,
      first_name: 'Ada',
      password_enabled: true,
    })
    const missing = await bapi('GET', '/v1/users/user_nope', '/users/{user_id}')
    expect(missing.status).toBe(404)
    expect(errorOf(missing).code).toBe('resource_not_found')
  })

  it('serves generated avatars without the secret key', async () => {
    const u = customer(0)
    const res = await fetch(u.imageUrl)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/svg+xml')
    expect(await res.text()).toContain('<svg')
  })
})

describe('GET /v1/users/{user_id}/organization_memberships', () => {
  it('lists memberships with organization, role, permissions and public user data', async () => {
    const admin = local.accounts.find((a) => a.role === 'admin')!
    const reply = await bapi(
      'GET',
      `/v1/users/${admin.userId}/organization_memberships`,
      '/users/{user_id}/organization_memberships',
    )
    const body = reply.body as { data: Array<Record<string, unknown>>; total_count: number }
    expect(body.total_count).toBe(1)
    expect(body.data[0]).toMatchObject({
      object: 'organization_membership',
      role: 'org:admin',
      permissions: ['org:admin:impersonate'],
      organization: { object: 'organization', slug: 'support' },
      public_user_data: { user_id: admin.userId, identifier: 'ada@support.actas.test' },
    })
    const agent = local.accounts.find((a) => a.role === 'agent')!
    const agentReply = await bapi(
      'GET',
      `/v1/users/${agent.userId}/organization_memberships`,
      '/users/{user_id}/organization_memberships',
    )
    expect((agentReply.body as typeof body).data[0]).toMatchObject({
      role: 'org:member',
      permissions: [],
    })
    const nobody = await bapi(
      'GET',
      `/v1/users/${customer(0).id}/organization_memberships?limit=5`,
      '/users/{user_id}/organization_memberships',
    )
    expect(nobody.body).toEqual({ data: [], total_count: 0 })
  })
})

describe('actor tokens', () => {
  const admin = () => local.accounts.find((a) => a.role === 'admin')!

  it('creates a pending token with a ticket and URL (defaults 3600 s / 1800 s) and revokes it once', async () => {
    const target = customer(5)
    const reply = await bapi('POST', '/v1/actor_tokens', '/actor_tokens', {
      body: { user_id: target.id, actor: { sub: admin().userId } },
    })
    expect(reply.status).toBe(200)
    const token = reply.body as {
      id: string
      status: string
      token: string
      url: string
      user_id: string
      actor: unknown
    }
    expect(token).toMatchObject({
      object: 'actor_token',
      status: 'pending',
      user_id: target.id,
      actor: { sub: admin().userId },
    })
    expect(token.url).toBe(`${local.frontendApiUrl}/v1/tickets/accept?ticket=${token.token}`)
    const stored = local.state.actorTokens.get(token.id)!
    expect(stored.expiresAt - stored.createdAt).toBe(3600_000)
    expect(stored.sessionMaxDurationSeconds).toBe(1800)

    const revoked = await bapi(
      'POST',
      `/v1/actor_tokens/${token.id}/revoke`,
      '/actor_tokens/{actor_token_id}/revoke',
    )
    expect(revoked.body).toMatchObject({ id: token.id, status: 'revoked' })
    expect(revoked.body).not.toHaveProperty('token')
    const again = await bapi(
      'POST',
      `/v1/actor_tokens/${token.id}/revoke`,
      '/actor_tokens/{actor_token_id}/revoke',
    )
    expect(again.status).toBe(400)
    const unknown = await bapi(
      'POST',
      '/v1/actor_tokens/act_nope/revoke',
      '/actor_tokens/{actor_token_id}/revoke',
    )
    expect(unknown.status).toBe(404)
  })

  it('honours expires_in_seconds and session_max_duration_in_seconds', async () => {
    const reply = await bapi('POST', '/v1/actor_tokens', '/actor_tokens', {
      body: {
        user_id: customer(6).id,
        actor: { sub: admin().userId, reason: 'ticket #42' },
        expires_in_seconds: 600,
        session_max_duration_in_seconds: 900,
      },
    })
    const stored = local.state.actorTokens.get((reply.body as { id: string }).id)!
    expect(stored.expiresAt - stored.createdAt).toBe(600_000)
    expect(stored.sessionMaxDurationSeconds).toBe(900)
    expect(stored.actor).toEqual({ sub: admin().userId, reason: 'ticket #42' })
  })

  it('rejects bad bodies with 422 (never 500)', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ actor: { sub: 'user_1' } }, 'form_param_missing', 'user_id'],
      [{ user_id: customer(1).id }, 'form_param_missing', 'actor'],
      [{ user_id: customer(1).id, actor: {} }, 'form_param_missing', 'actor.sub'],
      [{ user_id: customer(1).id, actor: 'user_1' }, 'form_param_value_invalid', 'actor'],
      [{ user_id: 42, actor: { sub: 'user_1' } }, 'form_param_value_invalid', 'user_id'],
      [
        { user_id: 'user_unknown', actor: { sub: 'user_1' } },
        'form_param_value_invalid',
        'user_id',
      ],
      [
        { user_id: customer(1).id, actor: { sub: 'user_1' }, expires_in_seconds: 0 },
        'form_param_value_invalid',
        'expires_in_seconds',
      ],
      [
        { user_id: customer(1).id, actor: { sub: 'user_1' }, expires_in_seconds: '60' },
        'form_param_value_invalid',
        'expires_in_seconds',
      ],
      [
        { user_id: customer(1).id, actor: { sub: 'user_1' }, session_max_duration_in_seconds: 1.5 },
        'form_param_value_invalid',
        'session_max_duration_in_seconds',
      ],
      [
        { user_id: customer(1).id, actor: { sub: 'user_1' }, ticket: 'x' },
        'form_param_unknown',
        'ticket',
      ],
    ]
    for (const [body, code, param] of cases) {
      const reply = await bapi('POST', '/v1/actor_tokens', '/actor_tokens', { body })
      expect(reply.status, JSON.stringify(body)).toBe(422)
      expect(errorOf(reply)).toMatchObject({ code, meta: { param_name: param } })
    }
    const notJson = await bapi('POST', '/v1/actor_tokens', '/actor_tokens', { raw: '{"user_id":' })
    expect(notJson.status).toBe(400)
  })

  it('quota on: the 6th token of a calendar month is refused with 402; next month works again', async () => {
    const fresh = await startClerkLocal({ users: 10, now: () => clock, quota: true })
    try {
      const adminId = fresh.accounts.find((a) => a.role === 'admin')!.userId
      const target = fresh.accounts.find((a) => a.role === 'agent')!.userId
      const create = async () => {
        const res = await fetch(`${fresh.url}/v1/actor_tokens`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${fresh.secretKey}`,
            'Content-Type': 'application/json',
          },
          body: JSON.stringify({ user_id: target, actor: { sub: adminId } }),
        })
        const body = (await res.json()) as unknown
        assertBapi('POST', '/actor_tokens', res.status, body)
        return { status: res.status, body }
      }
      for (let i = 0; i < 5; i++) expect((await create()).status).toBe(200)
      const refused = await create()
      expect(refused.status).toBe(402)
      expect((refused.body as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
        'quota_exceeded',
      )
      const saved = clock
      clock = Date.UTC(2026, 11, 1, 0, 0, 1)
      try {
        expect((await create()).status).toBe(200)
      } finally {
        clock = saved
      }
      fresh.faults.setQuota(false)
      expect((await create()).status).toBe(200)
    } finally {
      await fresh.stop()
    }
  })
})

describe('GET /v1/jwks', () => {
  it('serves the RSA signing key', async () => {
    const reply = await bapi('GET', '/v1/jwks', '/jwks')
    expect(reply.body).toEqual(local.jwks)
    expect((reply.body as { keys: Array<{ kty: string; alg: string }> }).keys[0]).toMatchObject({
      kty: 'RSA',
      alg: 'RS256',
    })
  })
})
