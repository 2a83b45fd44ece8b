// The banner names the impersonated session's act.mode: read-only, and full access too.
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { localClerkAuth, until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
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

async function impersonate(mode: 'read_only' | 'full') {
  const customer = web.stack.customers()[next++]!
  const admin = await web.stack.signIn('admin')
  const started = await web.stack
    .client(() => admin.token())
    .impersonation.start.mutate({
      userId: customer.id,
      reason: 'Invoices missing',
      mode,
    })
  const auth = localClerkAuth(web.stack)
  await auth.signInWithTicket(started.ticket)
  return { auth, name: `${customer.firstName} ${customer.lastName}` }
}

describe('ImpersonationBanner mode', () => {
  it('says read-only for a read-only impersonation', async () => {
    const { auth, name } = await impersonate('read_only')
    const wrapper = mount(ImpersonationBanner, { global: { plugins: web.plugins(auth) } })
    await until(() => wrapper.text().includes('started by'), 'me()')
    expect(wrapper.text()).toMatch(
      new RegExp(`^You are acting as ${name} · read-only · started by `),
    )
  })

  it('says full access for a full impersonation', async () => {
    const { auth, name } = await impersonate('full')
    const wrapper = mount(ImpersonationBanner, { global: { plugins: web.plugins(auth) } })
    await until(() => wrapper.text().includes('started by'), 'me()')
    expect(wrapper.text()).toMatch(
      new RegExp(`^You are acting as ${name} · full access · started by `),
    )
    expect(wrapper.find('[data-testid="acting-mode"]').text()).toBe('· full access')
  })
})
