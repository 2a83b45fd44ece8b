import { flushPromises, mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { RouterView } from 'vue-router'
import type { Router } from 'vue-router'
import { SEARCH_DEBOUNCE_MS } from '../stores/user-search'
import { routerAt, until, webStack } from '../../test/support/harness'
import type { ApiChoice, WebStack } from '../../test/support/harness'
import UsersView from './UsersView.vue'

let web: WebStack
let router: Router

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())
afterEach(() => {
  vi.useRealTimers()
  web.stack.clerk.faults.clear()
  document.body.innerHTML = ''
})

async function mountAt(url: string, api: ApiChoice = {}) {
  const auth = await web.signedIn('admin')
  router = await routerAt(url, { path: '/users', name: 'users', component: UsersView }, ['/'])
  const wrapper = mount(defineComponent({ render: () => h(RouterView) }), {
    global: { plugins: [...web.plugins(auth, api), router] },
    attachTo: document.body,
  })
  await until(() => !wrapper.find('[aria-busy="true"]').exists(), 'the search')
  return wrapper
}

/** Customers whose primary email contains `part`, as the local Clerk server seeded them. */
function customersMatching(part: string) {
  return [...web.stack.clerk.state.users.values()].filter((u) =>
    u.emailAddresses.some((e) => e.emailAddress.includes(part)),
  )
}

