import { mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Router } from 'vue-router'
import { AuthError } from '../auth/types'
import { fakeAuth, harness, meStaff, routerAt, settle, stubNetwork } from '../testing/harness'
import type { FakeAuth, StubNetwork } from '../testing/harness'
import SignInView from './SignInView.vue'

let auth: FakeAuth
let network: StubNetwork
let router: Router

async function mountAt(url: string) {
  router = await routerAt(url, { path: '/sign-in', component: SignInView }, [
    '/',
    '/users',
    '/audit',
    '/no-access',
  ])
  const wrapper = mount(SignInView, {
    global: { plugins: [...harness(auth, network), router] },
    attachTo: document.body,
  })
  await settle()
  return wrapper
}

async function signIn(
  wrapper: Awaited<ReturnType<typeof mountAt>>,
  identifier: string,
  password: string,
) {
  await wrapper.find('#identifier').setValue(identifier)
  await wrapper.find('#password').setValue(password)
  await wrapper.find('form').trigger('submit')
  await settle()
}

beforeEach(() => {
  auth = fakeAuth({ user: null })
  network = stubNetwork({ me: () => ({ data: meStaff }) })
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('SignInView', () => {
  it('signs staff in with identifier and password and opens the user list', async () => {
    const wrapper = await mountAt('/sign-in')
    auth.signInWithPassword = async (identifier, password) => {
      auth.calls.push({ method: 'signInWithPassword', args: [identifier, password] })
      auth.setUser({
        id: 'user_ada',
        fullName: 'Ada',
        primaryEmail: identifier,
        username: null,
        imageUrl: null,
        createdAt: null,
        lastSignInAt: null,
        organizations: [],
      })
    }
    await signIn(wrapper, ' ada@support.actas.test ', 'pw')
    expect(auth.calls).toContainEqual({
      method: 'signInWithPassword',
      args: ['ada@support.actas.test', 'pw'],
    })
    expect(router.currentRoute.value.fullPath).toBe('/users')
  })

  it('goes back to where the visitor was headed, same origin only', async () => {
    const wrapper = await mountAt('/sign-in?redirect=/audit')
    auth.signInWithPassword = async () =>
      auth.setUser({
        id: 'user_ada',
        fullName: 'Ada',
        primaryEmail: 'a@b',
        username: null,
        imageUrl: null,
        createdAt: null,
        lastSignInAt: null,
        organizations: [],
      })
    await signIn(wrapper, 'ada', 'pw')
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
    auth.failNext(
      new AuthError('password_incorrect', 'That password is not right. Try again.', 'password'),
    )
    await signIn(wrapper, 'ada@support.actas.test', 'wrong')
    expect(wrapper.find('[role="alert"]').text()).toBe('That password is not right. Try again.')
    expect(wrapper.find('#password').attributes('aria-invalid')).toBe('true')
    expect((wrapper.find('#password').element as HTMLInputElement).value).toBe('')
    expect(document.activeElement?.id).toBe('password')
    expect(router.currentRoute.value.fullPath).toBe('/sign-in')
  })
})
