// The policy's one judge against the real stack (local Clerk server, real SDKs, real webhooks,
// PGlite): decisions on the whole truth (a target with more than a page of memberships newer
// than the staff / read-only one; a customer with more than a page of sessions newer than the
// impersonated one), each target rule enforced at every moment it names (search, start,
// continuous through the webhook and through the reconciler), the kill switch's cause winning
// over the webhook its revocation causes, a signed `session.created` checked against Clerk's own
// session, and step-up surviving a return to the console.
//
// Fixtures written here (not in test/support): `addOrganizations` (many organizations and
// memberships straight into the local server's state), `sendSignedWebhook` (a delivery signed
// with the webhook secret, as an attacker holding it would send).
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { getActAsError } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import type { LocalUser, Organization } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sha256Hex } from '../src/impersonation/lifecycle.js'
import { callRaw, startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient
let globex: Organization
let customerCursor = 0

beforeAll(async () => {
  stack = await startStack({
    env: (clerk) => ({
      RATE_LIMIT_START_PER_MINUTE: '1000',
      RATE_LIMIT_SEARCH_PER_MINUTE: '1000',
      READ_ONLY_ORGANIZATIONS: 'globex',
      CLERK_WEBHOOK_SIGNING_SECRET: clerk.webhookSecret,
    }),
  })
  admin = await stack.signIn('admin')
  api = stack.client(() => admin.token())
  const trpc = await stack.listen()
  stack.clerk.webhooks.addEndpoint(trpc.replace(/\/trpc$/, '/webhooks/clerk'))
  globex = [...stack.clerk.state.organizations.values()].find((o) => o.slug === 'globex')!
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

function nextCustomer(): LocalUser {
  const user = stack.customers()[customerCursor++]
  if (!user) throw new Error('out of customers')
  return user
}

const get = (id: string) => api.impersonation.get.query({ impersonationId: id })

/** Polls `check` until it answers true (webhooks are asynchronous); no timing is asserted. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`never happened: ${what}`)
}

/** `count` new organizations, `userId` a member of each, every membership newer than any before. */
function addOrganizations(userId: string, count: number): void {
  const state = stack.clerk.state
  const base = Date.now() + 60_000
  for (let i = 0; i < count; i++) {
    const id = `org_judge${randomBytes(6).toString('hex')}`
    state.addOrganization({
      id,
      name: `Judge ${i}`,
      slug: `judge-${id}`,
      roles: { admin: [], member: [] },
      createdAt: base + i,
      updatedAt: base + i,
    })
    state.addMembership({
      id: `orgmem_${randomBytes(8).toString('hex')}`,
      organizationId: id,
      userId,
      role: 'member',
      createdAt: base + i,
      updatedAt: base + i,
    })
  }
}

function addMembership(userId: string, organizationId: string, options: { quiet?: boolean } = {}) {
  const membership = {
    id: `orgmem_${randomBytes(8).toString('hex')}`,
    organizationId,
    userId,
    role: 'member',
    createdAt: Date.now(),
    updatedAt: Date.now(),
  }
  // Quiet: no webhook (the reconciler is then the only one to notice).
  if (options.quiet) {
    stack.clerk.state.memberships.set(membership.id, membership)
    stack.clerk.state.membershipVersion++
  } else stack.clerk.state.addMembership(membership)
}

async function startFor(
  userId: string,
  extra: { mode?: 'full' | 'read_only'; returnSecretHash?: string } = {},
  client: ActAsClient = api,
) {
  return client.impersonation.start.mutate({
    userId,
    reason: 'The judge decides on everything',
    ...extra,
  })
}

/** Started and signed in (reported), in full unless asked. */
async function live(userId: string, extra: { returnSecretHash?: string } = {}) {
  const started = await startFor(userId, { mode: 'full', ...extra })
  const session = await stack.signInWithTicket(started.ticket)
  const client = stack.client(() => session.token())
  await client.impersonation.signedIn.mutate({ sessionToken: await session.token() })
  return { id: started.impersonationId, session, client }
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => getActAsError(e),
  )
  expect(error, 'refused').not.toBeNull()
  return error!
}

describe('decides on the whole truth', () => {
  it('a staff member with 101 memberships newer than the staff one is still staff', async () => {
    const agent = stack.account('agent')
    addOrganizations(agent.userId, 101)
    const error = await refusal(startFor(agent.userId))
    expect({ code: error.code, rule: error.rule }).toEqual({ code: 'POLICY_DENIED', rule: 'staff' })
    const rows = await api.users.search.query({ query: agent.identifier, limit: 5 })
    expect(rows.items.find((r) => r.id === agent.userId)?.impersonation).toMatchObject({
      allowed: false,
      rule: 'staff',
    })
  })

  it('a read-only organization member with 101 newer memberships stays read-only only', async () => {
    const customer = nextCustomer()
    addMembership(customer.id, globex.id)
    addOrganizations(customer.id, 101)
    const error = await refusal(startFor(customer.id, { mode: 'full' }))
    expect({ code: error.code, rule: error.rule }).toEqual({
      code: 'POLICY_DENIED',
      rule: 'read_only_target',
    })
    expect((await startFor(customer.id)).mode).toBe('read_only')
  })

  it('end revokes the impersonated session among 101 newer sessions of the customer', async () => {
    const customer = nextCustomer()
    const { id, session } = await live(customer.id)
    const state = stack.clerk.state
    const user = state.users.get(customer.id)!
    const own = state.sessions.get(session.sessionId)!
    const newer = Array.from({ length: 101 }, (_, i) => {
      const s = state.createSession(state.newClient(), user)
      s.createdAt = own.createdAt + 1 + i
      return s
    })
    await api.impersonation.end.mutate({ impersonationId: id, reason: 'Kill switch test' })
    expect(state.sessionStatus(own)).toBe('revoked')
    // The customer's own sessions are left alone.
    expect(newer.every((s) => state.sessionStatus(s) === 'active')).toBe(true)
  })

  it('and finds it through every page when it was never heard of', async () => {
    const customer = nextCustomer()
    const started = await startFor(customer.id, { mode: 'full' })
    const ticketSession = await stack.signInWithTicket(started.ticket)
    const state = stack.clerk.state
    const own = state.sessions.get(ticketSession.sessionId)!
    const user = state.users.get(customer.id)!
    for (let i = 0; i < 101; i++)
      state.createSession(state.newClient(), user).createdAt = own.createdAt + 1 + i
    // As the row was before any report or webhook named its session.
    const row = (await stack.deps.audit.get(started.impersonationId))!
    await stack.deps.lifecycle.terminate(
      { ...row, status: 'issued', clerkSessionId: null },
      { cause: 'ended_by_staff', by: admin.userId },
    )
    expect(state.sessionStatus(own)).toBe('revoked')
  })
})

/** Each rule about the target, what makes it bite, and the cause of a live impersonation's end. */
const TARGET_RULES = [
  {
    rule: 'staff',
    cause: 'target_became_staff',
    apply: (u: LocalUser, quiet: boolean) => addMembership(u.id, stack.supportOrgId, { quiet }),
  },
  {
    rule: 'banned',
    cause: 'target_banned',
    apply: (u: LocalUser, quiet: boolean) =>
      quiet ? void (u.banned = true) : stack.clerk.state.setBanned(u, true),
  },
  {
    rule: 'locked',
    cause: 'target_locked',
    apply: (u: LocalUser, quiet: boolean) =>
      quiet ? void (u.locked = true) : stack.clerk.state.setLocked(u, true),
  },
  {
    rule: 'read_only_target',
    cause: 'target_became_read_only',
    apply: (u: LocalUser, quiet: boolean) => addMembership(u.id, globex.id, { quiet }),
  },
] as const

describe.each(TARGET_RULES)('the rule $rule at every moment', ({ rule, cause, apply }) => {
  it('continuous, through the webhook: a live full impersonation ends with its cause', async () => {
    const customer = nextCustomer()
    const { id } = await live(customer.id)
    apply(customer, false)
    await eventually(async () => (await get(id)).status === 'ended', `${rule} ends ${id}`)
    expect(await get(id)).toMatchObject({ endCause: cause, endedBy: 'system' })
  })

  it('continuous, through the reconciler (no webhook): ended with its cause', async () => {
    const customer = nextCustomer()
    const { id } = await live(customer.id)
    apply(customer, true)
    await stack.deps.reconciler.run()
    expect(await get(id)).toMatchObject({ status: 'ended', endCause: cause })
  })

  it('search and start: the row says so, and the start is refused', async () => {
    const customer = nextCustomer()
    apply(customer, false)
    const email = customer.emailAddresses[0]!.emailAddress
    const rows = await api.users.search.query({ query: email, limit: 5 })
    const verdict = rows.items.find((r) => r.id === customer.id)?.impersonation
    const error = await refusal(startFor(customer.id, { mode: 'full' }))
    expect({ code: error.code, rule: error.rule }).toEqual({ code: 'POLICY_DENIED', rule })
    if (rule === 'read_only_target') {
      expect(verdict).toMatchObject({ allowed: true, modes: ['read_only'] })
      expect((await startFor(customer.id, { mode: 'read_only' })).mode).toBe('read_only')
    } else expect(verdict).toMatchObject({ allowed: false, rule })
  })
})

it('a read-only impersonation of a target who joins a read-only organization goes on', async () => {
  const customer = nextCustomer()
  const started = await startFor(customer.id, { mode: 'read_only' })
  await stack.signInWithTicket(started.ticket)
  addMembership(customer.id, globex.id)
  await stack.deps.reconciler.run()
  expect((await get(started.impersonationId)).status).toBe('signed_in')
})

describe('the cause of an end is decided once', () => {
  it("a staff member's end always wins over the revocation webhook it causes", async () => {
    const runs = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const { id } = await live(nextCustomer().id)
        await api.impersonation.end.mutate({ impersonationId: id, reason: 'Race with the webhook' })
        return id
      }),
    )
    // Every revocation webhook delivered and answered (the API handles one before it answers),
    // then read what the record says.
    await stack.clerk.webhooks.idle()
    for (const id of runs)
      expect(await get(id), id).toMatchObject({
        status: 'ended',
        endCause: 'ended_by_staff',
        endedBy: admin.userId,
      })
  })
})

