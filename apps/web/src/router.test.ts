import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import type { Router } from 'vue-router'
import type { Auth } from './auth/types'
import { createAppRouter, installGuards } from './router'
import { webStack } from '../test/support/harness'
import type { WebStack } from '../test/support/harness'

let web: WebStack
let router: Router

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())

function boot(auth: Auth) {
  const { app, pinia } = web.storeApp(auth)
  router = createAppRouter('/')
  installGuards(router, auth, pinia)
  app.use(router)
}

describe('route guards', () => {
  it('sends a signed-out visitor to sign-in, remembering where they were going', async () => {
    boot(web.signedOut())
    await router.push('/users?q=jane')
    expect(router.currentRoute.value.name).toBe('sign-in')
    expect(router.currentRoute.value.query).toEqual({ redirect: '/users?q=jane' })
  })

  it('lets staff with the permission into the user list', async () => {
    boot(await web.signedIn('admin'))
    await router.push('/users')
    expect(router.currentRoute.value.name).toBe('users')
  })

  it('shows "no access" instead of the user list to a member without the permission', async () => {
    boot(await web.signedIn('agent'))
    await router.push('/users')
    expect(router.currentRoute.value.name).toBe('no-access')
    await router.push('/audit')
    expect(router.currentRoute.value.name).toBe('no-access')
    await router.push('/active')
    expect(router.currentRoute.value.name).toBe('no-access')
  })

  it('keeps an impersonated session out of the console', async () => {
    const { auth } = await web.impersonating(web.stack.customers()[0]!.id)
    boot(auth)
    await router.push('/users')
    expect(router.currentRoute.value.name).toBe('no-access')
  })

  it('titles each page, and says whom you are acting as while impersonating', async () => {
    boot(await web.signedIn('admin'))
    await router.push('/users')
    await nextTick()
    expect(document.title).toBe('Users · ActAs')
    await router.push('/audit')
    await nextTick()
    expect(document.title).toBe('Audit log · ActAs')
    await router.push('/active')
    await nextTick()
    expect(document.title).toBe('Active now · ActAs')

    const customer = web.stack.customers()[1]!
    const { auth } = await web.impersonating(customer.id)
    boot(auth)
    await router.push('/')
    await nextTick()
    expect(document.title).toBe(
      `Acting as ${customer.firstName} ${customer.lastName} · Home · ActAs`,
    )
  })

  it('sends a signed-in visitor of the sign-in page on, but only to same-origin paths', async () => {
    boot(await web.signedIn('admin'))
    await router.push('/sign-in?redirect=//evil.example/')
    expect(router.currentRoute.value.fullPath).toBe('/users')
  })
})
