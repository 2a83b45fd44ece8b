import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { UserSummary } from '@actas/contracts/client'
import { h } from 'vue'
import { readReturn } from '../lib/return-to-console'
import { useImpersonationStore } from '../stores/impersonation'
import { useSessionStore } from '../stores/session'
import { routerAt, until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import ImpersonationBanner from './ImpersonationBanner.vue'

let web: WebStack
let next = 0

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())
afterEach(() => {
  sessionStorage.clear()
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
        `You are acting as ${name} · full access · started by ${web.account('admin').identifier.replace('.', '\\.')} · Invoices missing · ends in (5:00|4:[0-5]\\d)`,
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
      await until(() => useSessionStore(web.pinia).meError !== null, 'me() to fail')
      expect(wrapper.text()).toContain('started by a staff member')
      expect(wrapper.text()).not.toContain(adminUserId)
    } finally {
      await web.setApi('up')
    }
  })

  it('Stop in a tab without the return secret ends the impersonation and leads to sign-in, saying why', async () => {
    const { auth, impersonationId } = await impersonate()
    const router = await routerAt('/', { path: '/', component: { render: () => h('p') } }, [
      '/sign-in',
      '/users',
    ])
    const wrapper = mount(ImpersonationBanner, {
      global: { plugins: [...web.plugins(auth), router] },
    })
    await until(() => wrapper.text().includes('started by'), 'me()')
    await wrapper.find('button').trigger('click')
    await until(() => auth.session.value === null, 'the sign-out')
    await until(() => router.currentRoute.value.path === '/sign-in', 'the sign-in page')
    expect(auth.calls).toContainEqual({ method: 'signOut', args: ['/sign-in'] })
    expect(useSessionStore(web.pinia).prefillIdentifier).toBe(web.account('admin').identifier)
    expect(useSessionStore(web.pinia).notice?.text).toMatch(
      /^Stopped acting as .+ after \d+ s\. Only the tab that started the impersonation can take you back without a password\./,
    )
    expect(await web.stack.deps.audit.get(impersonationId)).toMatchObject({
      status: 'ended',
      endCause: 'stopped_by_actor',
    })
  })

  it('Stop in the tab that started it: back on the users page as the staff member, search kept, no password', async () => {
    const customer = web.stack.customers()[next++]!
    const auth = await web.signedIn('admin')
    const router = await routerAt(
      '/users?q=smith&page=2',
      { path: '/users', component: { render: () => h('p') } },
      ['/', '/sign-in'],
    )
    const wrapper = mount(ImpersonationBanner, {
      global: { plugins: [...web.plugins(auth), router] },
    })
    const path = await useImpersonationStore(web.pinia).start({
      user: {
        id: customer.id,
        fullName: `${customer.firstName} ${customer.lastName}`,
        primaryEmail: null,
      } as UserSummary,
      reason: 'Customer cannot see invoices',
      sessionMinutes: 30,
      returnTo: router.currentRoute.value.fullPath,
    })
    expect(path).toBe('/')
    await router.replace('/')
    const id = useImpersonationStore(web.pinia).lastImpersonationId!
    expect(readReturn(id)).not.toBeNull()
    await until(() => wrapper.text().includes('started by'), 'me()')
    await wrapper.find('button').trigger('click')
    await until(
      () => router.currentRoute.value.fullPath === '/users?q=smith&page=2',
      'the way back',
    )
    expect(auth.user.value?.id).toBe(web.account('admin').userId)
    expect(auth.session.value?.actor).toBeNull()
    expect(auth.calls.filter((c) => c.method === 'signInWithPassword')).toEqual([])
    expect(useSessionStore(web.pinia).notice).toEqual({
      tone: 'success',
      page: 'users',
      text: expect.stringMatching(
        new RegExp(`^Stopped acting as ${customer.firstName} ${customer.lastName} after \\d+ s$`),
      ) as unknown,
    })
    // Single use: the secret is gone from the tab.
    expect(readReturn(id)).toBeNull()
    expect(Object.keys(sessionStorage).filter((k) => k !== 'vue-router:scroll')).toEqual([])
  })

  it('ended elsewhere: says who ended it and why, forgets the way back, and offers the sign-in', async () => {
    const customer = web.stack.customers()[next++]!
    const auth = await web.signedIn('admin')
    const router = await routerAt(
      '/users',
      { path: '/users', component: { render: () => h('p') } },
      ['/', '/sign-in'],
    )
    const wrapper = mount(ImpersonationBanner, {
      global: { plugins: [...web.plugins(auth), router] },
    })
    await useImpersonationStore(web.pinia).start({
      user: { id: customer.id, fullName: 'Bella Schneider', primaryEmail: null } as UserSummary,
      reason: 'Customer cannot see invoices',
      sessionMinutes: 30,
      returnTo: '/users',
    })
    const id = useImpersonationStore(web.pinia).lastImpersonationId!
    await until(() => wrapper.text().includes('started by'), 'me()')
    const admin = await web.stack.signIn('admin')
    await web.stack
      .client(() => admin.token())
      .impersonation.end.mutate({ impersonationId: id, reason: 'Wrong customer' })
    // Learnt by the banner's own polling (every 2 s while the tab is visible).
    await until(() => wrapper.text().includes('Ended by'), 'the banner to learn of the end')
    expect(wrapper.find('[data-testid="impersonation-ended"]').text()).toBe(
      `Ended by ${web.account('admin').identifier}: Wrong customer`,
    )
    expect(wrapper.find('[role="alert"]').exists()).toBe(true)
    expect(readReturn(id)).toBeNull()
    const back = wrapper.find('button')
    expect(back.text()).toBe('Back to the console')
    await back.trigger('click')
    await until(() => router.currentRoute.value.path === '/sign-in', 'the sign-in page')
    expect(useSessionStore(web.pinia).notice?.text).toBe(
      `Ended by ${web.account('admin').identifier}: Wrong customer. Sign in to return to the console.`,
    )
  })
})
