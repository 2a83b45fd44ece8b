import type { LocalUser } from '../model.js'
import {
  compareForOrder,
  ORDER_KEYS,
  orderValue,
  type OrderBy,
  type OrderKey,
  type UserSelection,
} from '../search.js'
import type { ClerkState } from '../state.js'
import { invalidParam } from './errors.js'

// `GET /v1/users` and `GET /v1/users/count` query parameters → a `UserSelection` for the index.
// Every malformed value is a 422 `form_param_value_invalid` naming the parameter.

const MAX_FILTER_VALUES = 100
const INTEGER = /^\d+$/

function integerParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name)
  if (raw === null) return undefined
  if (!INTEGER.test(raw) || !Number.isSafeInteger(Number(raw)))
    throw invalidParam(name, `${name} must be a non-negative integer.`)
  return Number(raw)
}

function listParam(query: URLSearchParams, name: string): string[] | undefined {
  if (!query.has(name)) return undefined
  const values = query.getAll(name).filter((v) => v !== '')
  if (values.length > MAX_FILTER_VALUES)
    throw invalidParam(name, `${name} accepts up to ${MAX_FILTER_VALUES} values.`)
  return values
}

/** `+id` / `id` include, `-id` exclude. A `+` that arrives unencoded in a query string is a space. */
function splitSigned(values: string[]): { include: string[]; exclude: string[] } {
  const include: string[] = []
  const exclude: string[] = []
  for (const raw of values) {
    const v = raw.startsWith(' ') ? `+${raw.slice(1)}` : raw
    if (v.startsWith('-')) exclude.push(v.slice(1))
    else include.push(v.startsWith('+') ? v.slice(1) : v)
  }
  return { include, exclude }
}

export function parseOrderBy(query: URLSearchParams): OrderBy {
  const raw = query.get('order_by')
  if (raw === null || raw === '') return { key: 'created_at', desc: true }
  const sign = raw.startsWith('-') ? '-' : raw.startsWith('+') || raw.startsWith(' ') ? '+' : ''
  const key = sign ? raw.slice(1) : raw
  if (!(ORDER_KEYS as readonly string[]).includes(key)) {
    throw invalidParam(
      'order_by',
      `order_by must be one of ${ORDER_KEYS.join(', ')}, optionally prefixed with + or -; got ${JSON.stringify(raw.slice(0, 64))}.`,
    )
  }
  return { key: key as OrderKey, desc: sign === '-' }
}

export function parsePaging(query: URLSearchParams): { limit: number; offset: number } {
  const limit = integerParam(query, 'limit') ?? 10
  if (limit < 1 || limit > 500) throw invalidParam('limit', 'limit must be between 1 and 500.')
  const offset = integerParam(query, 'offset') ?? 0
  return { limit, offset }
}

const lower = (s: string | null) => (s ?? '').toLowerCase()

