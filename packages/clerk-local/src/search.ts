import type { LocalUser } from './model.js'

// The user directory's search index, built at insert time so `GET /v1/users` stays fast at
// 100,000 users:
// - one lowercase haystack per user (ids, names, username, emails, phones) that verifies matches;
// - trigram postings over the haystacks: a query of 3+ characters reads the rarest posting
//   lists and verifies only those candidates;
// - shorter queries scan the haystacks once and cache the answer (there are few such queries);
// - one presorted array of user slots per `order_by` key, so the empty query with limit/offset
//   costs O(offset + limit), and a candidate set is ordered by rank, not by comparing users.
// Users are addressed by a dense slot number (insertion order).

export const ORDER_KEYS = [
  'created_at',
  'updated_at',
  'last_sign_in_at',
  'last_active_at',
  'first_name',
  'last_name',
  'email_address',
  'phone_number',
  'username',
  'web3wallet',
] as const
export type OrderKey = (typeof ORDER_KEYS)[number]
export interface OrderBy {
  key: OrderKey
  desc: boolean
}

// Timestamps that other code (FAPI sign-in, touch) changes in place, without telling the index.
// The index turns these three fields of every user it holds into accessors (own, enumerable:
// spreading and JSON see plain values), so a change marks the user as moved for that order key;
// the presorted arrays are then patched, not rebuilt. Users made by `createUser` get the
// accessors at creation (V8 keeps such objects in fast mode); others are converted when added.
const WATCHED_FIELDS = [
  ['updatedAt', 'updated_at'],
  ['lastSignInAt', 'last_sign_in_at'],
  ['lastActiveAt', 'last_active_at'],
] as const
type WatchedField = (typeof WATCHED_FIELDS)[number][0]
const TIMESTAMPS = Symbol('clerk-local.timestamps')
interface TimestampStore {
  values: Record<WatchedField, number | null>
  index: UserIndex | null
  slot: number
}
type WatchedUser = LocalUser & { [TIMESTAMPS]?: TimestampStore }
const WATCHED_DESCRIPTORS: PropertyDescriptorMap = Object.fromEntries(
  WATCHED_FIELDS.map(([field, key]) => [
    field,
    {
      enumerable: true,
      configurable: true,
      get(this: WatchedUser) {
        return this[TIMESTAMPS]!.values[field]
      },
      set(this: WatchedUser, value: number | null) {
        const store = this[TIMESTAMPS]!
        if (store.values[field] === value) return
        store.values[field] = value
        store.index?.noteMoved(key, store.slot)
      },
    },
  ]),
)

function installWatch(user: WatchedUser, values: TimestampStore['values']): TimestampStore {
  const store: TimestampStore = { values, index: null, slot: -1 }
  Object.defineProperty(user, TIMESTAMPS, { value: store, enumerable: false })
  Object.defineProperties(user, WATCHED_DESCRIPTORS)
  return store
}

/**
 * Completes a user with timestamps the index can watch cheaply (for bulk inserts): pass a fresh
 * object literal without the three fields; it gets them as accessors and is returned.
 */
export function createUser(
  fields: Omit<LocalUser, WatchedField>,
  timestamps: Pick<LocalUser, WatchedField>,
): LocalUser {
  const user = fields as WatchedUser
  installWatch(user, {
    updatedAt: timestamps.updatedAt,
    lastSignInAt: timestamps.lastSignInAt,
    lastActiveAt: timestamps.lastActiveAt,
  })
  return user
}

/** Patch the presorted arrays for up to this many moved users; rebuild beyond. */
const MAX_MOVES = 512
const MATCH_CACHE_LIMIT = 128

const SEP = '\u0001'

export function orderValue(user: LocalUser, key: OrderKey): number | string | null {
  switch (key) {
    case 'created_at':
      return user.createdAt
    case 'updated_at':
      return user.updatedAt
    case 'last_sign_in_at':
      return user.lastSignInAt
    case 'last_active_at':
      return user.lastActiveAt
    case 'first_name':
      return user.firstName?.toLowerCase() ?? null
    case 'last_name':
      return user.lastName?.toLowerCase() ?? null
    case 'username':
      return user.username?.toLowerCase() ?? null
    case 'email_address': {
      const primary =
        user.emailAddresses.find((e) => e.id === user.primaryEmailAddressId) ??
        user.emailAddresses[0]
      return primary?.emailAddress.toLowerCase() ?? null
    }
    case 'web3wallet':
      return null // nobody has a web3 wallet here
    case 'phone_number': {
      const primary =
        user.phoneNumbers.find((p) => p.id === user.primaryPhoneNumberId) ?? user.phoneNumbers[0]
      return primary?.phoneNumber ?? null
    }
  }
}