/** A Clerk delivery signed with the webhook secret (what someone holding it could send). */
async function sendSignedWebhook(payload: unknown) {
  const secret = Buffer.from(stack.clerk.webhookSecret.replace(/^whsec_/, ''), 'base64')
  const id = `msg_${randomUUID()}`
  const timestamp = Math.floor(Date.now() / 1000).toString()
  const body = JSON.stringify(payload)
  const signature = createHmac('sha256', secret)
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64')
  return stack.app.inject({
    method: 'POST',
    url: '/webhooks/clerk',
    headers: {
      'content-type': 'application/json',
      'svix-id': id,
      'svix-timestamp': timestamp,
      'svix-signature': `v1,${signature}`,
    },
    payload: body,
  })
}

describe('a webhook is checked against Clerk', () => {
  it('a signed session.created with a made-up session id does not take over the record', async () => {
    const customer = nextCustomer()
    const started = await startFor(customer.id, { mode: 'full' })
    const forged = await sendSignedWebhook({
      object: 'event',
      type: 'session.created',
      data: {
        object: 'session',
        id: 'sess_madeup0000000000000000000',
        user_id: customer.id,
        client_id: 'client_madeup',
        status: 'active',
        actor: { sub: admin.userId, impersonation_id: started.impersonationId, mode: 'full' },
        last_active_at: Date.now(),
        expire_at: Date.now() + 600_000,
        abandon_at: Date.now() + 600_000,
        created_at: Date.now(),
        updated_at: Date.now(),
      },
      timestamp: Date.now(),
      event_attributes: { http_request: { client_ip: '127.0.0.1', user_agent: 'forger' } },
    })
    expect(forged.statusCode).toBe(200)
    expect(await get(started.impersonationId)).toMatchObject({
      status: 'issued',
      clerkSessionId: null,
    })
    // The real session is recorded, and may report and Stop.
    const session = await stack.signInWithTicket(started.ticket)
    const client = stack.client(() => session.token())
    const reported = await client.impersonation.signedIn.mutate({
      sessionToken: await session.token(),
    })
    expect(reported).toMatchObject({ status: 'signed_in', clerkSessionId: session.sessionId })
    expect((await client.impersonation.stop.mutate({})).impersonation.status).toBe('ended')
  })
})

