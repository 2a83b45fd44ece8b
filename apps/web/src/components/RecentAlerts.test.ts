// The Active now page's recent alerts, against the real API with ALERT_MANY_TARGETS=2: a staff
// member who starts impersonations of two distinct customers in an hour raises `many_targets`
// (after the second start's outcome is recorded), and the list shows it; after the first start,
// below the threshold, it shows none. With the API stopped the panel says so with a Try again,
// and comes back by itself when the API answers again (usePolledList, shared by the staff panels).
import { mount } from '@vue/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import RecentAlerts from './RecentAlerts.vue'

let web: WebStack

beforeAll(async () => {
  web = await webStack({ env: { ALERT_MANY_TARGETS: '2' } })
}, 60_000)

afterAll(async () => {
  await web?.close()
})

describe('RecentAlerts', () => {
  it('lists nothing below the threshold, then the alert a second distinct target raises', async () => {
    const admin = await web.stack.signIn('admin')
    const client = web.stack.client(() => admin.token())
    const [first, second] = web.stack.customers()
    await client.impersonation.start.mutate({
      userId: first!.id,
      reason: 'Customer cannot see the invoices',
    })
    const auth = await web.signedIn('admin')
    const wrapper = mount(RecentAlerts, {
      props: { refreshMs: 100 },
      global: { plugins: web.plugins(auth) },
      attachTo: document.body,
    })
    await until(() => wrapper.find('[data-testid="recent-alerts"]').exists(), 'the panel')
    expect(wrapper.text()).toContain('No alerts.')

    await client.impersonation.start.mutate({
      userId: second!.id,
      reason: 'Customer cannot see the invoices',
    })
    await until(() => wrapper.find('[data-testid="alert"]').exists(), 'the alert')
    const alert = wrapper.find('[data-testid="alert"]')
    expect(alert.text()).toContain('Many users in an hour')
    expect(alert.text()).toContain(admin.userId)
    expect(alert.text()).toContain('2 distinct users')
    expect(wrapper.findAll('[data-testid="alert"]')).toHaveLength(1)
    wrapper.unmount()
  })

  it('says the API did not answer, with Try again, and recovers by itself once it does', async () => {
    const auth = await web.signedIn('admin')
    const wrapper = mount(RecentAlerts, {
      props: { refreshMs: 100 },
      global: { plugins: web.plugins(auth) },
      attachTo: document.body,
    })
    const errorBox = () => wrapper.find('[data-testid="recent-alerts"] [role="alert"]')
    await until(() => wrapper.find('[data-testid="recent-alerts"]').exists(), 'the panel')
    try {
      await web.setApi('stopped')
      await until(() => errorBox().exists(), 'the error')
      expect(errorBox().text()).toMatch(/Try again/)
      expect(wrapper.find('[data-testid="alert"]').exists()).toBe(false)
    } finally {
      await web.setApi('up')
    }
    await until(() => !errorBox().exists(), 'the panel back without a click')
    expect(wrapper.find('[data-testid="alert"]').exists()).toBe(true)
    wrapper.unmount()
  })
})
