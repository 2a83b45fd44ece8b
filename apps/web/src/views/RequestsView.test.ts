// The Requests page against the real API (a second staff member's approval required for full
// access): an approver sees a colleague's request, and denying needs a reason
// given in the one reason field (its error on the field, announced through aria-describedby);
// staff without the approval permission are told what it takes.
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import RequestsView from './RequestsView.vue'

let web: WebStack

beforeAll(async () => {
  web = await webStack({ env: { ACCESS_APPROVAL_REQUIRED: 'full' } })
})
afterAll(() => web?.close())
afterEach(() => {
  document.body.innerHTML = ''
})

describe('Requests', () => {
  it('an approver denies a colleague’s request with a reason, given in the reason field', async () => {
    const customer = web.stack.customers()[0]!
    const asked = await web.api(await web.signedIn('admin')).access.request.mutate({
      userId: customer.id,
      reason: 'Customer needs a setting changed',
      mode: 'full',
    })
    const katherine = await web.signedIn('approver')
    const plugins = web.plugins(katherine)
    const page = mount(RequestsView, { attachTo: document.body, global: { plugins } })
    await until(() => page.find(`[data-access-id="${asked.id}"]`).exists(), 'the request')
    const card = page.get(`[data-access-id="${asked.id}"]`)
    expect(card.text()).toContain('Customer needs a setting changed')

    await card.get('button:not(.button--primary)').trigger('click') // Deny…
    const field = page.get(`#deny-${asked.id}`)
    expect(page.get(`label[for="deny-${asked.id}"]`).text()).toMatch(/^Why deny it\?/)
    expect(field.attributes('aria-describedby')).toBe(`deny-${asked.id}-help`)
    const deny = () => page.findAll('button').find((b) => b.text() === 'Deny')!
    expect(deny().attributes('disabled')).toBeDefined()
    await field.setValue('too short')
    expect(field.attributes('aria-invalid')).toBe('true')
    expect(page.get(`#deny-${asked.id}-help`).text()).toBe('Give at least 10 characters.')
    expect(deny().attributes('disabled')).toBeDefined()
    await field.setValue('Not needed: the customer can change it themselves')
    expect(field.attributes('aria-invalid')).toBeUndefined()
    await deny().trigger('click')
    await until(() => page.find('[role="status"]').exists(), 'the decision')
    expect(page.get('[role="status"]').text()).toMatch(/^Denied: the request for .* is denied\.$/)
    const mine = await web.api(await web.signedIn('admin')).access.list.query({
      view: 'mine',
      userId: customer.id,
    })
    expect(mine.items[0]).toMatchObject({
      id: asked.id,
      status: 'denied',
      settled: { reason: 'Not needed: the customer can change it themselves' },
    })
  })

  it('staff without the approval permission are told what it takes', async () => {
    const page = mount(RequestsView, {
      attachTo: document.body,
      global: { plugins: web.plugins(await web.signedIn('colleague')) },
    })
    await until(() => page.find('[data-testid="requests-not-approver"]').exists(), 'the notice')
    expect(page.text()).toContain('org:admin:approve_access')
  })
})
