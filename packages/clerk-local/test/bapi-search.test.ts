import { describe, expect, it } from 'vitest'
import type { LocalUser } from '../src/model.js'
import {
  compareForOrder,
  ORDER_KEYS,
  orderValue,
  type OrderBy,
  type UserSelection,
} from '../src/search.js'
import { createRandom, seedState } from '../src/seed.js'
import { ClerkState } from '../src/state.js'

// The search index (trigram postings, short-query cache, presorted orders, the unindexed tail
// and re-indexed users) against a brute-force filter over the users' fields, on random queries.

const NOW = Date.UTC(2026, 5, 1)

/** What `query` means, written independently of the index: a case-insensitive substring of a field. */
function bruteMatches(user: LocalUser, query: string): boolean {
  const q = query.toLowerCase()
  if (q === '') return true
  const fields = [
    user.id,
    user.externalId,
    user.username,
    user.firstName,
    user.lastName,
    user.firstName && user.lastName ? `${user.firstName} ${user.lastName}` : null,
    ...user.emailAddresses.map((e) => e.emailAddress),
    ...user.phoneNumbers.map((p) => p.phoneNumber),
  ]
  return fields.some((f) => f !== null && f.toLowerCase().includes(q))
}

function bruteSearch(
  state: ClerkState,
  query: string,
  orderBy: OrderBy,
  offset: number,
  limit: number,
) {
  const slot = (u: LocalUser) => state.userIndex.slotById.get(u.id)!
  const matched = [...state.users.values()].filter((u) => bruteMatches(u, query))
  matched.sort((a, b) =>
    compareForOrder(
      { value: orderValue(a, orderBy.key), slot: slot(a) },
      { value: orderValue(b, orderBy.key), slot: slot(b) },
      orderBy.desc,
    ),
  )
  return { ids: matched.slice(offset, offset + limit).map((u) => u.id), total: matched.length }
}

const selection = (query: string): UserSelection => ({ includeSets: [], predicates: [], query })

function randomQuery(rand: () => number, users: LocalUser[]): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!
  const kind = Math.floor(rand() * 10)
  if (kind === 0) {
    // Random letters: mostly no match, sometimes a few.
    const letters = 'abcdefghijklmnopqrstuvwxyz0123456789.@+_-é'
    return Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(letters.split(''))).join(
      '',
    )
  }
  const u = pick(users)
  const sources = [
    u.id,
    u.externalId ?? u.id,
    u.username ?? u.lastName ?? '',
    u.firstName ?? '',
    u.lastName ?? '',
    `${u.firstName} ${u.lastName}`,
    ...u.emailAddresses.map((e) => e.emailAddress),
    ...u.phoneNumbers.map((p) => p.phoneNumber),
  ].filter((s) => s.length > 0)
  const text = pick(sources)
  const length = 1 + Math.floor(rand() * Math.min(14, text.length))
  const start = Math.floor(rand() * (text.length - length + 1))
  const piece = text.slice(start, start + length)
  // Random case: the match is case-insensitive.
  return [...piece].map((c) => (rand() < 0.3 ? c.toUpperCase() : c)).join('')
}

