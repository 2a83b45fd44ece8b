import { createClerkClient, type ClerkClient } from '@clerk/backend'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startClerkLocal, type ClerkLocal } from '../src/index.js'
import { createFapiClient } from '../src/testing.js'
import { accountOf, apiError, backendSdk, startWithSdk, type SeededRole } from './support/local.js'

// The real @clerk/backend 3.25 (Clerk-API-Version 2026-05-12) against the local server:
// what apps/api's directory adapter will do.

let local: ClerkLocal
let clerk: ClerkClient

beforeAll(async () => {
  process.env.CLERK_TELEMETRY_DISABLED = '1'
  ;({ local, clerk } = await startWithSdk({ users: 2000, seed: 3 }))
})
afterAll(async () => {
  await local.stop()
})
beforeEach(() => {
  local.faults.clear()
  local.faults.setQuota(false)
})

const account = (role: SeededRole) => accountOf(local, role)

describe('users', () => {
  it('getUserList finds a customer by part of an email, with totalCount and resolved User objects', async () => {
    const target = [...local.state.users.values()].find(
      (u) => u.passwordDigest === null && u.emailAddresses.length === 1,
    )!
    const email = target.emailAddresses[0]!.emailAddress
    const fragment = email.slice(0, email.indexOf('@')).slice(-6).toUpperCase()
    const { data, totalCount } = await clerk.users.getUserList({ query: fragment, limit: 50 })
    expect(data.map((u) => u.id)).toContain(target.id)
    expect(totalCount).toBeGreaterThanOrEqual(1)
    expect(totalCount).toBe(
      [...local.state.users.values()].filter((u) =>
        [
          u.id,
          u.externalId,
          u.username,
          u.firstName,
          u.lastName,
          `${u.firstName} ${u.lastName}`,
          ...u.emailAddresses.map((e) => e.emailAddress),
          ...u.phoneNumbers.map((p) => p.phoneNumber),
        ].some((f) => f?.toLowerCase().includes(fragment.toLowerCase())),
      ).length,
    )
    const user = data.find((u) => u.id === target.id)!
    expect(user.primaryEmailAddress?.emailAddress).toBe(email)
    expect(user.firstName).toBe(target.firstName)
    expect(user.createdAt).toBe(target.createdAt)
  })

  it('getUserList respects orderBy and pages without overlap', async () => {
    const first = await clerk.users.getUserList({ orderBy: '+created_at', limit: 20 })
    const second = await clerk.users.getUserList({ orderBy: '+created_at', limit: 20, offset: 20 })
    expect(first.totalCount).toBe(local.state.users.size)
    const times = [...first.data, ...second.data].map((u) => u.createdAt)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    const ids = new Set([...first.data, ...second.data].map((u) => u.id))
    expect(ids.size).toBe(40)

    const byLastActive = await clerk.users.getUserList({ orderBy: '-last_active_at', limit: 50 })
    const active = byLastActive.data.map((u) => u.lastActiveAt ?? -1)
    expect(active).toEqual([...active].sort((a, b) => b - a))
  })

  it('getUserList filters by userId (repeated) and organizationId', async () => {
    const ids = [account('banned').userId, account('locked').userId]
    const { data, totalCount } = await clerk.users.getUserList({ userId: ids })
    expect(new Set(data.map((u) => u.id))).toEqual(new Set(ids))
    expect(totalCount).toBe(2)
    const banned = data.find((u) => u.id === account('banned').userId)!
    expect(banned.banned).toBe(true)
    expect(data.find((u) => u.id === account('locked').userId)!.locked).toBe(true)

    const support = [...local.state.organizations.values()].find((o) => o.slug === 'support')!
    const staff = await clerk.users.getUserList({
      organizationId: [support.id],
      orderBy: 'first_name',
    })
    expect(staff.data.map((u) => u.firstName)).toEqual(['Ada', 'Grace', 'Katherine', 'Sam'])
    expect(staff.totalCount).toBe(4)
  })

  it('getUser returns the user; unknown ids are a 404 ClerkAPIResponseError', async () => {
    const ada = await clerk.users.getUser(account('admin').userId)
    expect(ada.fullName).toBe('Ada Lovelace')
    expect(ada.primaryEmailAddress?.emailAddress).toBe('ada@support.actas.test')
    const error = await apiError(clerk.users.getUser('user_missing'))
    expect(error.status).toBe(404)
    expect(error.errors[0]!.code).toBe('resource_not_found')
  })

  it('getOrganizationMembershipList shows the admin role with org:admin:impersonate', async () => {
    const { data } = await clerk.users.getOrganizationMembershipList({
      userId: account('admin').userId,
    })
    expect(data).toHaveLength(1)
    expect(data[0]!.role).toBe('org:admin')
    expect(data[0]!.permissions).toEqual(['org:admin:impersonate'])
    expect(data[0]!.organization.slug).toBe('support')
  })

  it('bad parameters surface as 422', async () => {
    const error = await apiError(clerk.users.getUserList({ limit: 501 }))
    expect(error.status).toBe(422)
    expect(error.errors[0]!.code).toBe('form_param_value_invalid')
    expect(error.errors[0]!.meta?.paramName).toBe('limit')
  })

  it('a wrong secret key is a 401', async () => {
    const wrong = createClerkClient({ secretKey: 'sk_test_wrong', apiUrl: local.url })
    const error = await apiError(wrong.users.getUser(account('admin').userId))
    expect(error.status).toBe(401)
  })
})

