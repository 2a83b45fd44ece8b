import { json, type Handler, type Router } from '../http.js'
import type { LocalUser, Organization, OrganizationMembership } from '../model.js'
import { compareForOrder } from '../search.js'
import type { ClerkState } from '../state.js'
import { invalidParam, notFound, unknownParam, type BapiError } from './errors.js'
import { organizationJson, organizationMembershipJson } from './serialize.js'
import { parsePaging, parseUserFilters } from './user-query.js'

// Organizations and their memberships, with exactly the query parameters of Clerk's spec
// (bapi-2026-05-12.yml): a parameter the spec does not list for a route is refused (422
// `form_param_unknown`), so code written against this server never relies on a filter Clerk
// would ignore.

type Handle = (fn: Handler) => Handler

/** Query parameters of `GET /organizations/{organization_id}/memberships`, as the spec lists them. */
const ORG_MEMBERSHIP_PARAMS = new Set([
  'order_by',
  'user_id',
  'email_address',
  'phone_number',
  'username',
  'web3_wallet',
  'role',
  'query',
  'email_address_query',
  'phone_number_query',
  'username_query',
  'name_query',
  'last_active_at_before',
  'last_active_at_after',
  'created_at_before',
  'created_at_after',
  'limit',
  'offset',
])
const INSTANCE_MEMBERSHIP_PARAMS = new Set(['order_by', 'limit', 'offset'])
const ORGANIZATION_LIST_PARAMS = new Set([
  'include_members_count',
  'include_missing_member_with_elevated_permissions',
  'query',
  'user_id',
  'organization_id',
  'order_by',
  'limit',
  'offset',
])
const ORGANIZATION_GET_PARAMS = new Set([
  'include_members_count',
  'include_missing_member_with_elevated_permissions',
])

/** Sort keys of membership lists (spec: phone_number, email_address, created_at, first_name, last_name, username). */
const MEMBERSHIP_ORDER_KEYS = [
  'created_at',
  'first_name',
  'last_name',
  'email_address',
  'phone_number',
  'username',
] as const
type MembershipOrderKey = (typeof MEMBERSHIP_ORDER_KEYS)[number]
const MAX_VALUES = 100

export function onlyParams(query: URLSearchParams, allowed: ReadonlySet<string>): void {
  for (const name of query.keys()) if (!allowed.has(name)) throw unknownParam(name)
}

function booleanParam(query: URLSearchParams, name: string): void {
  const raw = query.get(name)
  if (raw !== null && raw !== 'true' && raw !== 'false')
    throw invalidParam(name, `${name} must be true or false.`)
}

function parseMembershipOrder(query: URLSearchParams): { key: MembershipOrderKey; desc: boolean } {
  const raw = query.get('order_by')
  if (raw === null || raw === '') return { key: 'created_at', desc: true }
  const sign = raw.startsWith('-') ? '-' : raw.startsWith('+') || raw.startsWith(' ') ? '+' : ''
  const key = sign ? raw.slice(1) : raw
  if (!(MEMBERSHIP_ORDER_KEYS as readonly string[]).includes(key))
    throw invalidParam(
      'order_by',
      `order_by must be one of ${MEMBERSHIP_ORDER_KEYS.join(', ')}, optionally prefixed with + or -; got ${JSON.stringify(raw.slice(0, 64))}.`,
    )
  return { key: key as MembershipOrderKey, desc: sign === '-' }
}

function membershipOrderValue(
  state: ClerkState,
  m: OrganizationMembership,
  key: MembershipOrderKey,
): number | string | null {
  if (key === 'created_at') return m.createdAt
  const user = state.users.get(m.userId)
  if (!user) return null
  switch (key) {
    case 'first_name':
      return user.firstName?.toLowerCase() ?? null
    case 'last_name':
      return user.lastName?.toLowerCase() ?? null
    case 'username':
      return user.username?.toLowerCase() ?? null
    case 'email_address':
      return (
        (
          user.emailAddresses.find((e) => e.id === user.primaryEmailAddressId) ??
          user.emailAddresses[0]
        )?.emailAddress.toLowerCase() ?? null
      )
    case 'phone_number':
      return (
        (user.phoneNumbers.find((p) => p.id === user.primaryPhoneNumberId) ?? user.phoneNumbers[0])
          ?.phoneNumber ?? null
      )
  }
}

