import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import { PAGE_SIZE, useUserSearchStore } from './user-search'

let web: WebStack

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())
afterEach(() => web.stack.clerk.faults.clear())

/** Resolves once the local Clerk server has seen `n` more `GET /v1/users` than `before`. */
const usersRequests = () => web.stack.clerk.requests.snapshot().routes['GET /v1/users'] ?? 0
async function clerkSawSearch(before: number, n = 1) {
  await vi.waitFor(
    () => {
      if (usersRequests() < before + n) throw new Error('the search has not reached Clerk yet')
    },
    { timeout: 15_000, interval: 5 },
  )
}

async function store() {
  web.storeApp(await web.signedIn('admin'))
  return useUserSearchStore(web.pinia)
}

describe('user search store', () => {
  it('shows the latest search even when an older answer arrives last', async () => {
    const search = await store()
    const [first, second] = web.stack.customers()
    // Clerk answers the first search slowly; the second one is typed once Clerk holds the first
    web.stack.clerk.faults.add({ route: 'GET /v1/users', latencyMs: 1000, times: 2 })
    const before = usersRequests()
    const slow = search.search({ query: first!.id, page: 1, sort: '-created_at' })
    await clerkSawSearch(before)
    web.stack.clerk.faults.clear()
    await search.search({ query: second!.id, page: 1, sort: '-created_at' })
    await slow
    expect(search.items.map((u) => u.id)).toEqual([second!.id])
    expect(search.loading).toBe(false)
  })

  it('computes the visible range and page count from the total', async () => {
    const search = await store()
    await search.search({ query: '', page: 1, sort: '-created_at' })
    const total = search.total
    expect(total).toBe(web.stack.clerk.state.users.size)
    const lastPage = Math.ceil(total / PAGE_SIZE)
    await search.search({ query: '', page: lastPage, sort: '-created_at' })
    expect([search.rangeStart, search.rangeEnd, search.pageCount]).toEqual([
      (lastPage - 1) * PAGE_SIZE + 1,
      total,
      lastPage,
    ])
  })

  it('describes the rows on screen until the next page arrives', async () => {
    const search = await store()
    await search.search({ query: '', page: 1, sort: '-created_at' })
    const firstId = search.items[0]!.id
    web.stack.clerk.faults.add({ route: 'GET /v1/users', latencyMs: 1000, times: 1 })
    const before = usersRequests()
    const loadingPage2 = search.search({ query: '', page: 2, sort: '-created_at' })
    // Clerk holds the page-2 request: the store is between the two pages
    await clerkSawSearch(before)
    expect(search.loading).toBe(true)
    expect([search.rangeStart, search.rangeEnd, search.items[0]!.id]).toEqual([1, 20, firstId])
    await loadingPage2
    expect([search.rangeStart, search.rangeEnd]).toEqual([21, 40])
    expect(search.items[0]!.id).not.toBe(firstId)
  })

  it('says Clerk is rate limiting, with its Retry-After, and retries', async () => {
    const search = await store()
    web.stack.clerk.faults.add({ route: 'GET /v1/users', status: 429, retryAfterSeconds: 9 })
    await search.search({ query: 'example.com', page: 1, sort: '-created_at' })
    expect(search.error?.message).toContain('9 s')
    expect(search.items).toEqual([])
    web.stack.clerk.faults.clear()
    await search.retry()
    expect(search.error).toBeNull()
    expect(search.items.length).toBeGreaterThan(0)
  })
})
