import type { ClerkClient } from '@clerk/backend'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClerkLocal } from '../src/index.js'
import type { Organization, OrganizationMembership } from '../src/model.js'
import type { Reply } from './support/http.js'
import { apiError, checkedBapi, startWithSdk } from './support/local.js'

// Organization membership filters: `GET /v1/organizations/{id}/memberships` (user_id, role,
// paging and the spec's other user filters), the instance-wide `GET /v1/organization_memberships`,
// `GET /v1/users?organization_id=`, and the organization reads, through @clerk/backend and over
// raw HTTP, every answer checked against bapi-2026-05-12.yml.

let local: ClerkLocal
let clerk: ClerkClient
let globex: Organization
let support: Organization

beforeAll(async () => {
  process.env.CLERK_TELEMETRY_DISABLED = '1'
  ;({ local, clerk } = await startWithSdk({ users: 2000, seed: 5 }))
  const orgs = [...local.state.organizations.values()]
  globex = orgs.find((o) => o.slug !== 'support')!
  support = orgs.find((o) => o.slug === 'support')!
})
afterAll(async () => {
  await local.stop()
})

const bapi = (method: string, path: string, template: string, body?: unknown): Promise<Reply> =>
  checkedBapi(local, method, path, template, { body })

const membersOf = (org: Organization): OrganizationMembership[] =>
  [...local.state.memberships.values()].filter((m) => m.organizationId === org.id)

const newestFirst = (a: OrganizationMembership, b: OrganizationMembership) =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

describe('GET /v1/organizations/{id}/memberships', () => {
  it('lists an organization’s members newest first, paged, with total_count (SDK)', async () => {
    const all = membersOf(globex).sort(newestFirst)
    expect(all.length).toBeGreaterThan(40)
    const first = await clerk.organizations.getOrganizationMembershipList({
      organizationId: globex.id,
      limit: 20,
    })
    expect(first.totalCount).toBe(all.length)
    expect(first.data.map((m) => m.id)).toEqual(all.slice(0, 20).map((m) => m.id))
    const second = await clerk.organizations.getOrganizationMembershipList({
      organizationId: globex.id,
      limit: 20,
      offset: 20,
    })
    expect(second.data.map((m) => m.id)).toEqual(all.slice(20, 40).map((m) => m.id))
    expect(second.data[0]!.publicUserData?.userId).toBe(all[20]!.userId)
    expect(second.data[0]!.organization.id).toBe(globex.id)
  })

  it('filters by up to 100 user ids in one call, repeated user_id (SDK), ignoring ids that are not members', async () => {
    const members = membersOf(globex)
    const wanted = members.slice(0, 60).map((m) => m.userId)
    const memberIds = new Set(members.map((m) => m.userId))
    // Exactly 100 ids: the members, then users of the instance who are not members.
    const outsiders = [...local.state.users.keys()]
      .filter((id) => !memberIds.has(id))
      .slice(0, 100 - wanted.length)
    const { data, totalCount } = await clerk.organizations.getOrganizationMembershipList({
      organizationId: globex.id,
      userId: [...wanted, ...outsiders],
      limit: 500,
    })
    expect(totalCount).toBe(wanted.length)
    expect(new Set(data.map((m) => m.publicUserData?.userId))).toEqual(new Set(wanted))

    // Over raw HTTP, as the spec writes it: user_id=a&user_id=b.
    const reply = await bapi(
      'GET',
      `/v1/organizations/${globex.id}/memberships?user_id=${wanted[0]}&user_id=${wanted[1]}`,
      '/organizations/{organization_id}/memberships',
    )
    const body = reply.body as { data: Array<{ public_user_data: { user_id: string } }> }
    expect(body.data.map((m) => m.public_user_data.user_id).sort()).toEqual(
      [wanted[0], wanted[1]].sort(),
    )
  })

  it('excludes with -user_id', async () => {
    const members = membersOf(support)
    const excluded = members[0]!.userId
    const reply = await bapi(
      'GET',
      `/v1/organizations/${support.id}/memberships?user_id=-${excluded}`,
      '/organizations/{organization_id}/memberships',
    )
    const body = reply.body as { total_count: number }
    expect(body.total_count).toBe(members.length - 1)
  })

  it('refuses more than 100 user ids (422, the spec’s limit)', async () => {
    const ids = [...local.state.users.keys()].slice(0, 101)
    const error = await apiError(
      clerk.organizations.getOrganizationMembershipList({ organizationId: globex.id, userId: ids }),
    )
    expect(error.status).toBe(422)
    expect(error.errors[0]!.meta?.paramName).toBe('user_id')
  })

  it('filters by role key (org:admin), by organization slug as well as id', async () => {
    const admins = membersOf(support).filter((m) => m.role === 'admin')
    expect(admins.length).toBeGreaterThan(0)
    const { data, totalCount } = await clerk.organizations.getOrganizationMembershipList({
      organizationId: 'support',
      role: ['org:admin'],
    })
    expect(totalCount).toBe(admins.length)
    expect(data.every((m) => m.role === 'org:admin')).toBe(true)
    // The bare key is not a role key: nothing matches, as with Clerk.
    const bare = await bapi(
      'GET',
      `/v1/organizations/${support.id}/memberships?role=admin`,
      '/organizations/{organization_id}/memberships',
    )
    expect((bare.body as { total_count: number }).total_count).toBe(0)
  })

  it('combines query and the order_by keys the spec lists', async () => {
    const reply = await bapi(
      'GET',
      `/v1/organizations/${globex.id}/memberships?order_by=%2Blast_name&limit=500`,
      '/organizations/{organization_id}/memberships',
    )
    const names = (
      reply.body as { data: Array<{ public_user_data: { last_name: string } }> }
    ).data.map((m) => m.public_user_data.last_name.toLowerCase())
    expect(names).toEqual([...names].sort())
    const someone = local.state.users.get(membersOf(globex)[3]!.userId)!
    const { data } = await clerk.organizations.getOrganizationMembershipList({
      organizationId: globex.id,
      query: someone.emailAddresses[0]!.emailAddress.toUpperCase(),
    })
    expect(data.map((m) => m.publicUserData?.userId)).toEqual([someone.id])
  })

  it('answers an unknown organization with an empty list (the spec documents no 404 here)', async () => {
    const reply = await bapi(
      'GET',
      '/v1/organizations/org_doesnotexist/memberships',
      '/organizations/{organization_id}/memberships',
    )
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ data: [], total_count: 0 })
  })

  it('answers bad parameters, and parameters the spec does not list, with 422 naming them', async () => {
    for (const [query, param] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['offset=-1', 'offset'],
      ['order_by=-banana', 'order_by'],
      ['order_by=last_active_at', 'order_by'],
      ['organization_id=x', 'organization_id'],
      ['banned=true', 'banned'],
      ['created_at_after=yesterday', 'created_at_after'],
    ] as const) {
      const reply = await bapi(
        'GET',
        `/v1/organizations/${globex.id}/memberships?${query}`,
        '/organizations/{organization_id}/memberships',
      )
      expect(reply.status, query).toBe(422)
      const error = (reply.body as { errors: Array<{ meta: { param_name: string } }> }).errors[0]!
      expect(error.meta.param_name, query).toBe(param)
    }
  })
})

