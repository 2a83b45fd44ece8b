import { mount } from '@vue/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import HomeView from './HomeView.vue'

let web: WebStack

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())

describe('HomeView', () => {
  it('as an impersonated customer: names the staff member by email, and does not present the impersonation’s sign-in as the customer’s', async () => {
    const customer = web.stack.customers()[0]!
    const { auth, adminUserId } = await web.impersonating(customer.id)
    // Clerk records the ticket sign-in as the user's last sign-in
    expect(auth.user.value!.lastSignInAt!.getTime()).toBeGreaterThanOrEqual(
      auth.session.value!.createdAt!.getTime() - 5_000,
    )
    const wrapper = mount(HomeView, { global: { plugins: web.plugins(auth) } })
    await until(() => !wrapper.text().includes('Checking…'), 'me()')
    expect(wrapper.find('[data-testid="home-name"]').text()).toBe(
      `${customer.firstName} ${customer.lastName}`,
    )
    expect(wrapper.find('[data-testid="home-api-actor"]').text()).toBe(
      `impersonated by ${web.account('admin').identifier}`,
    )
    expect(wrapper.text()).not.toContain(adminUserId)
    expect(wrapper.find('[data-testid="home-last-sign-in"]').text()).toMatch(
      /^This impersonation \(.+\), not the customer's own$/,
    )
  })

  it('as an impersonated customer whose last sign-in Clerk kept as their own: shows it plainly', async () => {
    const customer = web.stack.customers()[1]!
    const { auth } = await web.impersonating(customer.id)
    // (a Clerk that leaves actor sign-ins out of last_sign_in_at)
    customer.lastSignInAt = Date.now() - 3 * 3_600_000
    await auth.refresh()
    const wrapper = mount(HomeView, { global: { plugins: web.plugins(auth) } })
    await until(() => !wrapper.text().includes('Checking…'), 'me()')
    const shown = wrapper.find('[data-testid="home-last-sign-in"]').text()
    expect(shown).not.toContain('impersonation')
    expect(shown).not.toBe('—')
  })

  it('as staff: the own session and last sign-in, plainly', async () => {
    const auth = await web.signedIn('admin')
    const wrapper = mount(HomeView, { global: { plugins: web.plugins(auth) } })
    await until(() => wrapper.text().includes('own session'), 'me()')
    expect(wrapper.find('[data-testid="home-last-sign-in"]').text()).not.toContain('impersonation')
  })
})
