// Every procedure end to end: the typed client → app.inject → @clerk/fastify → the local
// Clerk-compatible server, with tokens from real sign-ins, and the audit log in PGlite.
import type { ActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { impersonations } from '../src/audit/schema.js'
import { failure, startAdminStack } from './support/stack.js'
import type { AdminStack, SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient

/** A seeded customer nobody has impersonated yet in this file. */
let nextCustomer: AdminStack['nextCustomer']

beforeAll(async () => {
  ;({ stack, admin, api, nextCustomer } = await startAdminStack())
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('audit database', () => {
  it('is a Postgres server when DATABASE_URL is set, else embedded PGlite', () => {
    expect(stack.deps.database.kind).toBe(process.env['DATABASE_URL'] ? 'postgres' : 'pglite')
  })
})

describe('me', () => {
  it('describes the admin: active organization, permission, no actor', async () => {
    const me = await api.me.query()
    expect(me).toMatchObject({
      userId: stack.account('admin').userId,
      organization: { id: stack.supportOrgId, slug: 'support' },
      canImpersonate: true,
      actor: null,
    })
    expect(me.permissions).toContain('org:admin:impersonate')
  })

  it('answers an agent too, without the permission', async () => {
    const agent = await stack.signIn('agent')
    const me = await stack.client(() => agent.token()).me.query()
    expect(me).toMatchObject({ userId: stack.account('agent').userId, canImpersonate: false })
  })
})

describe('HTTP framing', () => {
  it('answers JSON a client can read whole (success, batch and error)', async () => {
    const authorization = `Bearer ${await admin.token()}`
    const urls = [
      '/trpc/me',
      `/trpc/me,users.search?batch=1&input=${encodeURIComponent(JSON.stringify({ 1: { limit: 2 } }))}`,
      `/trpc/users.search?input=${encodeURIComponent(JSON.stringify({ limit: 500 }))}`,
    ]
    for (const url of urls) {
      const res = await stack.app.inject({ method: 'GET', url, headers: { authorization } })
      expect(res.headers['content-type'], url).toMatch(/^application\/json/)
      expect(res.headers['x-request-id'], url).toBeTruthy()
      expect(() => JSON.parse(res.body) as unknown, url).not.toThrow()
    }
  })

  it('still streams a batch asked for as JSON lines', async () => {
    const res = await stack.app.inject({
      method: 'GET',
      url: '/trpc/me,quota?batch=1',
      headers: {
        authorization: `Bearer ${await admin.token()}`,
        'trpc-accept': 'application/jsonl',
      },
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['transfer-encoding']).toBe('chunked')
    expect(res.headers['content-length']).toBeUndefined()
    expect(res.body).toContain(stack.account('admin').userId)
  })
})

describe('users.search', () => {
  it('lists every user newest first when the query is empty', async () => {
    const page = await api.users.search.query({})
    expect(page.items).toHaveLength(20)
    expect(page.total).toBe(stack.clerk.state.users.size)
    const created = page.items.map((u) => Date.parse(u.createdAt))
    expect(created).toEqual([...created].sort((a, b) => b - a))
    expect(page.next).toEqual(expect.any(String))
  })

  it('sorts oldest first on request', async () => {
    const page = await api.users.search.query({ orderBy: '+created_at', limit: 10 })
    const created = page.items.map((u) => Date.parse(u.createdAt))
    expect(created).toEqual([...created].sort((a, b) => a - b))
  })

  it('pages with the cursor without repeating anyone', async () => {
    const first = await api.users.search.query({ limit: 7 })
    const second = await api.users.search.query({ limit: 7, cursor: first.next ?? undefined })
    const ids = new Set([...first.items, ...second.items].map((u) => u.id))
    expect(ids.size).toBe(14)
  })

  it('shows why each staff or blocked account cannot be impersonated', async () => {
    const verdict = async (role: 'admin' | 'agent' | 'banned' | 'locked') => {
      const account = stack.account(role)
      const page = await api.users.search.query({ query: account.identifier })
      const item = page.items.find((u) => u.id === account.userId)
      expect(item, `${role} not found by email`).toBeDefined()
      return item!
    }
    expect((await verdict('admin')).impersonation).toMatchObject({ allowed: false, rule: 'self' })
    const agent = await verdict('agent')
    expect(agent.impersonation).toMatchObject({ allowed: false, rule: 'staff' })
    expect(agent.organizations.map((o) => o.slug)).toContain('support')
    const banned = await verdict('banned')
    expect(banned).toMatchObject({
      banned: true,
      impersonation: { allowed: false, rule: 'banned' },
    })
    expect(banned.impersonation.reason).toMatch(/banned/)
    expect((await verdict('locked')).impersonation).toMatchObject({
      allowed: false,
      rule: 'locked',
    })
  })

  it('offers customers to impersonate, with their profile', async () => {
    const customer = nextCustomer()
    const email = customer.emailAddresses[0]!.emailAddress
    const page = await api.users.search.query({ query: email })
    expect(page.items[0]).toMatchObject({
      id: customer.id,
      primaryEmail: email,
      banned: false,
      locked: false,
      impersonation: { allowed: true },
    })
  })

  it('refuses a limit above 100 with the field named', async () => {
    const error = await failure(api.users.search.query({ limit: 101 }))
    expect(error).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400 })
    expect(error.fieldErrors['limit']).toBeDefined()
  })
})

describe('impersonation.start', () => {
  it('issues a ticket that signs in as the user, with the admin as actor', async () => {
    const customer = nextCustomer()
    const reason = 'Customer reported a broken checkout (ticket 4821)'
    const started = await api.impersonation.start.mutate({
      userId: customer.id,
      reason,
      ticketUrl: 'https://support.example.com/tickets/4821',
      sessionMinutes: 15,
    })
    expect(started.redirectPath).toBe('/')
    const expiresIn = Date.parse(started.expiresAt) - Date.now()
    expect(expiresIn).toBeGreaterThan(200_000)
    expect(expiresIn).toBeLessThanOrEqual(300_000)
    expect(Date.parse(started.sessionExpiresAt) - Date.parse(started.expiresAt)).toBe(15 * 60_000)

    // What Clerk was asked for.
    const token = [...stack.clerk.state.actorTokens.values()].find((t) => t.userId === customer.id)!
    expect(token.actor).toEqual({
      sub: admin.userId,
      reason,
      impersonation_id: started.impersonationId,
      mode: 'full',
    })
    expect(token.sessionMaxDurationSeconds).toBe(15 * 60)
    expect(token.expiresAt - token.createdAt).toBe(300_000)

    // The ticket works, and the impersonated session knows who is acting.
    const impersonated = await stack.signInWithTicket(started.ticket)
    expect(impersonated.userId).toBe(customer.id)
    const me = await stack.client(() => impersonated.token()).me.query()
    expect(me).toMatchObject({
      userId: customer.id,
      canImpersonate: false,
      actor: {
        userId: admin.userId,
        impersonationId: started.impersonationId,
        reason,
        // from the audit row the claim names: the admin's email and the session's latest end
        email: stack.account('admin').identifier,
        sessionExpiresAt: started.sessionExpiresAt,
      },
    })

    // The claim alone is never trusted: a session whose `act` names this row but whose user or
    // actor differs from the row's gets no email and no expiry.
    const forged = async (userId: string, sub: string) => {
      const t = stack.clerk.state.newActorToken(
        userId,
        { sub, reason, impersonation_id: started.impersonationId },
        300,
        15 * 60,
      )
      try {
        const s = await stack.signInWithTicket(t.token)
        return (await stack.client(() => s.token()).me.query()).actor
      } finally {
        stack.clerk.state.actorTokens.delete(t.id) // not ActAs's: keep the quota test's count
      }
    }
    const other = nextCustomer()
    expect(await forged(other.id, admin.userId)).toEqual({
      userId: admin.userId,
      impersonationId: started.impersonationId,
      reason,
      // no act.mode in the forged claim: read as a session from before modes (full)
      mode: 'full',
      email: null,
      sessionExpiresAt: null,
    })
    expect(await forged(customer.id, stack.account('agent').userId)).toMatchObject({
      email: null,
      sessionExpiresAt: null,
    })

    // The audit row: issued, both emails, the Clerk token id, never the ticket.
    const {
      items: [row],
    } = await api.impersonation.list.query({ userId: customer.id })
    expect(row).toMatchObject({
      id: started.impersonationId,
      status: 'issued',
      actor: { id: admin.userId, email: stack.account('admin').identifier },
      user: { id: customer.id, email: customer.emailAddresses[0]!.emailAddress },
      reason,
      ticketUrl: 'https://support.example.com/tickets/4821',
      clerkActorTokenId: token.id,
      sessionMinutes: 15,
      expiresAt: started.expiresAt,
      sessionExpiresAt: started.sessionExpiresAt,
    })
    expect(row!.requestId).toEqual(expect.any(String))
    expect(row!.ip).toEqual(expect.any(String))
    const stored = JSON.stringify(await stack.deps.database.db.select().from(impersonations))
    expect(stored).not.toContain(started.ticket)
  })

  it('refuses a banned user, says why, and records the denial', async () => {
    const banned = stack.account('banned')
    const error = await failure(
      api.impersonation.start.mutate({
        userId: banned.userId,
        reason: 'Checking the ban reason for support',
      }),
    )
    expect(error).toMatchObject({ code: 'POLICY_DENIED', httpStatus: 403, rule: 'banned' })
    const {
      items: [row],
    } = await api.impersonation.list.query({ userId: banned.userId })
    expect(row).toMatchObject({
      status: 'denied',
      outcomeCode: 'POLICY_DENIED',
      user: { email: banned.identifier },
    })
    expect(row!.clerkActorTokenId).toBeNull()
  })

  it.each(['admin', 'agent', 'locked'] as const)(
    'refuses to impersonate the %s account',
    async (role) => {
      const error = await failure(
        api.impersonation.start.mutate({
          userId: stack.account(role).userId,
          reason: 'Trying a forbidden target',
        }),
      )
      expect(error).toMatchObject({
        code: 'POLICY_DENIED',
        rule: role === 'admin' ? 'self' : role === 'agent' ? 'staff' : 'locked',
      })
    },
  )

  it('answers 404 for a user that does not exist, and records the attempt', async () => {
    const error = await failure(
      api.impersonation.start.mutate({
        userId: 'user_doesnotexist000000000000',
        reason: 'Looking for a ghost user',
      }),
    )
    expect(error).toMatchObject({
      code: 'USER_NOT_FOUND',
      httpStatus: 404,
      message: 'This user no longer exists.',
    })
    const {
      items: [row],
    } = await api.impersonation.list.query({ userId: 'user_doesnotexist000000000000' })
    expect(row).toMatchObject({ status: 'failed', outcomeCode: 'USER_NOT_FOUND' })
  })

  it("records an agent's refused attempt as one denied row, after the 403", async () => {
    const agent = await stack.signIn('agent')
    const asAgent = stack.client(() => agent.token())
    const target = nextCustomer()
    const tokensBefore = stack.clerk.state.actorTokens.size
    const error = await failure(
      asAgent.impersonation.start.mutate({
        userId: target.id,
        reason: '  An agent trying without the permission  ',
        ticketUrl: 'https://tickets.example.com/42',
        sessionMinutes: 10,
      }),
    )
    expect(error).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 })
    expect(stack.clerk.state.actorTokens.size).toBe(tokensBefore)
    const { items, total } = await api.impersonation.list.query({ actorId: agent.userId })
    expect(items).toHaveLength(1)
    expect(total).toBe(1)
    expect(items[0]).toMatchObject({
      status: 'denied',
      actor: { id: agent.userId },
      user: { id: target.id },
      reason: 'An agent trying without the permission',
      sessionMinutes: 10,
      outcomeCode: 'FORBIDDEN',
      clerkActorTokenId: null,
      expiresAt: null,
      ticketUrl: 'https://tickets.example.com/42',
      attempts: 1,
    })
    expect(items[0]!.requestId).toBeTruthy()
    expect(items[0]!.ip).toBeTruthy()
    expect(items[0]!.userAgent).toBeTruthy()

    // Invalid fields are recorded as sent (cleaned); the refusal is still the authorization one,
    // not a 400.
    const bad = await failure(
      asAgent.impersonation.start.mutate({ userId: 'not-a-user', reason: 'short' }),
    )
    expect(bad).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 })
    const after = await api.impersonation.list.query({ actorId: agent.userId })
    expect(after.items).toHaveLength(2)
    expect(after.items[0]).toMatchObject({
      status: 'denied',
      user: { id: 'not-a-user' },
      reason: 'short',
      sessionMinutes: 0,
      outcomeCode: 'FORBIDDEN',
    })

    // Other refusals leave no row: signed out (no actor), and the agent's other procedures.
    await failure(
      stack
        .client(() => null)
        .impersonation.start.mutate({ userId: target.id, reason: 'Nobody signed in here' }),
    )
    await failure(asAgent.quota.query())
    expect((await api.impersonation.list.query({ actorId: agent.userId })).items).toHaveLength(2)
    expect((await api.impersonation.list.query({ userId: target.id })).items).toHaveLength(1)
  })
})

