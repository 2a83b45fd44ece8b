import { mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Router } from 'vue-router'
import { useSessionStore } from '../stores/session'
import { fakeAuth, harness, meStaff, routerAt, settle, stubNetwork } from '../testing/harness'
import type { StubNetwork } from '../testing/harness'
import NoAccessView from './NoAccessView.vue'

let network: StubNetwork
let router: Router

async function mountAt(url: string) {
  router = await routerAt(url, { path: '/no-access', component: NoAccessView }, ['/', '/users'])
  const wrapper = mount(NoAccessView, {
    global: { plugins: [...harness(fakeAuth(), network), router] },
  })
  await useSessionStore().loadMe()
  await settle()
  return wrapper
}

beforeEach(() => {
  network = stubNetwork()
})

describe('NoAccessView', () => {
  it('tells a member without the permission that they have no access', async () => {
    network.handle('me', () => ({
      data: { ...meStaff, permissions: [], canImpersonate: false },
    }))
    const wrapper = await mountAt('/no-access?from=/users')
    expect(wrapper.find('h1').text()).toBe("You don't have access")
    expect(wrapper.text()).toContain('org:admin:impersonate')
    expect(wrapper.text()).toContain('support')
  })

  it('does not claim "no access" when the API could not answer, and retries', async () => {
    let down = true
    network.handle('me', () =>
      down
        ? { error: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, message: 'down' } }
        : { data: meStaff },
    )
    const wrapper = await mountAt('/no-access?from=/users%3Fq%3Djane')
    expect(wrapper.find('h1').text()).toBe("We couldn't check your access")
    down = false
    await wrapper.find('button').trigger('click')
    await settle()
    expect(router.currentRoute.value.fullPath).toBe('/users?q=jane')
  })
})
