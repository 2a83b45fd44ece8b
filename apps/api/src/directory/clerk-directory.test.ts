// The Clerk adapter against the local Clerk server: what it reads matches what the real
// @clerk/backend SDK reads, and the search's request budget holds: one list request per page, the
// count only when the page cannot tell the total, and a count cache with a bounded staleness.
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { createClerkClient } from '@clerk/backend'
import type { ClerkClient } from '@clerk/backend'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { BapiReader, CLERK_API_VERSION } from './bapi-reader.js'
import { ClerkDirectory } from './clerk-directory.js'
import type { TtlCache } from '../ttl-cache.js'

let clerk: ClerkLocal
/** The reference: the real SDK reading the same server. */
let sdk: ClerkClient
const opened: ClerkDirectory[] = []
beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  clerk = await startClerkLocal({ port: 0, users: 60, seed: 3 })
  sdk = createClerkClient({ secretKey: clerk.secretKey, apiUrl: clerk.url })
})
afterAll(async () => {
  for (const dir of opened) dir.close()
  await clerk.stop()
})

function directory(countCacheMs = 5_000) {
  let now = 1_000_000
  const dir = new ClerkDirectory({
    secretKey: clerk.secretKey,
    publishableKey: clerk.publishableKey,
    apiUrl: clerk.url,
    timeoutMs: 3000,
    countCacheMs,
    now: () => now,
  })
  opened.push(dir)
  const get = vi.spyOn(BapiReader.prototype, 'get')
  get.mockClear()
  const count = {
    calls: () => get.mock.calls.filter(([path]) => path === 'users/count').length,
  }
  return { dir, count, advance: (ms: number) => (now += ms) }
}

const page = { orderBy: '-created_at' }

describe('ClerkDirectory reads', () => {
  it('reads each user as @clerk/backend does: email, name, image, times, banned, locked', async () => {
    const { dir } = directory(0)
    const ours = await dir.searchUsers({ ...page, limit: 100, offset: 0 })
    const theirs = await sdk.users.getUserList({ limit: 100, orderBy: '-created_at' })
    expect(ours.users).toHaveLength(theirs.data.length)
    expect(ours.users).toEqual(
      theirs.data.map((u) => ({
        id: u.id,
        primaryEmail: (u.primaryEmailAddress ?? u.emailAddresses[0])?.emailAddress ?? null,
        phoneNumbers: [
          ...(u.primaryPhoneNumber ? [u.primaryPhoneNumber] : []),
          ...u.phoneNumbers.filter((p) => p.id !== u.primaryPhoneNumberId),
        ].map((p) => p.phoneNumber),
        fullName: u.fullName || u.username || null,
        imageUrl: u.imageUrl || null,
        createdAt: u.createdAt,
        lastSignInAt: u.lastSignInAt,
        lastActiveAt: u.lastActiveAt,
        banned: u.banned,
        locked: u.locked,
      })),
    )
    // The page holds banned and locked users, so both flags are compared both ways.
    expect(ours.users.some((u) => u.banned)).toBe(true)
    expect(ours.users.some((u) => u.locked)).toBe(true)
    const one = ours.users[0]!
    expect(await dir.getUser(one.id)).toEqual(one)
    expect(await dir.getUser('user_does_not_exist')).toBeNull()
  })

  it('reads memberships as @clerk/backend does', async () => {
    const { dir } = directory()
    const admin = clerk.accounts.find((a) => a.role === 'admin')!
    const ours = await dir.getMemberships(admin.userId, { fresh: true })
    const { data } = await sdk.users.getOrganizationMembershipList({ userId: admin.userId })
    expect(ours.length).toBeGreaterThan(0)
    expect(ours).toEqual(
      data.map((m) => ({
        organizationId: m.organization.id,
        organizationName: m.organization.name,
        organizationSlug: m.organization.slug,
        role: m.role,
        permissions: m.permissions,
      })),
    )
  })

  it('sends the Backend API version the SDK sends', async () => {
    const seen: (string | undefined)[] = []
    const sdkSeen = createClerkClient({ secretKey: clerk.secretKey, apiUrl: clerk.url })
    const original = globalThis.fetch
    const spy = vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      seen.push(new Headers(init?.headers).get('clerk-api-version') ?? undefined)
      return original(input, init)
    })
    await sdkSeen.users.getCount()
    spy.mockRestore()
    expect(seen).toEqual([CLERK_API_VERSION])
  })
})

