import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Router } from 'vue-router'
import { useSessionStore } from '../stores/session'
import { routerAt, settle, until, webStack } from '../../test/support/harness'
import type { LocalClerkAuth, WebStack } from '../../test/support/harness'
import NoAccessView from './NoAccessView.vue'

let web: WebStack
let router: Router

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())
afterEach(() => {
  document.body.innerHTML = ''
})

async function mountAt(url: string, auth: LocalClerkAuth) {
  router = await routerAt(url, { path: '/no-access', component: NoAccessView }, ['/', '/users'])
  const wrapper = mount(NoAccessView, {
    global: { plugins: [...web.plugins(auth), router] },
  })
  await useSessionStore(web.pinia).loadMe()
  await settle()
  return wrapper
}

describe('NoAccessView', () => {
  it('tells a member without the permission that they have no access', async () => {
    const wrapper = await mountAt('/no-access?from=/users', await web.signedIn('agent'))
    expect(wrapper.find('h1').text()).toBe("You don't have access")
    expect(wrapper.text()).toContain(web.account('agent').identifier)
    expect(wrapper.text()).toContain('org:admin:impersonate')
    expect(wrapper.text()).toContain('support')
  })

  it('does not claim "no access" when the API could not answer, and retries', async () => {
    const auth = await web.signedIn('admin')
    await web.setApi('stopped')
    const wrapper = await mountAt('/no-access?from=/users%3Fq%3Djane', auth).finally(() =>
      web.setApi('up'),
    )
    expect(wrapper.find('h1').text()).toBe("We couldn't check your access")
    expect(wrapper.text()).toContain('cannot be reached')
    await wrapper.find('button').trigger('click')
    await until(() => router.currentRoute.value.fullPath === '/users?q=jane', 'the retry')
  })

  it('after an outage it checks again by itself (no click) and goes where I was headed', async () => {
    const auth = await web.signedIn('admin')
    await web.setApi('stopped')
    let wrapper: Awaited<ReturnType<typeof mountAt>>
    try {
      wrapper = await mountAt('/no-access?from=/users%3Fq%3Dsmith', auth)
      expect(wrapper.find('h1').text()).toBe("We couldn't check your access")
      expect(wrapper.find('[data-testid="no-access-retrying"]').text()).toBe(
        'This page checks again by itself until the server answers.',
      )
    } finally {
      await web.setApi('up')
    }
    await until(
      () => router.currentRoute.value.fullPath === '/users?q=smith',
      'the check, by itself',
    )
  })

  it('tells an impersonated session to stop first, and Stop ends it', async () => {
    const customer = web.stack.customers()[0]!
    const { auth } = await web.impersonating(customer.id)
    const wrapper = await mountAt('/no-access?from=/users', auth)
    expect(wrapper.find('h1').text()).toBe(
      `You are acting as ${customer.firstName} ${customer.lastName}: stop first`,
    )
    expect(wrapper.text()).not.toContain('ask an administrator')
    await wrapper.find('button').trigger('click')
    await until(() => auth.session.value === null, 'the sign-out')
    expect(useSessionStore(web.pinia).prefillIdentifier).toBe(web.account('admin').identifier)
  })
})