describe('impersonation.revoke', () => {
  it('revokes an unused ticket: Clerk refuses it afterwards', async () => {
    const customer = nextCustomer()
    const started = await api.impersonation.start.mutate({
      userId: customer.id,
      reason: 'Started by mistake, revoking',
    })
    const revoked = await api.impersonation.revoke.mutate({
      impersonationId: started.impersonationId,
    })
    expect(revoked).toMatchObject({ id: started.impersonationId, status: 'revoked' })
    await expect(stack.signInWithTicket(started.ticket)).rejects.toThrow()
  })

  it('cannot revoke a ticket that was already used', async () => {
    const customer = nextCustomer()
    const started = await api.impersonation.start.mutate({
      userId: customer.id,
      reason: 'Used, then revoke attempt',
    })
    await stack.signInWithTicket(started.ticket)
    const error = await failure(
      api.impersonation.revoke.mutate({ impersonationId: started.impersonationId }),
    )
    expect(error).toMatchObject({ code: 'TICKET_ALREADY_USED', httpStatus: 409 })
    const {
      items: [row],
    } = await api.impersonation.list.query({ userId: customer.id })
    expect(row!.status).toBe('issued')
  })

  it('answers 404 for an unknown impersonation', async () => {
    const error = await failure(
      api.impersonation.revoke.mutate({ impersonationId: crypto.randomUUID() }),
    )
    expect(error).toMatchObject({ code: 'IMPERSONATION_NOT_FOUND', httpStatus: 404 })
  })
})