describe('ClerkDirectory.searchUsers', () => {
  it('gives the same users and total as getUserList', async () => {
    const { dir } = directory(0)
    for (const params of [
      { limit: 20, offset: 0 },
      { limit: 20, offset: 40 },
      { limit: 100, offset: 0 },
      { limit: 5, offset: 500 },
      { limit: 10, offset: 0, query: 'a' },
    ]) {
      const ours = await dir.searchUsers({ ...page, ...params })
      const { query, ...rest } = params
      const theirs = await sdk.users.getUserList({
        ...rest,
        ...(query ? { query } : {}),
        orderBy: '-created_at',
      })
      expect(ours.users.map((u) => u.id)).toEqual(theirs.data.map((u) => u.id))
      expect(ours.total).toBe(theirs.totalCount)
    }
  })

  it("takes a short page's total from the page itself, not from a count", async () => {
    const { dir, count } = directory()
    // Cold cache: the count is fetched alongside the first list (one request, then cached).
    const all = await dir.searchUsers({ ...page, limit: 100, offset: 0 })
    expect(count.calls()).toBe(1)
    // A stale cached count is ignored by a short page: its total is exact.
    const cache = (dir as unknown as { countCache: TtlCache<number> }).countCache
    cache.set('', all.total + 7)
    const tail = await dir.searchUsers({ ...page, limit: 20, offset: all.total - 5 })
    expect(tail.total).toBe(all.total)
    expect(tail.users).toHaveLength(5)
    expect(count.calls()).toBe(1)
  })

  it('reuses a count for the same query within countCacheMs, then asks again', async () => {
    const { dir, count, advance } = directory(5_000)
    const first = await dir.searchUsers({ ...page, limit: 10, offset: 0 })
    expect(count.calls()).toBe(1)
    advance(4_999)
    expect(await dir.searchUsers({ ...page, limit: 10, offset: 10 })).toMatchObject({
      total: first.total,
    })
    expect(count.calls()).toBe(1)
    // Another query has a count of its own.
    await dir.searchUsers({ ...page, limit: 1, offset: 0, query: 'e' })
    expect(count.calls()).toBe(2)
    advance(1)
    await dir.searchUsers({ ...page, limit: 10, offset: 0 })
    expect(count.calls()).toBe(3)
  })

  it('never shows a cached total smaller than the page it returns', async () => {
    const { dir, count } = directory(60_000)
    const key = ''
    // A stale cached total (as if users were added since): smaller than offset + length.
    ;(dir as unknown as { countCache: TtlCache<number> }).countCache.set(key, 3)
    const result = await dir.searchUsers({ ...page, limit: 10, offset: 0 })
    expect(count.calls()).toBe(1)
    expect(result.total).toBeGreaterThanOrEqual(10)
  })

  it('asks for the count when an offset lies past the end', async () => {
    const { dir, count } = directory()
    const result = await dir.searchUsers({ ...page, limit: 10, offset: 10_000 })
    expect(result.users).toEqual([])
    expect(count.calls()).toBe(1)
    expect(result.total).toBeLessThan(10_000)
  })
})

describe('ClerkDirectory reads what a decision needs, whole', () => {
  it("lists every session of a user, past Clerk's page of 500, and filters by status", async () => {
    const { dir } = directory(0)
    const state = clerk.state
    const user = [...state.users.values()].find((u) => state.membershipsOfUser(u.id).length === 0)!
    const oldest = state.createSession(state.newClient(), user)
    oldest.createdAt -= 60_000
    const revoked = state.createSession(state.newClient(), user)
    revoked.createdAt -= 30_000
    state.endSession(revoked, 'revoked')
    for (let i = 0; i < 520; i++) state.createSession(state.newClient(), user)
    const all = await dir.listSessions(user.id)
    expect(all.length).toBeGreaterThanOrEqual(522)
    expect(new Set(all.map((s) => s.id)).size).toBe(all.length)
    expect(all.map((s) => s.id)).toContain(oldest.id)
    const active = await dir.listSessions(user.id, { status: 'active' })
    expect(active.map((s) => s.id)).toContain(oldest.id)
    expect(active.map((s) => s.id)).not.toContain(revoked.id)
  })

  it('asks each organization for one user: the membership is found among any number of others', async () => {
    const { dir } = directory(0)
    const state = clerk.state
    const [staffOrg, other] = [...state.organizations.values()]
    const user = [...state.users.values()].find((u) => state.membershipsOfUser(u.id).length === 0)!
    const membership = {
      id: 'orgmem_judge_first',
      organizationId: staffOrg!.id,
      userId: user.id,
      role: 'member',
      createdAt: Date.now() - 60_000,
      updatedAt: Date.now() - 60_000,
    }
    state.addMembership(membership)
    for (let i = 0; i < 120; i++) {
      const id = `org_judgedir${i}`
      state.addOrganization({ ...staffOrg!, id, slug: `judge-dir-${i}`, createdAt: Date.now() + i })
      state.addMembership({
        ...membership,
        id: `orgmem_judge_${i}`,
        organizationId: id,
        createdAt: Date.now() + i,
      })
    }
    const found = await dir.membershipsIn(user.id, [staffOrg!.id, other!.id])
    expect(found.map((m) => m.organizationId)).toEqual([staffOrg!.id])
    expect(found[0]?.permissions).toEqual(state.permissionsIn(user.id, staffOrg!.id))
  })
})