describe('GET /v1/organization_memberships', () => {
  it('lists every membership of the instance, ordered and paged (SDK)', async () => {
    const all = [...local.state.memberships.values()].sort(newestFirst)
    const { data, totalCount } = await clerk.organizations.getInstanceOrganizationMembershipList({
      limit: 7,
      offset: 2,
    })
    expect(totalCount).toBe(all.length)
    expect(data.map((m) => m.id)).toEqual(all.slice(2, 9).map((m) => m.id))
    const oldest = await clerk.organizations.getInstanceOrganizationMembershipList({
      orderBy: '+created_at',
      limit: 3,
    })
    expect(oldest.data.map((m) => m.id)).toEqual(
      all
        .slice()
        .reverse()
        .slice(0, 3)
        .map((m) => m.id),
    )
  })

  it('validates against the spec, and refuses other parameters', async () => {
    const ok = await bapi(
      'GET',
      '/v1/organization_memberships?order_by=-username&limit=3',
      '/organization_memberships',
    )
    expect(ok.status).toBe(200)
    for (const query of ['user_id=x', 'limit=abc', 'order_by=role']) {
      const reply = await bapi(
        'GET',
        `/v1/organization_memberships?${query}`,
        '/organization_memberships',
      )
      expect(reply.status, query).toBe(422)
    }
  })
})

describe('GET /v1/users?organization_id=', () => {
  it('lists an organization’s users through getUserList, with +/- include and exclude', async () => {
    const supportUsers = new Set(membersOf(support).map((m) => m.userId))
    const { data, totalCount } = await clerk.users.getUserList({
      organizationId: [support.id],
      limit: 100,
    })
    expect(totalCount).toBe(supportUsers.size)
    expect(new Set(data.map((u) => u.id))).toEqual(supportUsers)
    const globexOnly = await clerk.users.getUserList({
      organizationId: [globex.id, `-${support.id}`],
      limit: 1,
    })
    expect(globexOnly.totalCount).toBe(
      membersOf(globex).filter((m) => !supportUsers.has(m.userId)).length,
    )
  })
})

describe('organizations', () => {
  it('getOrganization by id or slug; 404 for an unknown one', async () => {
    const byId = await clerk.organizations.getOrganization({ organizationId: support.id })
    expect(byId.slug).toBe('support')
    const bySlug = await clerk.organizations.getOrganization({ slug: 'support' })
    expect(bySlug.id).toBe(support.id)
    await bapi('GET', `/v1/organizations/${support.id}`, '/organizations/{organization_id}')
    const missing = await bapi(
      'GET',
      '/v1/organizations/org_nope',
      '/organizations/{organization_id}',
    )
    expect(missing.status).toBe(404)
  })

  it('getOrganizationList with query and user_id', async () => {
    const { data, totalCount } = await clerk.organizations.getOrganizationList({ query: 'glob' })
    expect(totalCount).toBe(1)
    expect(data[0]!.id).toBe(globex.id)
    const ada = local.accounts.find((a) => a.role === 'admin')!
    const reply = await bapi('GET', `/v1/organizations?user_id=${ada.userId}`, '/organizations')
    expect((reply.body as { data: Array<{ id: string }> }).data.map((o) => o.id)).toEqual([
      support.id,
    ])
    const bad = await bapi('GET', '/v1/organizations?order_by=slug', '/organizations')
    expect(bad.status).toBe(422)
  })
})