describe('impersonation.list', () => {
  it('returns the log newest first, filters, and pages', async () => {
    const all = await api.impersonation.list.query({ limit: 100 })
    expect(all.items.length).toBeGreaterThanOrEqual(8)
    const created = all.items.map((r) => Date.parse(r.createdAt))
    expect(created).toEqual([...created].sort((a, b) => b - a))

    const denied = await api.impersonation.list.query({ status: 'denied' })
    expect(denied.items.length).toBeGreaterThanOrEqual(4)
    expect(denied.items.every((r) => r.status === 'denied')).toBe(true)

    const mine = await api.impersonation.list.query({ actorId: admin.userId, limit: 3 })
    const more = await api.impersonation.list.query({
      actorId: admin.userId,
      limit: 3,
      cursor: mine.next ?? undefined,
    })
    expect(new Set([...mine.items, ...more.items].map((r) => r.id)).size).toBe(6)
    expect(JSON.stringify(all)).not.toMatch(/"ticket"/)
  })
})

describe('quota', () => {
  it('counts the actor tokens issued this month against the plan', async () => {
    const quota = await api.quota.query()
    const issued = [...stack.clerk.state.actorTokens.values()].length
    expect(quota).toMatchObject({ used: issued, limit: 5, remaining: Math.max(0, 5 - issued) })
    expect(quota.nextIsBillable).toBe(issued >= 5)
    expect(new Date(quota.periodStart).getUTCDate()).toBe(1)
  })
})