/**
 * The order of `GET /v1/users`: by value, nulls last in both directions, ties by insertion
 * order (reversed when descending). Exported so tests can check the index against it.
 */
export function compareForOrder(
  a: { value: number | string | null; slot: number },
  b: { value: number | string | null; slot: number },
  desc: boolean,
): number {
  if (a.value === null || b.value === null) {
    if (a.value === null && b.value === null) return a.slot - b.slot
    return a.value === null ? 1 : -1
  }
  const sign = desc ? -1 : 1
  if (a.value < b.value) return -sign
  if (a.value > b.value) return sign
  return sign * (a.slot - b.slot)
}

/** Lowercase text searched by `query`: user id, external id, username, names, emails, phones. */
export function searchText(user: LocalUser): string {
  const parts: string[] = [user.id]
  if (user.externalId) parts.push(user.externalId)
  if (user.username) parts.push(user.username)
  if (user.firstName) parts.push(user.firstName)
  if (user.lastName) parts.push(user.lastName)
  if (user.firstName && user.lastName) parts.push(`${user.firstName} ${user.lastName}`)
  for (const e of user.emailAddresses) parts.push(e.emailAddress)
  for (const p of user.phoneNumbers) parts.push(p.phoneNumber)
  return parts.join(SEP).toLowerCase()
}

// Characters fold into 6-bit classes, so a trigram is an 18-bit number and the postings are a
// flat array. Folding can only add candidates (which verification drops), never lose one.
const CHAR_CLASS = new Uint8Array(65536)
{
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789@.+_- '
  for (let c = 0; c < 65536; c++) CHAR_CLASS[c] = 43 + (c % 21)
  for (let i = 0; i < alphabet.length; i++) CHAR_CLASS[alphabet.charCodeAt(i)] = i + 1
  CHAR_CLASS[SEP.charCodeAt(0)] = 0
}
const TRIGRAM_SPACE = 1 << 18

function trigramAt(text: string, i: number): number {
  return (
    (CHAR_CLASS[text.charCodeAt(i)]! << 12) |
    (CHAR_CLASS[text.charCodeAt(i + 1)]! << 6) |
    CHAR_CLASS[text.charCodeAt(i + 2)]!
  )
}

interface SortedOrder {
  /** Slots in ascending/descending order. */
  asc: Int32Array
  desc: Int32Array
  /** Position of each slot in `asc` / `desc`. */
  ascRank: Int32Array
  descRank: Int32Array
  /** The values the arrays are sorted by, per slot. */
  values: Array<number | string | null>
  size: number
}

export interface UserMatch {
  /** Slots matching, in the requested order, after offset and limit. */
  page: LocalUser[]
  totalCount: number
}

export interface UserSelection {
  /** Include-sets, each already resolved to slots; a user must be in all of them. */
  includeSets: Array<Set<number> | number[]>
  /** Extra conditions checked on each remaining user (exclusions, field queries, dates). */
  predicates: Array<(user: LocalUser, slot: number) => boolean>
  query: string
  /**
   * Set when the match depends only on the users' ids, names, emails, phones and memberships
   * (no dates, no banned flag, no cursor): the matched set is then cached under this key until
   * the directory changes, so the `/users` + `/users/count` pair the SDK sends costs one search.
   */
  cacheKey?: string
}

const SHORT_CACHE_LIMIT = 512

export class UserIndex {
  readonly users: LocalUser[] = []
  readonly slotById = new Map<string, number>()
  readonly #hay: string[] = []
  // Trigram postings in CSR form: the slots holding trigram t are
  // #postingSlots[#postingStart[t] .. #postingStart[t + 1]), ascending, without duplicates.
  // They cover slots below #indexedUpTo; later slots and #dirtySlots are candidates for every query.
  #postingStart = new Int32Array(TRIGRAM_SPACE + 1)
  #postingSlots = new Int32Array(0)
  #indexedUpTo = 0
  readonly #dirtySlots = new Set<number>()
  readonly #byEmail = new Map<string, number[]>()
  readonly #byPhone = new Map<string, number[]>()
  readonly #byUsername = new Map<string, number[]>()
  readonly #byExternalId = new Map<string, number[]>()
  readonly #orders = new Map<OrderKey, SortedOrder>()
  readonly #shortCache = new Map<string, Int32Array>()
  /** Scratch marks for intersecting slot lists: `#stamp[slot] === #epoch` means "marked". */
  #stamp = new Uint32Array(0)
  #epoch = 0
  /** Slots whose watched timestamp changed since the order for that key was built or patched. */
  readonly #moved = new Map<OrderKey, Set<number>>()
  /** Bumped whenever users are added or re-indexed. */
  #version = 0
  /** Membership bitmaps of large match sets, by the set (so cached sets keep theirs). */
  readonly #members = new WeakMap<number[] | Int32Array, Uint8Array>()
  readonly #matchCache = new Map<
    string,
    { version: number; slots: number[] | Int32Array | 'all' }
  >()