describe('step-up survives a return to the console', () => {
  /** A session signed in with a password some minutes ago (at least 2), verified `minutes` ago. */
  const setVerifiedMinutesAgo = (who: SignedIn, minutes: number) => {
    const session = stack.clerk.state.sessions.get(who.sessionId)!
    const now = stack.clerk.state.now()
    session.createdAt = now - Math.max(2, minutes) * 60_000
    session.firstFactorVerifiedAt = now - minutes * 60_000
  }

  async function startStopReturn(verifiedMinutesAgo: number) {
    const staff = await stack.signIn('admin')
    setVerifiedMinutesAgo(staff, verifiedMinutesAgo)
    const secret = randomBytes(32).toString('base64url')
    const staffApi = stack.client(() => staff.token())
    const { client } = await (async () => {
      const started = await startFor(
        nextCustomer().id,
        { mode: 'full', returnSecretHash: sha256Hex(secret) },
        staffApi,
      )
      const session = await stack.signInWithTicket(started.ticket)
      return { client: stack.client(() => session.token()) }
    })()
    const stopped = await client.impersonation.stop.mutate({ returnSecret: secret })
    expect(stopped.returnTicket).not.toBeNull()
    const back = await stack.signInWithTicket(stopped.returnTicket!)
    await back.fapi.touch(back.sessionId, { activeOrganizationId: stack.supportOrgId })
    return { back, backApi: stack.client(() => back.token()) }
  }

  it('start → Stop → return → start asks for the password when the last real one is old', async () => {
    const { backApi, back } = await startStopReturn(9)
    // The ticket sign-in's own verification is fresh: it is not a password.
    const token = JSON.parse(
      Buffer.from((await back.token()).split('.')[1]!, 'base64url').toString('utf8'),
    ) as { fva: [number, number] }
    expect(token.fva[0]).toBe(0)
    const error = await refusal(startFor(nextCustomer().id, { mode: 'full' }, backApi))
    expect(error.code).toBe('REVERIFICATION_REQUIRED')
  })

  it('and not when the last real one is recent', async () => {
    const { backApi } = await startStopReturn(0)
    expect((await startFor(nextCustomer().id, { mode: 'full' }, backApi)).ticket).toBeTruthy()
  })

  it('a session older than the return keeps its own verification', async () => {
    const older = await stack.signIn('admin')
    setVerifiedMinutesAgo(older, 0)
    await startStopReturn(9)
    const res = await callRaw(stack.app, 'impersonation.start', {
      type: 'mutation',
      token: await older.token(),
      input: { userId: nextCustomer().id, reason: 'The first session, verified at sign-in' },
    })
    expect(res.status).toBe(200)
  })
})