/** Memberships ordered as Clerk lists them: by the key, nulls last, ties by creation (then id). */
function sortMemberships(
  state: ClerkState,
  list: OrganizationMembership[],
  order: { key: MembershipOrderKey; desc: boolean },
): OrganizationMembership[] {
  const rank = new Map<OrganizationMembership, number>()
  const keyed = list
    .slice()
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  keyed.forEach((m, i) => rank.set(m, i))
  return keyed.sort((a, b) =>
    compareForOrder(
      { value: membershipOrderValue(state, a, order.key), slot: rank.get(a)! },
      { value: membershipOrderValue(state, b, order.key), slot: rank.get(b)! },
      order.desc,
    ),
  )
}

function page(state: ClerkState, list: OrganizationMembership[], limit: number, offset: number) {
  const data = list.slice(offset, offset + limit).flatMap((m) => {
    const org = state.organizations.get(m.organizationId)
    return org ? [organizationMembershipJson(state, m, org)] : []
  })
  return json({ data, total_count: list.length })
}

/** An organization by id or slug (Clerk's `{organization_id}` accepts both). */
export function findOrganization(state: ClerkState, idOrSlug: string): Organization | undefined {
  const byId = state.organizations.get(idOrSlug)
  if (byId) return byId
  for (const org of state.organizations.values()) if (org.slug === idOrSlug) return org
  return undefined
}

export function organizationOr404(state: ClerkState, idOrSlug: string): Organization {
  const org = findOrganization(state, idOrSlug)
  if (!org) throw organizationNotFound()
  return org
}

export const organizationNotFound = (): BapiError => notFound('Organization not found')

