// When Clerk rate-limits the API's reads, the users page says so with Clerk's wait counting down,
// then searches again by itself.
import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { RouterView } from 'vue-router'
import { fakeAuth, harness, routerAt, settle, stubNetwork, userSummary } from '../testing/harness'
import UsersView from './UsersView.vue'

const Root = defineComponent({ render: () => h(RouterView) })

afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ''
})

describe('UsersView under Clerk rate limiting', () => {
  it('shows "Clerk is rate-limiting searches; retry in N s", counts down, then searches again', async () => {
    let limited = true
    const network = stubNetwork({
      quota: () => ({
        data: {
          used: 0,
          limit: 5,
          remaining: 5,
          nextIsBillable: false,
          periodStart: '2026-11-01T00:00:00.000Z',
          periodEnd: '2026-12-01T00:00:00.000Z',
        },
      }),
      'users.search': () =>
        limited
          ? {
              error: {
                code: 'RATE_LIMITED',
                httpStatus: 429,
                message: 'Clerk is rate limiting requests; retry in 3 s.',
                retryAfter: 3,
                rateLimitedBy: 'clerk',
              },
            }
          : { data: { items: [userSummary({ id: 'user_back' })], total: 1, next: null } },
    })
    const router = await routerAt(
      '/users?q=ada',
      { path: '/users', name: 'users', component: UsersView },
      ['/'],
    )
    // Only the countdown's clock is faked; the rest of the page runs as usual.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const wrapper = mount(Root, {
      global: { plugins: [...harness(fakeAuth(), network), router] },
      attachTo: document.body,
    })
    await settle()
    const notice = () => wrapper.find('[data-testid="clerk-rate-limit"]')
    expect(notice().text()).toContain('Clerk is rate-limiting searches; retry in 3 s.')
    const button = () =>
      notice()
        .findAll('button')
        .find((b) => b.text() === 'Try again')!
    expect(button().attributes('disabled')).toBeDefined()
    const searches = () => network.calls.filter((c) => c.path === 'users.search').length
    expect(searches()).toBe(1)

    vi.advanceTimersByTime(1000)
    await settle()
    expect(notice().text()).toContain('retry in 2 s.')
    vi.advanceTimersByTime(1000)
    await settle()
    expect(notice().text()).toContain('retry in 1 s.')
    expect(searches()).toBe(1)

    limited = false
    vi.advanceTimersByTime(1000)
    await settle()
    expect(searches()).toBe(2)
    expect(notice().exists()).toBe(false)
    expect(wrapper.text()).toContain('user_back')
  })

  it("keeps ActAs's own rate limit as before (no Clerk countdown)", async () => {
    const network = stubNetwork({
      quota: () => ({ error: { code: 'INTERNAL', httpStatus: 500, message: 'x' } }),
      'users.search': () => ({
        error: { code: 'RATE_LIMITED', httpStatus: 429, message: 'slow', retryAfter: 20 },
      }),
    })
    const router = await routerAt(
      '/users',
      { path: '/users', name: 'users', component: UsersView },
      ['/'],
    )
    const wrapper = mount(Root, {
      global: { plugins: [...harness(fakeAuth(), network), router] },
      attachTo: document.body,
    })
    await settle()
    expect(wrapper.find('[data-testid="clerk-rate-limit"]').exists()).toBe(false)
    expect(wrapper.find('[role="alert"]').text()).toContain(
      'You are going too fast. Try again in 20 s.',
    )
  })
})