describe('UsersView', () => {
  it('searches with the query, page and sort of the URL and shows the total', async () => {
    const total = customersMatching('gmail.com').length
    expect(total).toBeGreaterThan(40)
    const wrapper = await mountAt('/users?q=gmail.com&page=2&sort=%2Bcreated_at')
    expect(wrapper.find('[data-testid="result-count"]').text()).toBe(
      `21–40 of ${total.toLocaleString()} users`,
    )
    expect(wrapper.text()).toContain(`Page 2 of ${Math.ceil(total / 20)}`)
    expect((wrapper.find('#user-search').element as HTMLInputElement).value).toBe('gmail.com')
    expect(wrapper.findAll('tbody tr')).toHaveLength(20)
    // oldest first: the rows are in creation order
    const ids = wrapper.findAll('tbody tr').map((r) => r.attributes('data-user-id')!)
    const created = ids.map((id) => web.stack.clerk.state.users.get(id)!.createdAt)
    expect([...created].sort((a, b) => a - b)).toEqual(created)
    // the monthly quota next to the title
    expect(wrapper.find('[data-testid="quota-meter"]').text()).toMatch(/\d+ of \d+/)
  })

  it('puts the typed query in the URL once typing pauses, back to page 1', async () => {
    const jane = web.stack.customers()[3]!
    const email = jane.emailAddresses[0]!.emailAddress
    const wrapper = await mountAt('/users?page=3')
    vi.useFakeTimers()
    const input = wrapper.find('#user-search')
    await input.setValue(email.slice(0, 1))
    await input.setValue(email.slice(0, 3))
    await input.setValue(email)
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS - 1)
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ page: '3' })
    vi.advanceTimersByTime(1)
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ q: email })
    await vi.runOnlyPendingTimersAsync() // tRPC dispatches batches on a timer
    vi.useRealTimers()
    await until(() => wrapper.findAll('tbody tr').length === 1, 'the one match')
    expect(wrapper.find('tbody tr').attributes('data-user-id')).toBe(jane.id)
  })

  it('pages with Next and goes back with the browser history', async () => {
    const wrapper = await mountAt('/users?q=gmail.com')
    const firstPage = wrapper.find('tbody tr').attributes('data-user-id')
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Next')!
      .trigger('click')
    await until(() => wrapper.find('[data-testid="result-count"]').text().startsWith('21–40'))
    expect(router.currentRoute.value.query).toEqual({ q: 'gmail.com', page: '2' })
    expect(wrapper.find('tbody tr').attributes('data-user-id')).not.toBe(firstPage)
    router.back()
    await until(() => wrapper.find('[data-testid="result-count"]').text().startsWith('1–20'))
    expect(router.currentRoute.value.query).toEqual({ q: 'gmail.com' })
    expect(wrapper.find('tbody tr').attributes('data-user-id')).toBe(firstPage)
  })

  it('announces "20 of N users" in a polite status line, not the whole table', async () => {
    const total = customersMatching('gmail.com').length
    const wrapper = await mountAt('/users?q=gmail.com')
    const status = wrapper.find('[role="status"]')
    expect(status.text()).toBe(`20 of ${total} users, page 1 of ${Math.ceil(total / 20)}`)
    expect(wrapper.find('[aria-live]').exists()).toBe(false)
    expect(wrapper.find('#users-results').attributes('aria-live')).toBeUndefined()
  })

  it('after Next, keyboard focus is on the first row of the new page', async () => {
    const wrapper = await mountAt('/users?q=gmail.com')
    const next = wrapper.findAll('button').find((b) => b.text() === 'Next')!
    ;(next.element as HTMLElement).focus()
    await next.trigger('click')
    await until(() => wrapper.find('[data-testid="result-count"]').text().startsWith('21–40'))
    await until(() => document.activeElement?.getAttribute('data-index') === '0', 'the focus')
    expect(document.activeElement).toBe(wrapper.find('tbody tr').element)
  })

  it('shows an empty state when nothing matches', async () => {
    const wrapper = await mountAt('/users?q=nobody-has-this-name')
    expect(wrapper.text()).toContain('No users found')
    expect(wrapper.text()).toContain('Nothing matches “nobody-has-this-name”')
  })

  it('shows Clerk being down, with its Retry-After, and Try again runs the search again', async () => {
    web.stack.clerk.faults.add({ route: '*', status: 503, retryAfterSeconds: 5 })
    const wrapper = await mountAt('/users')
    expect(wrapper.find('[role="alert"]').text()).toContain('Clerk unavailable')
    expect(wrapper.find('[role="alert"]').text()).toContain('Try again in 5 s.')
    web.stack.clerk.faults.clear()
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Try again')!
      .trigger('click')
    await until(() => wrapper.findAll('tbody tr').length === 20, 'the first page')
    expect(wrapper.find('[role="alert"]').exists()).toBe(false)
  })

  it('focuses the search box on "/"', async () => {
    await mountAt('/users')
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: '/', bubbles: true }))
    expect(document.activeElement?.id).toBe('user-search')
  })

  it('says the API cannot be reached when it is stopped, and Try again works once it is back', async () => {
    await web.setApi('stopped')
    const wrapper = await mountAt('/users').finally(() => web.setApi('up'))
    expect(wrapper.find('[role="alert"]').text()).toContain('ActAs unreachable')
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Try again')!
      .trigger('click')
    await until(() => wrapper.findAll('tbody tr').length === 20, 'the first page')
  })

  it('after an outage the search runs again by itself (no click) once the API is back', async () => {
    await web.setApi('stopped')
    let wrapper: Awaited<ReturnType<typeof mountAt>>
    try {
      wrapper = await mountAt('/users?q=example.com')
      expect(wrapper.find('[role="alert"]').text()).toContain('ActAs unreachable')
      expect(wrapper.find('[data-testid="users-retrying"]').text()).toBe(
        'The search runs again by itself until it answers.',
      )
    } finally {
      await web.setApi('up')
    }
    await until(
      () => wrapper!.findAll('tbody tr[data-user-id]').length > 0,
      'the results, by themselves',
    )
    expect(wrapper.find('[role="alert"]').exists()).toBe(false)
    expect(router.currentRoute.value.fullPath).toBe('/users?q=example.com')
  })

  it('gives up on a hung API after the timeout, with Try again', async () => {
    await web.setApi('hung')
    try {
      const wrapper = await mountAt('/users', { timeoutMs: 300 })
      expect(wrapper.find('[role="alert"]').text()).toContain('No answer')
      expect(wrapper.findAll('button').some((b) => b.text() === 'Try again')).toBe(true)
    } finally {
      await web.setApi('up')
    }
  })
})
