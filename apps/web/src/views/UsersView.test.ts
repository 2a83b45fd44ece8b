import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { RouterView } from 'vue-router'
import type { Router } from 'vue-router'
import { SEARCH_DEBOUNCE_MS } from '../stores/user-search'
import { fakeAuth, harness, routerAt, settle, stubNetwork, userSummary } from '../testing/harness'
import type { StubNetwork } from '../testing/harness'
import UsersView from './UsersView.vue'

const quota = {
  used: 2,
  limit: 5,
  remaining: 3,
  nextIsBillable: false,
  periodStart: '2026-11-01T00:00:00.000Z',
  periodEnd: '2026-12-01T00:00:00.000Z',
}

function page(total: number, ids: string[]) {
  return { data: { items: ids.map((id) => userSummary({ id })), total, next: null } }
}

let network: StubNetwork
let router: Router

async function mountAt(url: string) {
  router = await routerAt(url, { path: '/users', name: 'users', component: UsersView }, ['/'])
  const wrapper = mount(defineComponent({ render: () => h(RouterView) }), {
    global: { plugins: [...harness(fakeAuth(), network), router] },
    attachTo: document.body,
  })
  await settle()
  return wrapper
}

const searchCalls = () => network.calls.filter((c) => c.path === 'users.search').map((c) => c.input)

beforeEach(() => {
  network = stubNetwork({
    quota: () => ({ data: quota }),
    'users.search': (input) => {
      const i = input as { query?: string; offset?: number }
      if (i.query === 'nobody') return page(0, [])
      const offset = i.offset ?? 0
      const count = Math.min(20, 45 - offset)
      return page(
        45,
        Array.from({ length: count }, (_, n) => `user_${i.query ?? 'all'}${offset + n}`),
      )
    },
  })
})
afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ''
})

describe('UsersView', () => {
  it('searches with the query, page and sort of the URL and shows the total', async () => {
    const wrapper = await mountAt('/users?q=ada&page=2&sort=%2Bcreated_at')
    expect(searchCalls()).toEqual([{ query: 'ada', limit: 20, offset: 20, orderBy: '+created_at' }])
    expect(wrapper.text()).toContain('21–40 of 45 users')
    expect(wrapper.text()).toContain('Page 2 of 3')
    expect((wrapper.find('#user-search').element as HTMLInputElement).value).toBe('ada')
    expect(wrapper.text()).toContain('2 of 5')
    expect(network.calls.every((c) => c.authorization === 'Bearer token-1')).toBe(true)
  })

  it('puts the typed query in the URL once typing pauses, back to page 1', async () => {
    const wrapper = await mountAt('/users?page=3')
    vi.useFakeTimers()
    const input = wrapper.find('#user-search')
    await input.setValue('j')
    await input.setValue('ja')
    await input.setValue('jane')
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS - 1)
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ page: '3' })
    vi.advanceTimersByTime(1)
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ q: 'jane' })
    await vi.runOnlyPendingTimersAsync() // tRPC dispatches batches on a timer
    vi.useRealTimers()
    await settle()
    expect(searchCalls().map((c) => (c as { query?: string }).query)).toEqual([undefined, 'jane'])
  })

  it('pages with Next and goes back with the browser history', async () => {
    const wrapper = await mountAt('/users?q=x')
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Next')!
      .trigger('click')
    await settle()
    expect(router.currentRoute.value.query).toEqual({ q: 'x', page: '2' })
    expect(wrapper.text()).toContain('21–40 of 45 users')
    router.back()
    await settle()
    expect(router.currentRoute.value.query).toEqual({ q: 'x' })
    expect(wrapper.text()).toContain('1–20 of 45 users')
  })

  it('shows an empty state when nothing matches', async () => {
    const wrapper = await mountAt('/users?q=nobody')
    expect(wrapper.text()).toContain('No users found')
    expect(wrapper.text()).toContain('Nothing matches “nobody”')
  })

  it('shows an error state whose retry runs the search again', async () => {
    let fail = true
    network.handle('users.search', () =>
      fail
        ? {
            error: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, message: 'down', retryAfter: 5 },
          }
        : page(1, ['user_back']),
    )
    const wrapper = await mountAt('/users')
    expect(wrapper.find('[role="alert"]').text()).toContain('Clerk unavailable')
    expect(wrapper.find('[role="alert"]').text()).toContain('Try again in 5 s.')
    fail = false
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Try again')!
      .trigger('click')
    await settle()
    expect(wrapper.find('[role="alert"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('user_back')
  })

  it('focuses the search box on "/"', async () => {
    await mountAt('/users')
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: '/', bubbles: true }))
    expect(document.activeElement?.id).toBe('user-search')
  })
})