/** The filters shared by `/users` and `/users/count`. */
export function parseUserFilters(state: ClerkState, query: URLSearchParams): UserSelection {
  const index = state.userIndex
  const includeSets: UserSelection['includeSets'] = []
  const predicates: UserSelection['predicates'] = []

  const exact = (name: string, lookup: (value: string) => number[]) => {
    const values = listParam(query, name)
    if (values === undefined) return
    const slots: number[] = []
    for (const v of values) slots.push(...lookup(v))
    includeSets.push(slots)
  }
  exact('email_address', (v) => index.slotsByEmail(v))
  exact('phone_number', (v) => index.slotsByPhone(v))
  exact('username', (v) => index.slotsByUsername(v))
  // Nobody has a web3 wallet or an external (OAuth) account here: those filters match no one.
  exact('web3_wallet', () => [])

  const signed = (name: string, lookup: (value: string) => number[]) => {
    const values = listParam(query, name)
    if (values === undefined) return
    const { include, exclude } = splitSigned(values)
    if (include.length > 0) {
      const slots: number[] = []
      for (const v of include) slots.push(...lookup(v))
      includeSets.push(slots)
    }
    if (exclude.length > 0) {
      const excluded = new Set<number>()
      for (const v of exclude) for (const slot of lookup(v)) excluded.add(slot)
      predicates.push((_user, slot) => !excluded.has(slot))
    }
  }
  signed('user_id', (v) => {
    const slot = index.slotById.get(v)
    return slot === undefined ? [] : [slot]
  })
  signed('external_id', (v) => index.slotsByExternalId(v))
  signed('organization_id', (v) => {
    const slots: number[] = []
    for (const userId of state.membersOf(v)) {
      const slot = index.slotById.get(userId)
      if (slot !== undefined) slots.push(slot)
    }
    return slots
  })

  const provider = query.get('provider')
  const providerUserIds = listParam(query, 'provider_user_id')
  if ((provider !== null) !== (providerUserIds !== undefined)) {
    throw invalidParam(
      provider === null ? 'provider_user_id' : 'provider',
      'provider and provider_user_id must be used together.',
    )
  }
  if (provider !== null) includeSets.push([])

  const fieldQuery = (name: string, text: (user: LocalUser) => string) => {
    const q = query.get(name)
    if (q === null || q === '') return
    const needle = q.toLowerCase()
    predicates.push((user) => text(user).includes(needle))
  }
  fieldQuery('email_address_query', (u) =>
    u.emailAddresses.map((e) => e.emailAddress.toLowerCase()).join('\u0001'),
  )
  fieldQuery('phone_number_query', (u) =>
    u.phoneNumbers.map((p) => p.phoneNumber.toLowerCase()).join('\u0001'),
  )
  fieldQuery('username_query', (u) => lower(u.username))
  fieldQuery('name_query', (u) => `${lower(u.firstName)} ${lower(u.lastName)}`)

  const banned = query.get('banned')
  if (banned !== null) {
    if (banned !== 'true' && banned !== 'false')
      throw invalidParam('banned', 'banned must be true or false.')
    const want = banned === 'true'
    predicates.push((user) => user.banned === want)
  }

  const window = (name: string, read: (user: LocalUser) => number | null, before: boolean) => {
    const at = integerParam(query, name)
    if (at === undefined) return
    predicates.push((user) => {
      const value = read(user)
      return value !== null && (before ? value < at : value > at)
    })
  }
  window('last_active_at_before', (u) => u.lastActiveAt, true)
  window('last_active_at_after', (u) => u.lastActiveAt, false)
  window('last_active_at_since', (u) => u.lastActiveAt, false)
  window('created_at_before', (u) => u.createdAt, true)
  window('created_at_after', (u) => u.createdAt, false)
  window('last_sign_in_at_before', (u) => u.lastSignInAt, true)
  window('last_sign_in_at_after', (u) => u.lastSignInAt, false)

  // Cacheable when nothing depends on data that changes in place (dates of activity, banned).
  const volatile = [
    'banned',
    'last_active_at_before',
    'last_active_at_after',
    'last_active_at_since',
    'last_sign_in_at_before',
    'last_sign_in_at_after',
  ]
  const selection: UserSelection = { includeSets, predicates, query: query.get('query') ?? '' }
  if (!volatile.some((name) => query.has(name))) {
    const parts = [...query.entries()]
      .filter(([name]) => SELECTION_PARAMS.has(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    selection.cacheKey = `${state.membershipVersion}|${JSON.stringify(parts)}`
  }
  return selection
}

/** Parameters that decide which users match (not their order or paging). */
const SELECTION_PARAMS = new Set([
  'query',
  'email_address',
  'phone_number',
  'username',
  'web3_wallet',
  'user_id',
  'external_id',
  'organization_id',
  'provider',
  'provider_user_id',
  'email_address_query',
  'phone_number_query',
  'username_query',
  'name_query',
  'created_at_before',
  'created_at_after',
])

/** `starting_after=<user id>`: only users after that one in the (created_at) order. */
export function applyCursor(
  state: ClerkState,
  query: URLSearchParams,
  selection: UserSelection,
  orderBy: OrderBy,
  offset: number,
): void {
  const cursor = query.get('starting_after')
  if (cursor === null || cursor === '') return
  if (orderBy.key !== 'created_at') {
    throw invalidParam(
      'starting_after',
      'starting_after can only be used with order_by created_at, +created_at or -created_at.',
    )
  }
  if (offset !== 0)
    throw invalidParam(
      'starting_after',
      'starting_after cannot be combined with a non-zero offset.',
    )
  const slot = state.userIndex.slotById.get(cursor)
  if (slot === undefined)
    throw invalidParam('starting_after', `No user was found with id ${cursor}.`)
  const after = { value: orderValue(state.userIndex.users[slot]!, orderBy.key), slot }
  delete selection.cacheKey
  selection.predicates.push(
    (user, s) =>
      compareForOrder({ value: orderValue(user, orderBy.key), slot: s }, after, orderBy.desc) > 0,
  )
}
