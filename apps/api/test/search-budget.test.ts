// Clerk calls per search page, counted at the local Clerk server: at most 3 with nothing cached,
// 2 warm, the same for pages of 20 and 100. Organizations come from the membership mirror
// (display, reloaded every MEMBERSHIP_MIRROR_REFRESH_SECONDS); whether a row is staff is read
// fresh for every page.
import { newId } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn

beforeAll(async () => {
  stack = await startStack({
    clerk: { users: 600 },
    env: { RATE_LIMIT_SEARCH_PER_MINUTE: '1000', MEMBERSHIP_MIRROR_REFRESH_SECONDS: '3600' },
  })
  admin = await stack.signIn('admin')
  await stack.deps.memberships!.refresh()
  await stack.deps.staffOrganizations.ids()
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

/** Clerk calls made by one search, by route. */
async function callsFor(input: { query?: string; limit: number; offset?: number }) {
  const api = stack.client(() => admin.token())
  stack.clerk.requests.reset()
  const page = await api.users.search.query(input)
  return { page, calls: stack.clerk.requests.snapshot() }
}

describe('Clerk calls per search page', () => {
  it.each([20, 100])('a page of %i: at most 3 cold, 2 warm', async (limit) => {
    // A query no earlier search used: nothing cached for it (the 100-row page lists everyone).
    const query = limit === 20 ? 'gmail' : ''
    const cold = await callsFor({ query, limit })
    expect(cold.page.items).toHaveLength(limit)
    expect(cold.calls.total).toBeLessThanOrEqual(3)
    expect(cold.calls.routes).toEqual({
      'GET /v1/users': 2, // the page, and which of its rows are staff
      'GET /v1/users/count': 1,
    })
    const warm = await callsFor({ query, limit })
    expect(warm.calls.total).toBeLessThanOrEqual(2)
    expect(warm.calls.routes).toEqual({ 'GET /v1/users': 2 })
    // The next page of the same query: the total is known.
    const next = await callsFor({ query, limit, offset: limit })
    expect(next.calls.total).toBeLessThanOrEqual(2)
  })

  it('shows each row its organizations, from the mirror', async () => {
    const globex = [...stack.clerk.state.organizations.values()].find((o) => o.slug === 'globex')!
    const member = stack.clerk.state.membersOf(globex.id)[0]!
    const role = stack.clerk.state.membershipsOfUser(member)[0]!.role
    const { page, calls } = await callsFor({ query: member, limit: 20 })
    expect(page.items[0]!.organizations).toEqual([
      { id: globex.id, name: 'Globex Corporation', slug: 'globex', role: `org:${role}` },
    ])
    expect(calls.routes['GET /v1/users/:user_id/organization_memberships']).toBeUndefined()
  })
})

describe('staleness', () => {
  it('decides staff on fresh data at once, while the organizations shown follow the next reload', async () => {
    const support = [...stack.clerk.state.organizations.values()].find((o) => o.slug === 'support')!
    const user = stack.customers()[5]!
    const api = stack.client(() => admin.token())
    expect(
      (await api.users.search.query({ query: user.id })).items[0]!.impersonation,
    ).toMatchObject({ allowed: true })
    const now = stack.clerk.state.now()
    stack.clerk.state.addMembership({
      id: newId('orgmem'),
      organizationId: support.id,
      userId: user.id,
      role: 'member',
      createdAt: now,
      updatedAt: now,
    })
    const stale = (await api.users.search.query({ query: user.id })).items[0]!
    // The verdict is fresh: a staff member now.
    expect(stale.impersonation).toMatchObject({ allowed: false, rule: 'staff' })
    // The organizations shown wait for the mirror's next reload.
    expect(stale.organizations).toEqual([])
    await stack.deps.memberships!.refresh()
    const fresh = (await api.users.search.query({ query: user.id })).items[0]!
    expect(fresh.organizations).toEqual([
      { id: support.id, name: 'Support', slug: 'support', role: 'org:member' },
    ])
  })
})