describe('user search index', () => {
  const state = new ClerkState(() => NOW)
  seedState(state, { users: 3000, seed: 11 })
  const users = [...state.users.values()]

  it('matches a brute-force filter on 1,500 random queries, with order, offset and limit', () => {
    const rand = createRandom(2024)
    let nonEmpty = 0
    for (let i = 0; i < 1500; i++) {
      const query = randomQuery(rand, users)
      const orderBy: OrderBy = {
        key: ORDER_KEYS[Math.floor(rand() * ORDER_KEYS.length)]!,
        desc: rand() < 0.5,
      }
      const offset = rand() < 0.7 ? 0 : Math.floor(rand() * 40)
      const limit = 1 + Math.floor(rand() * 60)
      const expected = bruteSearch(state, query, orderBy, offset, limit)
      const actual = state.userIndex.search(selection(query), orderBy, offset, limit)
      expect(actual.totalCount, `query ${JSON.stringify(query)}`).toBe(expected.total)
      expect(
        actual.page.map((u) => u.id),
        `query ${JSON.stringify(query)} order ${orderBy.desc ? '-' : ''}${orderBy.key}`,
      ).toEqual(expected.ids)
      expect(state.userIndex.count(selection(query))).toBe(expected.total)
      if (expected.total > 0) nonEmpty++
    }
    // The generator must mostly produce queries that find someone, or the comparison is hollow.
    expect(nonEmpty).toBeGreaterThan(1200)
  }, 180_000) // CPU-bound: 1,500 queries over the index and by brute force; slow on a busy machine

  it('finds users added after the index was built, and re-indexed users by their new values only', () => {
    const rand = createRandom(99)
    const extra = new ClerkState(() => NOW)
    seedState(extra, { users: 500, seed: 12 })
    // Move 40 users of another seed into this directory, after `prepare()` ran.
    const added = [...extra.users.values()].slice(10, 50)
    for (const u of added)
      state.addUser({ ...u, emailAddresses: u.emailAddresses.map((e) => ({ ...e })) })

    const changed = users[123]!
    const oldEmail = changed.emailAddresses[0]!.emailAddress
    changed.emailAddresses[0]!.emailAddress = 'renamed.person@zqx-example.test'
    changed.firstName = 'Xavierine'
    state.userChanged(changed)

    for (const q of ['zqx-example', 'renamed.pers', 'XAVIERINE', 'avie']) {
      expect(
        state.userIndex
          .search(selection(q), { key: 'created_at', desc: true }, 0, 10)
          .page.map((u) => u.id),
      ).toContain(changed.id)
    }
    expect(state.userIndex.count(selection(oldEmail))).toBe(
      bruteSearch(state, oldEmail, { key: 'created_at', desc: true }, 0, 1).total,
    )
    expect(
      state.userIndex
        .search(selection(oldEmail), { key: 'created_at', desc: true }, 0, 500)
        .page.map((u) => u.id),
    ).not.toContain(changed.id)

    const all = [...state.users.values()]
    for (let i = 0; i < 400; i++) {
      const query = randomQuery(rand, all)
      const expected = bruteSearch(state, query, { key: 'last_name', desc: false }, 0, 20)
      const actual = state.userIndex.search(
        selection(query),
        { key: 'last_name', desc: false },
        0,
        20,
      )
      expect(actual.totalCount, query).toBe(expected.total)
      expect(
        actual.page.map((u) => u.id),
        query,
      ).toEqual(expected.ids)
    }
  })

  it('re-sorts when timestamps change in place (FAPI sign-ins and touches)', () => {
    const orderBy: OrderBy = { key: 'last_active_at', desc: true }
    const before = state.userIndex.search(selection(''), orderBy, 0, 3).page.map((u) => u.id)
    const sleeper = users.find((u) => u.lastActiveAt === null)!
    sleeper.lastActiveAt = NOW + 1000
    const after = state.userIndex.search(selection(''), orderBy, 0, 3).page.map((u) => u.id)
    expect(after[0]).toBe(sleeper.id)
    expect(after.slice(1)).toEqual(before.slice(0, 2))
  })

  it('keeps every timestamp order exact after many in-place changes (patched and rebuilt)', () => {
    const rand = createRandom(7)
    const all = [...state.users.values()]
    for (const changes of [1, 3, 40, 700]) {
      for (let i = 0; i < changes; i++) {
        const u = all[Math.floor(rand() * all.length)]!
        const value = rand() < 0.1 ? null : NOW - Math.floor(rand() * 1e10)
        const field = (['lastActiveAt', 'lastSignInAt', 'updatedAt'] as const)[i % 3]!
        if (field === 'updatedAt') u.updatedAt = value ?? NOW
        else u[field] = value
      }
      for (const key of ['last_active_at', 'last_sign_in_at', 'updated_at'] as const) {
        for (const desc of [false, true]) {
          const expected = bruteSearch(state, '', { key, desc }, 0, all.length)
          const actual = state.userIndex.search(selection(''), { key, desc }, 0, all.length)
          expect(
            actual.page.map((u) => u.id),
            `${changes} changes, ${desc ? '-' : '+'}${key}`,
          ).toEqual(expected.ids)
        }
      }
    }
  })

  it('combines include sets and predicates with the query (AND)', () => {
    const someone = users.find((u) => u.externalId && u.phoneNumbers.length > 0)!
    const slot = state.userIndex.slotById.get(someone.id)!
    const q = someone.lastName!.slice(0, 3)
    const hit = state.userIndex.search(
      { includeSets: [[slot, slot + 1]], predicates: [(u) => u.id === someone.id], query: q },
      { key: 'created_at', desc: true },
      0,
      10,
    )
    expect(hit.page.map((u) => u.id)).toEqual([someone.id])
    const miss = state.userIndex.search(
      { includeSets: [[slot]], predicates: [], query: 'zzzzqqqq' },
      { key: 'created_at', desc: true },
      0,
      10,
    )
    expect(miss.totalCount).toBe(0)
  })

  it('leaves deleted users out of every answer (all orders, empty and non-empty queries, exact filters)', () => {
    const rand = createRandom(31)
    const all = [...state.users.values()].filter((u) => u.passwordDigest === null)
    const doomed = all.filter(() => rand() < 0.03)
    expect(doomed.length).toBeGreaterThan(40)
    for (const u of doomed) state.deleteUser(u)
    const left = [...state.users.values()]
    for (let i = 0; i < 300; i++) {
      const query = i % 5 === 0 ? '' : randomQuery(rand, i % 2 === 0 ? doomed : left)
      const orderBy: OrderBy = {
        key: ORDER_KEYS[Math.floor(rand() * ORDER_KEYS.length)]!,
        desc: rand() < 0.5,
      }
      const offset = rand() < 0.7 ? 0 : Math.floor(rand() * 40)
      const expected = bruteSearch(state, query, orderBy, offset, 25)
      const actual = state.userIndex.search(selection(query), orderBy, offset, 25)
      expect(actual.totalCount, query).toBe(expected.total)
      expect(
        actual.page.map((u) => u.id),
        query,
      ).toEqual(expected.ids)
    }
    expect(state.userIndex.count(selection(''))).toBe(state.users.size)
    for (const u of doomed.slice(0, 10)) {
      expect(state.userIndex.slotsByEmail(u.emailAddresses[0]!.emailAddress)).toEqual([])
      expect(state.userIndex.slotById.has(u.id)).toBe(false)
    }
  })
})
