import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from 'vue'
import { AuthKey } from '../auth/types'
import { ApiKey, createApi } from '../lib/api'
import { fakeAuth, stubNetwork, userSummary } from '../testing/harness'
import type { StubNetwork } from '../testing/harness'
import { useUserSearchStore } from './user-search'

let network: StubNetwork

function store() {
  const auth = fakeAuth()
  const app = createApp({ render: () => null })
  app.provide(AuthKey, auth)
  app.provide(
    ApiKey,
    createApi({
      url: 'http://api.test/trpc',
      getToken: () => auth.getToken(),
      fetch: network.fetch,
    }),
  )
  const pinia = createPinia()
  app.use(pinia)
  setActivePinia(pinia)
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
    network.handle('users.search', () => ({ data: { items: [], total: 45, next: null } }))
    const search = store()
    await search.search({ query: '', page: 3, sort: '-created_at' })
    expect([search.rangeStart, search.rangeEnd, search.pageCount]).toEqual([41, 45, 3])
  })
})
