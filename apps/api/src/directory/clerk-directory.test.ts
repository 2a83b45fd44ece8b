// The search's request budget against the local Clerk server: one list request per page, the
// count only when the page cannot tell the total, and a count cache with a bounded staleness.
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ClerkDirectory } from './clerk-directory.js'

let clerk: ClerkLocal
beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  clerk = await startClerkLocal({ port: 0, users: 60, seed: 3 })
})
afterAll(async () => {
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
  const clerkUsers = (dir as unknown as { clerk: { users: { getCount: () => Promise<number> } } })
    .clerk.users
  const count = vi.spyOn(clerkUsers, 'getCount')
  return { dir, count, advance: (ms: number) => (now += ms) }
}

const page = { orderBy: '-created_at' }

describe('ClerkDirectory.searchUsers', () => {
  it('gives the same users and total as getUserList', async () => {
    const { dir } = directory(0)
    const reference = (
      dir as unknown as {
        clerk: {
          users: {
            getUserList: (p: object) => Promise<{ data: { id: string }[]; totalCount: number }>
          }
        }
      }
    ).clerk.users
    for (const params of [
      { limit: 20, offset: 0 },
      { limit: 20, offset: 40 },
      { limit: 100, offset: 0 },
      { limit: 5, offset: 500 },
      { limit: 10, offset: 0, query: 'a' },
    ]) {
      const ours = await dir.searchUsers({ ...page, ...params })
      const { query, ...rest } = params as { query?: string; limit: number; offset: number }
      const theirs = await reference.getUserList({
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
    expect(count).toHaveBeenCalledTimes(1)
    // A stale cached count is ignored by a short page: its total is exact.
    const cache = (dir as unknown as { countCache: Map<string, { at: number; total: number }> })
      .countCache
    cache.set('', { at: 1_000_000, total: all.total + 7 })
    const tail = await dir.searchUsers({ ...page, limit: 20, offset: all.total - 5 })
    expect(tail.total).toBe(all.total)
    expect(tail.users).toHaveLength(5)
    expect(count).toHaveBeenCalledTimes(1)
  })

  it('reuses a count for the same query within countCacheMs, then asks again', async () => {
    const { dir, count, advance } = directory(5_000)
    const first = await dir.searchUsers({ ...page, limit: 10, offset: 0 })
    expect(count).toHaveBeenCalledTimes(1)
    advance(4_999)
    expect(await dir.searchUsers({ ...page, limit: 10, offset: 10 })).toMatchObject({
      total: first.total,
    })
    expect(count).toHaveBeenCalledTimes(1)
    // Another query has a count of its own.
    await dir.searchUsers({ ...page, limit: 1, offset: 0, query: 'e' })
    expect(count).toHaveBeenCalledTimes(2)
    advance(1)
    await dir.searchUsers({ ...page, limit: 10, offset: 0 })
    expect(count).toHaveBeenCalledTimes(3)
  })

  it('never shows a cached total smaller than the page it returns', async () => {
    const { dir, count } = directory(60_000)
    const key = ''
    // A stale cached total (as if users were added since): smaller than offset + length.
    ;(dir as unknown as { countCache: Map<string, { at: number; total: number }> }).countCache.set(
      key,
      { at: 1_000_000, total: 3 },
    )
    const result = await dir.searchUsers({ ...page, limit: 10, offset: 0 })
    expect(count).toHaveBeenCalledTimes(1)
    expect(result.total).toBeGreaterThanOrEqual(10)
  })

  it('asks for the count when an offset lies past the end', async () => {
    const { dir, count } = directory()
    const result = await dir.searchUsers({ ...page, limit: 10, offset: 10_000 })
    expect(result.users).toEqual([])
    expect(count).toHaveBeenCalledTimes(1)
    expect(result.total).toBeLessThan(10_000)
  })
})
