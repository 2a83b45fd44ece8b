import { beforeEach, describe, expect, it } from 'vitest'
import { fakeAuth, storeApp, stubNetwork, userSummary } from '../testing/harness'
import type { StubNetwork } from '../testing/harness'
import { useUserSearchStore } from './user-search'

let network: StubNetwork

function store() {
  storeApp(fakeAuth(), network)
  return useUserSearchStore()
}

beforeEach(() => {
  network = stubNetwork()
})

describe('user search store', () => {
  it('shows the latest search even when an older answer arrives last', async () => {
    let releaseSlow: () => void = () => undefined
    network.handle('users.search', async (input) => {
      const { query } = input as { query: string }
      if (query === 'slow') await new Promise<void>((resolve) => (releaseSlow = resolve))
      return { data: { items: [userSummary({ id: `user_${query}` })], total: 1, next: null } }
    })
    const search = store()
    const slow = search.search({ query: 'slow', page: 1, sort: '-created_at' })
    await new Promise((r) => setTimeout(r, 20))
    await search.search({ query: 'fast', page: 1, sort: '-created_at' })
    releaseSlow()
    await slow
    expect(search.items.map((u) => u.id)).toEqual(['user_fast'])
    expect(search.loading).toBe(false)
  })

  it('computes the visible range and page count from the total', async () => {
    network.handle('users.search', () => ({
      data: {
        items: Array.from({ length: 5 }, (_, i) => userSummary({ id: `user_${40 + i}` })),
        total: 45,
        next: null,
      },
    }))
    const search = store()
    await search.search({ query: '', page: 3, sort: '-created_at' })
    expect([search.rangeStart, search.rangeEnd, search.pageCount]).toEqual([41, 45, 3])
  })
})

describe('user search store: the range while a page loads', () => {
  it('describes the rows on screen until the next page arrives', async () => {
    let release: () => void = () => undefined
    network.handle('users.search', async (input) => {
      const { offset } = input as { offset: number }
      if (offset === 20) await new Promise<void>((resolve) => (release = resolve))
      return {
        data: {
          items: Array.from({ length: 20 }, (_, i) => userSummary({ id: `user_${offset + i}` })),
          total: 45,
          next: null,
        },
      }
    })
    const search = store()
    await search.search({ query: '', page: 1, sort: '-created_at' })
    const loadingPage2 = search.search({ query: '', page: 2, sort: '-created_at' })
    await new Promise((r) => setTimeout(r, 20))
    expect(search.loading).toBe(true)
    expect([search.rangeStart, search.rangeEnd, search.items[0]!.id]).toEqual([1, 20, 'user_0'])
    release()
    await loadingPage2
    expect([search.rangeStart, search.rangeEnd, search.items[0]!.id]).toEqual([21, 40, 'user_20'])
  })
})