/** Registers the organization read routes (memberships filters included). */
export function organizationRoutes(router: Router, state: ClerkState, handle: Handle): void {
  router.add(
    'GET',
    '/v1/organizations',
    handle((req) => {
      const q = req.query
      onlyParams(q, ORGANIZATION_LIST_PARAMS)
      booleanParam(q, 'include_members_count')
      booleanParam(q, 'include_missing_member_with_elevated_permissions')
      const { limit, offset } = parsePaging(q)
      const raw = q.get('order_by') ?? '-created_at'
      const orderMatch = /^([+ -]?)(name|created_at|members_count)$/.exec(raw)
      if (!orderMatch)
        throw invalidParam(
          'order_by',
          'order_by must be name, created_at or members_count, optionally prefixed with + or -.',
        )
      const desc = orderMatch[1] === '-'
      const orderKey = orderMatch[2] as 'name' | 'created_at' | 'members_count'
      const text = (q.get('query') ?? '').toLowerCase()
      const userIds = signedList(q, 'user_id')
      const orgIds = signedList(q, 'organization_id')
      let orgs = [...state.organizations.values()].filter((o) => {
        if (
          text &&
          o.id !== q.get('query') &&
          !`${o.name}\u0001${o.slug}`.toLowerCase().includes(text)
        )
          return false
        if (orgIds && !signedMatch(orgIds, (id) => id === o.id)) return false
        if (userIds) {
          const members = new Set(state.membersOf(o.id))
          if (!signedMatch(userIds, (id) => members.has(id))) return false
        }
        return true
      })
      const value = (o: Organization): number | string =>
        orderKey === 'name'
          ? o.name.toLowerCase()
          : orderKey === 'members_count'
            ? state.membersOf(o.id).length
            : o.createdAt
      orgs = orgs.sort((a, b) => {
        const va = value(a)
        const vb = value(b)
        const c = va < vb ? -1 : va > vb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
        return desc ? -c : c
      })
      return json({
        data: orgs.slice(offset, offset + limit).map((o) => organizationJson(state, o)),
        total_count: orgs.length,
      })
    }),
  )

  router.add(
    'GET',
    '/v1/organizations/:organization_id',
    handle((req) => {
      onlyParams(req.query, ORGANIZATION_GET_PARAMS)
      booleanParam(req.query, 'include_members_count')
      booleanParam(req.query, 'include_missing_member_with_elevated_permissions')
      return json(
        organizationJson(state, organizationOr404(state, req.params.organization_id ?? '')),
      )
    }),
  )

  router.add(
    'GET',
    '/v1/organizations/:organization_id/memberships',
    handle((req) => {
      const q = req.query
      onlyParams(q, ORG_MEMBERSHIP_PARAMS)
      const order = parseMembershipOrder(q)
      const { limit, offset } = parsePaging(q)
      const roles = q.has('role') ? q.getAll('role').filter((r) => r !== '') : undefined
      if (roles && roles.length > MAX_VALUES)
        throw invalidParam('role', `role accepts up to ${MAX_VALUES} values.`)
      // The spec documents no 404 here: an unknown organization simply has no members.
      const org = findOrganization(state, req.params.organization_id ?? '')
      if (!org) return json({ data: [], total_count: 0 })
      const memberships = new Map<string, OrganizationMembership>()
      for (const m of state.memberships.values())
        if (m.organizationId === org.id) memberships.set(m.userId, m)
      // The user filters are `GET /v1/users`'s, applied to the members.
      const selection = parseUserFilters(state, q)
      delete selection.cacheKey
      const memberSlots: number[] = []
      for (const userId of memberships.keys()) {
        const slot = state.userIndex.slotById.get(userId)
        if (slot !== undefined) memberSlots.push(slot)
      }
      selection.includeSets.push(memberSlots)
      if (roles) {
        const wanted = new Set(roles)
        selection.predicates.push((user: LocalUser) =>
          wanted.has(`org:${memberships.get(user.id)!.role}`),
        )
      }
      const slots = state.userIndex.matchSlots(selection)
      const matched: OrganizationMembership[] = []
      for (const slot of slots === 'all' ? memberSlots : slots) {
        const user = state.userIndex.users[slot]!
        const m = memberships.get(user.id)
        if (m) matched.push(m)
      }
      return page(state, sortMemberships(state, matched, order), limit, offset)
    }),
  )

  router.add(
    'GET',
    '/v1/organization_memberships',
    handle((req) => {
      onlyParams(req.query, INSTANCE_MEMBERSHIP_PARAMS)
      const order = parseMembershipOrder(req.query)
      const { limit, offset } = parsePaging(req.query)
      const all = [...state.memberships.values()].filter((m) =>
        state.organizations.has(m.organizationId),
      )
      return page(state, sortMemberships(state, all, order), limit, offset)
    }),
  )
}

interface SignedList {
  include: string[]
  exclude: string[]
}

function signedList(query: URLSearchParams, name: string): SignedList | undefined {
  if (!query.has(name)) return undefined
  const values = query.getAll(name).filter((v) => v !== '')
  if (values.length > MAX_VALUES)
    throw invalidParam(name, `${name} accepts up to ${MAX_VALUES} values.`)
  const out: SignedList = { include: [], exclude: [] }
  for (const raw of values) {
    const v = raw.startsWith(' ') ? `+${raw.slice(1)}` : raw
    if (v.startsWith('-')) out.exclude.push(v.slice(1))
    else out.include.push(v.startsWith('+') ? v.slice(1) : v)
  }
  return out
}

function signedMatch(list: SignedList, has: (value: string) => boolean): boolean {
  if (list.exclude.some(has)) return false
  return list.include.length === 0 || list.include.some(has)
}
