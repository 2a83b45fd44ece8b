import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { useSessionStore } from '../stores/session'
import { until, webStack } from '../testing/harness'
import type { WebStack } from '../testing/harness'
import ImpersonationBanner from './ImpersonationBanner.vue'

let web: WebStack
let next = 0

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())
afterEach(() => {
  document.body.innerHTML = ''
})

/** A tab impersonating a customer no other test used, for `sessionMinutes`. */
async function impersonate(sessionMinutes = 30) {
  const customer = web.stack.customers()[next++]!
  const started = await web.impersonating(customer.id, 'Invoices missing', sessionMinutes)
  return { ...started, customer }
}

describe('ImpersonationBanner', () => {
  it("says who I act as, who started it (the audited email), why, and when it ends, from the API's me", async () => {
    const { auth, customer } = await impersonate(5)
    const wrapper = mount(ImpersonationBanner, { global: { plugins: web.plugins(auth) } })
    await until(() => wrapper.text().includes('started by'), 'me()')
    const name = `${customer.firstName} ${customer.lastName}`
    // the session lasts 5 minutes: that end comes first
    expect(wrapper.text()).toMatch(
      new RegExp(
        `You are acting as ${name} · started by ${web.account('admin').identifier.replace('.', '\\.')} · Invoices missing · ends in (5:00|4:[0-5]\\d)`,
      ),
    )
    expect(Object.keys(sessionStorage).filter((k) => k !== 'vue-router:scroll')).toEqual([])
    expect(wrapper.find('button').text()).toBe('Stop')
    expect(wrapper.text()).not.toMatch(/dismiss|close/i)
  })

  it('never shows the raw user id of the staff member, even when the API cannot be reached', async () => {
    const { auth, adminUserId } = await impersonate()
    await web.setApi('stopped')
    try {
      const wrapper = mount(ImpersonationBanner, { global: { plugins: web.plugins(auth) } })
      expect(wrapper.text()).toContain('You are acting as')
      expect(wrapper.text()).not.toContain(adminUserId)
      await until(() => useSessionStore().meError !== null, 'me() to fail')
      expect(wrapper.text()).toContain('started by a staff member')
      expect(wrapper.text()).not.toContain(adminUserId)
    } finally {
      await web.setApi('up')
    }
  })

  it('Stop signs the impersonated session out to the sign-in page', async () => {
    const { auth } = await impersonate()
    const wrapper = mount(ImpersonationBanner, { global: { plugins: web.plugins(auth) } })
    await until(() => wrapper.text().includes('started by'), 'me()')
    await wrapper.find('button').trigger('click')
    await until(() => auth.session.value === null, 'the sign-out')
    expect(auth.calls).toContainEqual({ method: 'signOut', args: ['/sign-in'] })
    expect(useSessionStore().prefillIdentifier).toBe(web.account('admin').identifier)
  })
})
