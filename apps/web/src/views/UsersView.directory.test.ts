// The users page against the real API and local Clerk server: a phone number typed as people do
// finds the user and the row shows the phone that matched; when Clerk rate-limits the API's
// reads, the page says "Clerk is rate-limiting searches; retry in N s", counts down and searches
// again.
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { RouterView } from 'vue-router'
import { routerAt, settle, until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import UsersView from './UsersView.vue'

const Root = defineComponent({ render: () => h(RouterView) })
let web: WebStack
let phoneUserId: string

beforeAll(async () => {
  web = await webStack({ env: { DEFAULT_PHONE_COUNTRY: 'FR' } })
  const user = web.stack.customers()[0]!
  user.phoneNumbers = [{ id: 'idn_console_phone', phoneNumber: '+33654616717' }]
  user.primaryPhoneNumberId = 'idn_console_phone'
  web.stack.clerk.state.userChanged(user)
  phoneUserId = user.id
})
afterAll(() => web?.close())
afterEach(() => {
  vi.useRealTimers()
  web.stack.clerk.faults.clear()
  document.body.innerHTML = ''
})

async function mountAt(url: string) {
  const auth = await web.signedIn('admin')
  const router = await routerAt(url, { path: '/users', name: 'users', component: UsersView }, ['/'])
  return mount(Root, {
    global: { plugins: [...web.plugins(auth), router] },
    attachTo: document.body,
  })
}

describe('UsersView, phone search', () => {
  it('says the box takes a phone, finds a nationally typed number and shows the phone', async () => {
    const wrapper = await mountAt(`/users?q=${encodeURIComponent('06 54 61 67 17')}`)
    await until(() => wrapper.findAll('tbody tr').length === 1, 'the one match')
    expect(wrapper.find('#user-search').attributes('placeholder')).toBe(
      'Search by email, name, phone or id',
    )
    const row = wrapper.find('tbody tr')
    expect(row.attributes('data-user-id')).toBe(phoneUserId)
    expect(row.find('[data-testid="matched-phone"]').text()).toContain('+33 6 54 61 67 17')
  })

  it('shows no phone on a row found by its email', async () => {
    const email = web.stack.clerk.state.users.get(phoneUserId)!.emailAddresses[0]!.emailAddress
    const wrapper = await mountAt(`/users?q=${encodeURIComponent(email)}`)
    await until(() => wrapper.findAll('tbody tr').length === 1, 'the one match')
    expect(wrapper.find('[data-testid="matched-phone"]').exists()).toBe(false)
  })
})

describe('UsersView under Clerk rate limiting', () => {
  it('shows "Clerk is rate-limiting searches; retry in N s", counts down, then searches again', async () => {
    web.stack.clerk.faults.add({
      route: 'GET /v1/users',
      status: 429,
      retryAfterSeconds: 3,
      times: 1,
    })
    const listCalls = () => web.stack.clerk.requests.snapshot().routes['GET /v1/users'] ?? 0
    const before = listCalls()
    // Only the countdown's clock is faked; requests and the API run on real time.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const wrapper = await mountAt('/users?q=gmail.com')
    const notice = () => wrapper.find('[data-testid="clerk-rate-limit"]')
    await until(() => notice().exists(), 'the rate-limit notice')
    expect(notice().text()).toContain('Clerk is rate-limiting searches; retry in 3 s.')
    const button = () =>
      notice()
        .findAll('button')
        .find((b) => b.text() === 'Try again')!
    expect(button().attributes('disabled')).toBeDefined()
    // Clerk's wait is over 2 s: the API did not retry.
    expect(listCalls() - before).toBe(1)

    vi.advanceTimersByTime(1000)
    await settle()
    expect(notice().text()).toContain('retry in 2 s.')
    vi.advanceTimersByTime(1000)
    await settle()
    expect(notice().text()).toContain('retry in 1 s.')
    expect(listCalls() - before).toBe(1)

    vi.advanceTimersByTime(1000)
    // Users' rows, not the skeleton rows shown while the search runs again.
    await until(() => wrapper.findAll('tbody tr[data-user-id]').length > 0, 'the search again')
    expect(notice().exists()).toBe(false)
    // The list was asked again (the page's staff read may follow it: also GET /v1/users).
    expect(listCalls() - before).toBeGreaterThanOrEqual(2)
  })

  it("keeps ActAs's own errors as before: no Clerk countdown for a Clerk outage", async () => {
    // An outage that lasts, whatever the number of retries, until the test ends.
    web.stack.clerk.faults.add({ route: 'GET /v1/users', status: 503, times: 1000 })
    try {
      const wrapper = await mountAt('/users?q=gmail.com')
      await until(() => wrapper.find('[role="alert"]').exists(), 'the error')
      expect(wrapper.find('[data-testid="clerk-rate-limit"]').exists()).toBe(false)
      expect(wrapper.find('[role="alert"]').text()).toContain('Clerk unavailable')
    } finally {
      web.stack.clerk.faults.clear()
    }
  })
})