  /** Users held (removed users excluded). */
  get size(): number {
    return this.users.length - this.#removed.size
  }

  add(user: LocalUser): number {
    if (this.slotById.has(user.id)) throw new Error(`duplicate user id ${user.id}`)
    const slot = this.users.length
    this.users.push(user)
    this.slotById.set(user.id, slot)
    this.#hay.push(searchText(user))
    this.#indexExact(user, slot)
    this.#watch(user as WatchedUser, slot)
    this.#changed()
    return slot
  }

  #watch(user: WatchedUser, slot: number): void {
    const store =
      user[TIMESTAMPS] ??
      installWatch(user, {
        updatedAt: user.updatedAt,
        lastSignInAt: user.lastSignInAt,
        lastActiveAt: user.lastActiveAt,
      })
    if (store.index) throw new Error(`user ${user.id} is already held by another index; add a copy`)
    store.index = this
    store.slot = slot
  }

  /** Called by the timestamp accessors: `slot`'s value for `key` changed in place. */
  noteMoved(key: OrderKey, slot: number): void {
    if (!this.#orders.has(key)) return
    let moved = this.#moved.get(key)
    if (!moved) {
      moved = new Set()
      this.#moved.set(key, moved)
    }
    moved.add(slot)
  }

  /** Re-reads a user's names, emails, phones and ids after they changed. */
  reindex(user: LocalUser): void {
    const slot = this.slotById.get(user.id)
    if (slot === undefined) return
    this.#forgetExact(slot)
    this.#hay[slot] = searchText(user)
    if (slot < this.#indexedUpTo) this.#dirtySlots.add(slot)
    this.#indexExact(user, slot)
    this.#changed()
  }

  /**
   * Takes a (deleted) user out of every answer. Its slot stays (slots are dense and the sorted
   * orders hold it) but matches nothing: no haystack, no exact keys, and a filter on every search.
   */
  remove(user: LocalUser): void {
    const slot = this.slotById.get(user.id)
    if (slot === undefined) return
    this.#forgetExact(slot)
    this.#hay[slot] = ''
    this.slotById.delete(user.id)
    this.#removed.add(slot)
    this.#changed()
  }

  /** Users removed (their slots). */
  readonly #removed = new Set<number>()
  readonly #notRemoved = (_user: LocalUser, slot: number): boolean => !this.#removed.has(slot)

  #forgetExact(slot: number): void {
    for (const map of [this.#byEmail, this.#byPhone, this.#byUsername, this.#byExternalId]) {
      for (const [key, slots] of map) {
        const i = slots.indexOf(slot)
        if (i >= 0) {
          slots.splice(i, 1)
          if (slots.length === 0) map.delete(key)
        }
      }
    }
  }

  #changed(): void {
    this.#version++
    // (Map#clear allocates even when empty, and seeding calls this 100,000 times.)
    if (this.#orders.size > 0) this.#orders.clear()
    if (this.#moved.size > 0) this.#moved.clear()
    if (this.#shortCache.size > 0) this.#shortCache.clear()
    if (this.#matchCache.size > 0) this.#matchCache.clear()
  }

  /** Builds the postings and every order now rather than on the first query. */
  prepare(): void {
    this.#buildPostings()
    for (const key of ORDER_KEYS) this.#order(key)
  }

  #buildPostings(): void {
    const hay = this.#hay
    const n = hay.length
    const seen = new Int32Array(TRIGRAM_SPACE)
    const start = new Int32Array(TRIGRAM_SPACE + 1)
    // Pass 1: count the users holding each trigram (each user once).
    for (let slot = 0; slot < n; slot++) {
      const text = hay[slot]!
      const mark = slot + 1
      for (let i = 0; i + 2 < text.length; i++) {
        const t = trigramAt(text, i)
        if (seen[t] === mark) continue
        seen[t] = mark
        start[t + 1]! += 1
      }
    }
    for (let t = 0; t < TRIGRAM_SPACE; t++) start[t + 1]! += start[t]!
    // Pass 2: fill, in slot order.
    const slots = new Int32Array(start[TRIGRAM_SPACE]!)
    const cursor = start.slice(0, TRIGRAM_SPACE)
    seen.fill(0)
    for (let slot = 0; slot < n; slot++) {
      const text = hay[slot]!
      const mark = slot + 1
      for (let i = 0; i + 2 < text.length; i++) {
        const t = trigramAt(text, i)
        if (seen[t] === mark) continue
        seen[t] = mark
        slots[cursor[t]!++] = slot
      }
    }
    this.#postingStart = start
    this.#postingSlots = slots
    this.#indexedUpTo = n
    this.#dirtySlots.clear()
  }

  /** Postings go stale as users are added; rebuild when the unindexed tail gets long. */
  #ensurePostings(): void {
    const unindexed = this.#hay.length - this.#indexedUpTo + this.#dirtySlots.size
    if (unindexed > Math.max(2000, this.#hay.length / 20)) this.#buildPostings()
  }

  hayOf(slot: number): string {
    return this.#hay[slot]!
  }

  #indexExact(user: LocalUser, slot: number): void {
    const push = (map: Map<string, number[]>, key: string) => {
      const list = map.get(key)
      if (list) list.push(slot)
      else map.set(key, [slot])
    }
    for (const e of user.emailAddresses) push(this.#byEmail, e.emailAddress.toLowerCase())
    for (const p of user.phoneNumbers) push(this.#byPhone, p.phoneNumber)
    if (user.username) push(this.#byUsername, user.username.toLowerCase())
    if (user.externalId) push(this.#byExternalId, user.externalId)
  }

  slotsByEmail(email: string): number[] {
    return this.#byEmail.get(email.toLowerCase()) ?? []
  }
  slotsByPhone(phone: string): number[] {
    return this.#byPhone.get(phone) ?? []
  }
  slotsByUsername(username: string): number[] {
    return this.#byUsername.get(username.toLowerCase()) ?? []
  }
  slotsByExternalId(externalId: string): number[] {
    return this.#byExternalId.get(externalId) ?? []
  }

  #nextEpoch(): number {
    if (this.#stamp.length < this.users.length)
      this.#stamp = new Uint32Array(Math.max(1024, this.users.length * 2))
    this.#epoch += 1
    if (this.#epoch === 0xffffffff) {
      this.#stamp.fill(0)
      this.#epoch = 1
    }
    return this.#epoch
  }

  /**
   * Candidate slots for a lowercase query (a superset of the matches, without duplicates), or
   * undefined when every user is a candidate (empty query).
   */
  #queryCandidates(q: string): number[] | Int32Array | undefined {
    if (q.length === 0) return undefined
    if (q.length < 3) return this.#shortMatches(q)
    this.#ensurePostings()
    const lists: Int32Array[] = []
    const seenTrigrams = new Set<number>()
    for (let i = 0; i + 2 < q.length; i++) {
      const t = trigramAt(q, i)
      if (seenTrigrams.has(t)) continue
      seenTrigrams.add(t)
      lists.push(this.#postingSlots.subarray(this.#postingStart[t]!, this.#postingStart[t + 1]!))
    }
    lists.sort((a, b) => a.length - b.length)
    // Intersect the rarest list with up to two more when it is still long (each list is unique).
    const used = lists[0]!.length > 256 ? lists.slice(0, 3) : lists.slice(0, 1)
    let out: number[] = Array.from(used[0]!)
    for (const list of used.slice(1)) {
      const epoch = this.#nextEpoch()
      const stamp = this.#stamp
      for (const slot of list) stamp[slot] = epoch
      out = out.filter((slot) => stamp[slot] === epoch)
    }
    // Users added or changed since the postings were built are always candidates.
    for (let slot = this.#indexedUpTo; slot < this.#hay.length; slot++) out.push(slot)
    for (const slot of this.#dirtySlots)
      if (!used.every((list) => binaryHas(list, slot))) out.push(slot)
    return out
  }

  /** 1–2 character queries: one scan of the haystacks, cached until the users change. */
  #shortMatches(q: string): Int32Array {
    const cached = this.#shortCache.get(q)
    if (cached) {
      // LRU: move to the back.
      this.#shortCache.delete(q)
      this.#shortCache.set(q, cached)
      return cached
    }
    const hay = this.#hay
    const out: number[] = []
    for (let slot = 0; slot < hay.length; slot++) if (hay[slot]!.includes(q)) out.push(slot)
    const result = Int32Array.from(out)
    if (this.#shortCache.size >= SHORT_CACHE_LIMIT) {
      const oldest = this.#shortCache.keys().next().value
      if (oldest !== undefined) this.#shortCache.delete(oldest)
    }
    this.#shortCache.set(q, result)
    return result
  }

  #order(key: OrderKey): SortedOrder {
    let order = this.#orders.get(key)
    const moved = this.#moved.get(key)
    if (order && order.size === this.users.length) {
      if (moved === undefined || moved.size === 0) return order
      if (moved.size <= MAX_MOVES) {
        this.#applyMoves(order, key, moved)
        moved.clear()
        return order
      }
    }
    moved?.clear()
    order = this.#buildOrder(key)
    this.#orders.set(key, order)
    return order
  }

  /**
   * Re-places users whose value changed, one at a time: take the user out, binary-search its new
   * place, shift the slots in between and fix their ranks. `values` changes for one user at a
   * time, so the array stays sorted by `values` for everyone else during each search.
   */
  #applyMoves(order: SortedOrder, key: OrderKey, moved: Set<number>): void {
    const n = order.size
    const values = order.values
    for (const slot of moved) {
      values[slot] = orderValue(this.users[slot]!, key)
      for (const desc of [false, true]) {
        const arr = desc ? order.desc : order.asc
        const rank = desc ? order.descRank : order.ascRank
        const from = rank[slot]!
        arr.copyWithin(from, from + 1, n)
        const item = { value: values[slot]!, slot }
        let lo = 0
        let hi = n - 1
        while (lo < hi) {
          const mid = (lo + hi) >>> 1
          const other = arr[mid]!
          if (compareForOrder({ value: values[other]!, slot: other }, item, desc) < 0) lo = mid + 1
          else hi = mid
        }
        arr.copyWithin(lo + 1, lo, n - 1)
        arr[lo] = slot
        for (let i = Math.min(from, lo); i <= Math.max(from, lo); i++) rank[arr[i]!] = i
      }
    }
  }

  #buildOrder(key: OrderKey): SortedOrder {
    const n = this.users.length
    const values = this.users.map((u) => orderValue(u, key))
    // Ascending, nulls last, ties by slot. Descending is the reverse of the non-null part
    // (ties then by slot descending, as compareForOrder says), nulls still last in slot order.
    const ascArr = new Int32Array(n)
    for (let i = 0; i < n; i++) ascArr[i] = i
    if (values.every((v) => v === null || typeof v === 'number')) {
      const nums = new Float64Array(n)
      for (let i = 0; i < n; i++) nums[i] = (values[i] as number | null) ?? Number.POSITIVE_INFINITY
      ascArr.sort((a, b) => nums[a]! - nums[b]! || a - b)
    } else {
      ascArr.sort((a, b) =>
        compareForOrder({ value: values[a]!, slot: a }, { value: values[b]!, slot: b }, false),
      )
    }
    let nonNull = n
    while (nonNull > 0 && values[ascArr[nonNull - 1]!] === null) nonNull--
    const descArr = new Int32Array(n)
    for (let i = 0; i < nonNull; i++) descArr[i] = ascArr[nonNull - 1 - i]!
    descArr.set(ascArr.subarray(nonNull), nonNull)
    const ascRank = new Int32Array(n)
    const descRank = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      ascRank[ascArr[i]!] = i
      descRank[descArr[i]!] = i
    }
    return { asc: ascArr, desc: descArr, ascRank, descRank, values, size: n }
  }

  /** Users matching `selection`, ordered, with offset and limit applied, and the total count. */
  search(selection: UserSelection, orderBy: OrderBy, offset: number, limit: number): UserMatch {
    const slots = this.matchSlots(selection)
    return this.#page(slots, orderBy, offset, limit)
  }

  count(selection: UserSelection): number {
    const slots = this.matchSlots(selection)
    return slots === 'all' ? this.users.length : slots.length
  }

  /** Every matching slot (unordered), or 'all' when nothing narrows the directory. */
  matchSlots(selection: UserSelection): number[] | Int32Array | 'all' {
    const key = selection.cacheKey
    if (key === undefined) return this.#matchSlots(selection)
    const hit = this.#matchCache.get(key)
    if (hit && hit.version === this.#version) {
      this.#matchCache.delete(key)
      this.#matchCache.set(key, hit)
      return hit.slots
    }
    const slots = this.#matchSlots(selection)
    if (this.#matchCache.size >= MATCH_CACHE_LIMIT) {
      const oldest = this.#matchCache.keys().next().value
      if (oldest !== undefined) this.#matchCache.delete(oldest)
    }
    this.#matchCache.set(key, { version: this.#version, slots })
    return slots
  }

  #matchSlots(selection: UserSelection): number[] | Int32Array | 'all' {
    const q = selection.query.toLowerCase()
    let candidates: number[] | Int32Array | undefined = this.#queryCandidates(q)
    for (const set of selection.includeSets) {
      const list = Array.isArray(set) ? set : [...set]
      if (candidates === undefined) {
        candidates = dedupe(list)
      } else {
        const epoch = this.#nextEpoch()
        const stamp = this.#stamp
        for (const slot of list) stamp[slot] = epoch
        candidates = candidates.filter((slot) => stamp[slot] === epoch)
      }
    }
    const verifyQuery = q.length >= 3
    const predicates =
      this.#removed.size > 0 ? [...selection.predicates, this.#notRemoved] : selection.predicates
    if (candidates === undefined) {
      if (predicates.length === 0) return 'all'
      const out: number[] = []
      for (let slot = 0; slot < this.users.length; slot++)
        if (this.#passes(slot, predicates)) out.push(slot)
      return out
    }
    if (!verifyQuery && predicates.length === 0) return candidates
    const hay = this.#hay
    const out: number[] = []
    for (const slot of candidates) {
      if (verifyQuery && !hay[slot]!.includes(q)) continue
      if (predicates.length > 0 && !this.#passes(slot, predicates)) continue
      out.push(slot)
    }
    return out
  }

  #passes(slot: number, predicates: UserSelection['predicates']): boolean {
    const user = this.users[slot]!
    for (const p of predicates) if (!p(user, slot)) return false
    return true
  }

  #page(
    slots: number[] | Int32Array | 'all',
    orderBy: OrderBy,
    offset: number,
    limit: number,
  ): UserMatch {
    const order = this.#order(orderBy.key)
    const sorted = orderBy.desc ? order.desc : order.asc
    if (slots === 'all') {
      const page: LocalUser[] = []
      for (let i = offset; i < Math.min(sorted.length, offset + limit); i++)
        page.push(this.users[sorted[i]!]!)
      return { page, totalCount: sorted.length }
    }
    const total = slots.length
    const page: LocalUser[] = []
    if (offset >= total) return { page, totalCount: total }
    const want = Math.min(total, offset + limit)
    if (total * 16 > sorted.length) {
      // A large share of the directory: walk the presorted array and keep the members. The
      // membership bitmap is kept with the (possibly cached) match set.
      let members = this.#members.get(slots)
      if (!members || members.length !== sorted.length) {
        members = new Uint8Array(sorted.length)
        for (const slot of slots) members[slot] = 1
        this.#members.set(slots, members)
      }
      let seen = 0
      for (let i = 0; i < sorted.length && seen < want; i++) {
        const slot = sorted[i]!
        if (members[slot] === 0) continue
        if (seen >= offset) page.push(this.users[slot]!)
        seen++
      }
      return { page, totalCount: total }
    }
    // A small share: order the candidates by rank. For a first page keep only the `want` best
    // ranks (insertion into a short sorted buffer); otherwise sort them all (typed-array sort).
    const rank = orderBy.desc ? order.descRank : order.ascRank
    let best: Int32Array
    if (want <= 128) {
      best = new Int32Array(want)
      let size = 0
      for (let i = 0; i < total; i++) {
        const r = rank[slots[i]!]!
        if (size === want && r >= best[size - 1]!) continue
        let j = size < want ? size++ : size - 1
        while (j > 0 && best[j - 1]! > r) {
          best[j] = best[j - 1]!
          j--
        }
        best[j] = r
      }
    } else {
      best = new Int32Array(total)
      for (let i = 0; i < total; i++) best[i] = rank[slots[i]!]!
      best.sort()
    }
    for (let i = offset; i < want; i++) page.push(this.users[sorted[best[i]!]!]!)
    return { page, totalCount: total }
  }
}

function binaryHas(sorted: Int32Array, value: number): boolean {
  let lo = 0
  let hi = sorted.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = sorted[mid]!
    if (v === value) return true
    if (v < value) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

function dedupe(list: number[]): number[] {
  return list.length < 2 ? list.slice() : [...new Set(list)]
}
