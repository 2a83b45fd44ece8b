import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Router } from 'vue-router'
import { routerAt, until, webStack } from '../../test/support/harness'
import type { ApiChoice, LocalClerkAuth, WebStack } from '../../test/support/harness'
import SignInView from './SignInView.vue'

let web: WebStack
let auth: LocalClerkAuth
let router: Router

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())
afterEach(() => {
  web.stack.clerk.faults.clear()
  document.body.innerHTML = ''
})

async function mountAt(url: string, api: ApiChoice = {}) {
  auth = web.signedOut()
  router = await routerAt(url, { path: '/sign-in', component: SignInView }, [
    '/',
    '/users',
    '/audit',
    '/no-access',
  ])
  return mount(SignInView, {
    global: { plugins: [...web.plugins(auth, api), router] },
    attachTo: document.body,
  })
}

async function signIn(
  wrapper: Awaited<ReturnType<typeof mountAt>>,
  identifier: string,
  password: string,
) {
  await wrapper.find('#identifier').setValue(identifier)
  await wrapper.find('#password').setValue(password)
  await wrapper.find('form').trigger('submit')
  await until(
    () => wrapper.find('button[type="submit"]').attributes('disabled') === undefined,
    'the sign-in',
  )
}

describe('SignInView', () => {
  it('signs staff in with identifier and password and opens the user list', async () => {
    const wrapper = await mountAt('/sign-in')
    const admin = web.account('admin')
    await signIn(wrapper, ` ${admin.identifier} `, admin.password)
    expect(auth.user.value?.id).toBe(admin.userId)
    expect(router.currentRoute.value.fullPath).toBe('/users')
  })

  it('sends a member without the permission to "no access"', async () => {
    const wrapper = await mountAt('/sign-in')
    const agent = web.account('agent')
    await signIn(wrapper, agent.identifier, agent.password)
    expect(router.currentRoute.value.fullPath).toBe('/no-access')
  })

  it('goes back to where the visitor was headed, same origin only', async () => {
    const wrapper = await mountAt('/sign-in?redirect=/audit')
    const admin = web.account('admin')
    await signIn(wrapper, admin.identifier, admin.password)
    expect(router.currentRoute.value.fullPath).toBe('/audit')
  })

  it('asks for missing fields without calling Clerk', async () => {
    const wrapper = await mountAt('/sign-in')
    await signIn(wrapper, '', '')
    expect(wrapper.find('[role="alert"]').text()).toBe('Enter your email or username.')
    expect(document.activeElement?.id).toBe('identifier')
    expect(auth.calls).toHaveLength(0)
  })

  it('shows Clerk errors in plain words next to the right field', async () => {
    const wrapper = await mountAt('/sign-in')
    await signIn(wrapper, web.account('admin').identifier, 'wrong password')
    expect(wrapper.find('[role="alert"]').text()).toBe('That password is not right. Try again.')
    expect(wrapper.find('#password').attributes('aria-invalid')).toBe('true')
    expect((wrapper.find('#password').element as HTMLInputElement).value).toBe('')
    expect(document.activeElement?.id).toBe('password')
    expect(router.currentRoute.value.fullPath).toBe('/sign-in')
  })

  it('says a banned account cannot sign in', async () => {
    const wrapper = await mountAt('/sign-in')
    const banned = web.account('banned')
    await signIn(wrapper, banned.identifier, banned.password)
    expect(wrapper.find('[role="alert"]').text()).toBe('This account is banned and cannot sign in.')
    expect(auth.session.value).toBeNull()
  })

  it('gives up when Clerk does not answer in time, says so, and carries on if it answers late', async () => {
    const wrapper = await mountAt('/sign-in?redirect=/audit', { timeoutMs: 300 })
    web.stack.clerk.faults.add({ route: 'POST /v1/client/sign_ins', latencyMs: 1500, times: 1 })
    const admin = web.account('admin')
    await signIn(wrapper, admin.identifier, admin.password)
    const alert = wrapper.find('[role="alert"]')
    expect(alert.text()).toContain('Clerk did not answer in time')
    expect(document.activeElement?.textContent?.trim()).toBe('Try again')
    // the password is kept for Try again
    expect((wrapper.find('#password').element as HTMLInputElement).value).toBe(admin.password)
    // Clerk answers after all: the sign-in happened, so the console goes on
    await until(() => router.currentRoute.value.fullPath === '/audit', 'the late sign-in')
  })

  it('Try again signs in once Clerk is back', async () => {
    const wrapper = await mountAt('/sign-in')
    web.stack.clerk.faults.add({ route: 'POST /v1/client/sign_ins', status: 503, times: 1 })
    const admin = web.account('admin')
    await signIn(wrapper, admin.identifier, admin.password)
    expect(wrapper.find('[role="alert"]').text()).toContain('Clerk is unavailable right now')
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Try again')!
      .trigger('click')
    await until(() => router.currentRoute.value.fullPath === '/users', 'the sign-in')
  })

  it('signed in while the API is stopped: explains on "no access" instead of guessing', async () => {
    const wrapper = await mountAt('/sign-in?redirect=/audit')
    await web.setApi('stopped')
    try {
      const admin = web.account('admin')
      await signIn(wrapper, admin.identifier, admin.password)
      await until(() => router.currentRoute.value.path === '/no-access', 'no access')
      expect(router.currentRoute.value.query).toEqual({ from: '/audit' })
    } finally {
      await web.setApi('up')
    }
  })
})
