import { beforeEach, describe, expect, it } from 'vitest'
import type { Router } from 'vue-router'
import { createAppRouter, installGuards } from './router'
import {
  fakeAuth,
  meStaff,
  storeApp,
  stubNetwork,
  type FakeAuth,
  type StubNetwork,
} from './testing/harness'

let auth: FakeAuth
let network: StubNetwork
let router: Router

function boot() {
  const { app, pinia } = storeApp(auth, network)
  router = createAppRouter('/')
  installGuards(router, auth, pinia)
  app.use(router)
}

beforeEach(() => {
  auth = fakeAuth()
  network = stubNetwork({ me: () => ({ data: meStaff }) })
})

describe('route guards', () => {
  it('sends a signed-out visitor to sign-in, remembering where they were going', async () => {
    auth.setUser(null)
    boot()
    await router.push('/users?q=jane')
    expect(router.currentRoute.value.name).toBe('sign-in')
    expect(router.currentRoute.value.query).toEqual({ redirect: '/users?q=jane' })
  })

  it('lets staff with the permission into the user list', async () => {
    boot()
    await router.push('/users')
    expect(router.currentRoute.value.name).toBe('users')
  })

  it('shows "no access" instead of the user list to a member without the permission', async () => {
    network.handle('me', () => ({
      data: { ...meStaff, userId: 'user_sam', permissions: [], canImpersonate: false },
    }))
    boot()
    await router.push('/users')
    expect(router.currentRoute.value.name).toBe('no-access')
    await router.push('/audit')
    expect(router.currentRoute.value.name).toBe('no-access')
  })

  it('keeps an impersonated session out of the console', async () => {
    auth.setUser(
      { ...auth.user.value!, id: 'user_jane' },
      {
        id: 'sess_2',
        expireAt: null,
        actor: { sub: 'user_ada', reason: 'x', impersonationId: null },
      },
    )
    network.handle('me', () => ({
      data: {
        ...meStaff,
        sessionId: 'sess_2',
        canImpersonate: false,
        actor: { userId: 'user_ada', impersonationId: null, reason: 'x' },
      },
    }))
    boot()
    await router.push('/users')
    expect(router.currentRoute.value.name).toBe('no-access')
  })

  it('sends a signed-in visitor of the sign-in page on, but only to same-origin paths', async () => {
    boot()
    await router.push('/sign-in?redirect=//evil.example/')
    expect(router.currentRoute.value.fullPath).toBe('/users')
  })
})
