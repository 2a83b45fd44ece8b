// Read-only impersonation: the mode asked at `impersonation.start` is stored (row and chained
// `requested` event), rides in the actor token's `actor` payload into the session token's `act`
// claim (`act.mode`, through the real Clerk SDKs and the local server), and shows in `me`, the
// board, the record and `sessions.inspect`. Real sign-ins, the API in-process, PGlite.
import { getActAsError } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callRaw, startAdminStack } from './support/stack.js'
import type { AdminStack, SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient
let nextCustomer: AdminStack['nextCustomer']

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as {
    act?: Record<string, unknown>
  }

/** A customer who is a member of Globex (a read-only organization here), not yet used. */
const usedGlobex = new Set<string>()
function nextGlobexMember() {
  const globex = [...stack.clerk.state.organizations.values()].find((o) => o.slug === 'globex')!
  const user = [...stack.clerk.state.users.values()].find(
    (u) =>
      !u.banned &&
      !u.locked &&
      !usedGlobex.has(u.id) &&
      stack.clerk.state.membershipsOfUser(u.id).some((m) => m.organizationId === globex.id) &&
      !stack.clerk.accounts.some((a) => a.userId === u.id),
  )
  if (!user) throw new Error('no Globex member left')
  usedGlobex.add(user.id)
  return user
}

beforeAll(async () => {
  ;({ stack, admin, api, nextCustomer } = await startAdminStack({
    // The seeded customer organization (Globex Corporation): its members read-only only.
    env: { READ_ONLY_ORGANIZATIONS: 'globex' },
  }))
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('impersonation modes', () => {
  it('a read-only impersonation carries act.mode into the session and shows it everywhere', async () => {
    const user = nextCustomer()
    const started = await api.impersonation.start.mutate({
      userId: user.id,
      reason: 'Look at the invoices, change nothing',
      mode: 'read_only',
    })
    expect(started.mode).toBe('read_only')

    const session = await stack.signInWithTicket(started.ticket)
    const token = await session.token()
    // The whole actor payload is the act claim, mode included.
    expect(claims(token).act).toEqual({
      sub: admin.userId,
      reason: 'Look at the invoices, change nothing',
      impersonation_id: started.impersonationId,
      mode: 'read_only',
    })
    const client = stack.client(() => session.token())
    expect((await client.me.query()).actor).toMatchObject({
      userId: admin.userId,
      mode: 'read_only',
    })
    await client.impersonation.signedIn.mutate({ sessionToken: token })

    const record = await api.impersonation.get.query({ impersonationId: started.impersonationId })
    expect(record.mode).toBe('read_only')
    // In the hash chain too: the requested event says which mode was asked for.
    expect(record.events[0]).toMatchObject({ type: 'requested', data: { mode: 'read_only' } })
    const listed = await api.impersonation.list.query({ userId: user.id })
    expect(listed.items.map((r) => r.mode)).toEqual(['read_only'])
    const active = await api.impersonation.active.query()
    expect(active.items.find((i) => i.id === started.impersonationId)?.mode).toBe('read_only')
    const inspected = await api.sessions.inspect.mutate({ token })
    expect(inspected.actor).toMatchObject({ userId: admin.userId, mode: 'read_only' })
  })

  it('asking for full gives a full impersonation', async () => {
    const started = await api.impersonation.start.mutate({
      userId: nextCustomer().id,
      reason: 'Reproduce the checkout bug as the customer',
      mode: 'full',
    })
    expect(started.mode).toBe('full')
    const session = await stack.signInWithTicket(started.ticket)
    expect(claims(await session.token()).act?.['mode']).toBe('full')
    expect((await stack.client(() => session.token()).me.query()).actor?.mode).toBe('full')
  })

  it('refuses a mode that is not read_only or full, and records the refusal', async () => {
    const user = nextCustomer()
    const error = await api.impersonation.start
      .mutate({ userId: user.id, reason: 'Reproduce the checkout bug', mode: 'admin' as never })
      .then(
        () => null,
        (e: unknown) => getActAsError(e),
      )
    expect(error?.code).toBe('INVALID_INPUT')
    const listed = await api.impersonation.list.query({ userId: user.id })
    expect(listed.items).toMatchObject([{ status: 'denied', outcomeCode: 'INVALID_INPUT' }])
  })

  it('search says, before the click, who may only be impersonated read-only and why', async () => {
    const member = nextGlobexMember()
    const customer = nextCustomer()
    const found = await api.users.search.query({ query: member.id })
    expect(found.items[0]?.impersonation).toEqual({
      allowed: true,
      modes: ['read_only'],
      defaultMode: 'read_only',
      modeReason:
        'Members of Globex Corporation may only be impersonated read-only (READ_ONLY_ORGANIZATIONS).',
      modeRule: 'read_only_target',
    })
    const other = await api.users.search.query({ query: customer.id })
    expect(other.items[0]?.impersonation).toEqual({
      allowed: true,
      modes: ['read_only', 'full'],
      defaultMode: 'full',
    })
  })

  it('refuses full for a member of a read-only organization: a typed 403 that says why, recorded', async () => {
    const member = nextGlobexMember()
    const res = await callRaw(stack.app, 'impersonation.start', {
      type: 'mutation',
      token: await admin.token(),
      input: { userId: member.id, reason: 'Reproduce the checkout bug', mode: 'full' },
    })
    expect(res.status).toBe(403)
    const error = (res.body as { error: { message: string; data: Record<string, unknown> } }).error
    expect(error.data).toMatchObject({ actasCode: 'POLICY_DENIED', rule: 'read_only_target' })
    expect(error.message).toContain('may only be impersonated read-only')
    expect(error.message).toContain('Globex Corporation')
    expect([...stack.clerk.state.actorTokens.values()].some((t) => t.userId === member.id)).toBe(
      false,
    )
    const listed = await api.impersonation.list.query({ userId: member.id })
    expect(listed.items).toMatchObject([
      { status: 'denied', mode: 'full', outcomeCode: 'POLICY_DENIED' },
    ])
  })

  it('without a mode, a member of a read-only organization is impersonated read-only', async () => {
    const member = nextGlobexMember()
    const started = await api.impersonation.start.mutate({
      userId: member.id,
      reason: 'Check what the customer sees on the invoice page',
    })
    expect(started.mode).toBe('read_only')
    const session = await stack.signInWithTicket(started.ticket)
    expect(claims(await session.token()).act?.['mode']).toBe('read_only')
    const record = await api.impersonation.get.query({ impersonationId: started.impersonationId })
    expect(record.mode).toBe('read_only')
    // The timeline says nothing was asked, and what was issued.
    expect(record.events.map((e) => [e.type, e.data['mode']])).toEqual([
      ['requested', undefined],
      ['issued', 'read_only'],
    ])
    // Read-only may be asked explicitly too.
    const again = await api.impersonation.start.mutate({
      userId: nextGlobexMember().id,
      reason: 'Check what the customer sees on the invoice page',
      mode: 'read_only',
    })
    expect(again.mode).toBe('read_only')
  })
})