describe('actor tokens', () => {
  it('create returns a pending token with a ticket; revoke marks it revoked', async () => {
    const token = await clerk.actorTokens.create({
      userId: account('agent').userId,
      actor: { sub: account('admin').userId },
      expiresInSeconds: 600,
      sessionMaxDurationInSeconds: 1800,
    })
    expect(token.status).toBe('pending')
    expect(token.userId).toBe(account('agent').userId)
    expect(token.actor).toEqual({ sub: account('admin').userId })
    expect(token.token).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(token.url).toContain('/v1/tickets/accept?ticket=')
    const revoked = await clerk.actorTokens.revoke(token.id)
    expect(revoked.status).toBe('revoked')
    expect(local.state.actorTokens.get(token.id)!.status).toBe('revoked')
    const again = await apiError(clerk.actorTokens.revoke(token.id))
    expect(again.status).toBe(400)
  })

  it("the whole actor payload, extra fields included, becomes the session token's act claim", async () => {
    // Clerk: "This whole payload will be also included in the JWT session token" (BAPI spec,
    // POST /actor_tokens). @clerk/backend sends `actor` as given (no deep snake-casing).
    const actor = {
      sub: account('admin').userId,
      reason: 'Ticket 42: checkout fails',
      impersonation_id: '6f1c2f4e-5b7a-4c1e-9a55-0d2b8f3c1a77',
      mode: 'read_only',
    }
    const created = await clerk.actorTokens.create({
      userId: account('agent').userId,
      actor,
    })
    expect(created.actor).toEqual(actor)
    const origin = 'http://localhost:5173'
    const fapi = createFapiClient({ frontendApiUrl: local.frontendApiUrl, origin })
    const { token } = await fapi.signInWithTicket(created.token!)
    const state = await clerk.authenticateRequest(
      new Request('http://localhost:3000/x', { headers: { authorization: `Bearer ${token}` } }),
      {
        jwtKey: local.jwtPublicKeyPem,
        authorizedParties: [origin],
        publishableKey: local.publishableKey,
      },
    )
    const auth = state.toAuth()
    expect(auth?.userId).toBe(account('agent').userId)
    expect((auth as { actor?: unknown } | null)?.actor).toEqual(actor)
  })

  it('an unknown user is a 422', async () => {
    const error = await apiError(
      clerk.actorTokens.create({ userId: 'user_nobody', actor: { sub: account('admin').userId } }),
    )
    expect(error.status).toBe(422)
  })

  it('quota on: 402 after 5 tokens this month', async () => {
    const fresh = await startClerkLocal({ users: 0, quota: true })
    try {
      const client = backendSdk(fresh)
      const userId = fresh.accounts.find((a) => a.role === 'agent')!.userId
      const sub = fresh.accounts.find((a) => a.role === 'admin')!.userId
      for (let i = 0; i < 5; i++) await client.actorTokens.create({ userId, actor: { sub } })
      const error = await apiError(client.actorTokens.create({ userId, actor: { sub } }))
      expect(error.status).toBe(402)
      expect(error.errors[0]!.code).toBe('quota_exceeded')
    } finally {
      await fresh.stop()
    }
  })

  it('faults: 429 with Retry-After, and 503', async () => {
    local.faults.add({
      route: 'POST /v1/actor_tokens',
      status: 429,
      retryAfterSeconds: 30,
      times: 1,
    })
    const limited = await apiError(
      clerk.actorTokens.create({
        userId: account('agent').userId,
        actor: { sub: account('admin').userId },
      }),
    )
    expect(limited.status).toBe(429)
    expect(limited.retryAfter).toBe(30)

    local.faults.add({ route: 'GET /v1/users', status: 503 })
    const down = await apiError(clerk.users.getUserList({ query: 'ada' }))
    expect(down.status).toBe(503)
    // The fault was on the list route only: after clearing, the same call works.
    local.faults.clear()
    expect((await clerk.users.getUserList({ query: 'ada' })).totalCount).toBeGreaterThan(0)
  })
})
