import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { webStack } from '../testing/harness'
import type { WebStack } from '../testing/harness'
import { PAGE_SIZE, useUserSearchStore } from './user-search'

let web: WebStack

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())
afterEach(() => web.stack.clerk.faults.clear())

async function store() {
  web.storeApp(await web.signedIn('admin'))
  return useUserSearchStore()
}

describe('user search store', () => {
  it('shows the latest search even when an older answer arrives last', async () => {
    const search = await store()
    const [first, second] = web.stack.customers()
    // Clerk answers the first search slowly; the second one is typed meanwhile
    web.stack.clerk.faults.add({ route: 'GET /v1/users', latencyMs: 400, times: 2 })
    const slow = search.search({ query: first!.id, page: 1, sort: '-created_at' })
    await new Promise((r) => setTimeout(r, 50))
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
    web.stack.clerk.faults.add({ route: 'GET /v1/users', latencyMs: 300, times: 1 })
    const loadingPage2 = search.search({ query: '', page: 2, sort: '-created_at' })
    await new Promise((r) => setTimeout(r, 50))
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
