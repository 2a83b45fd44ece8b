// The console's /return page when the impersonation ended while the tab was in the host
// application (a colleague's end): the tab arrives signed out, the sign-in page says the
// impersonation ended; signed in again, the users page says how, from the staff member's own
// `impersonation.get`. Against the real back end (a real kill switch, real sessions).
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { readReturn, saveReturn } from '../lib/return-to-console'
import { routerAt, until, webStack } from '../../test/support/harness'
import type { LocalClerkAuth, WebStack } from '../../test/support/harness'
import { useSessionStore } from '../stores/session'
import ReturnView from './ReturnView.vue'

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

/** An impersonation started by the admin (this tab kept its way back), then ended by a colleague. */
async function endedByColleague(): Promise<string> {
  const customer = web.stack.customers()[next++]!
  const { impersonationId } = await web.impersonating(customer.id, 'Customer cannot see invoices')
  saveReturn({
    impersonationId,
    secret: 'kept-by-this-tab',
    returnTo: '/users?q=bella',
    userName: 'Bella Schneider',
  })
  const colleague = await web.stack.signIn('colleague')
  await web.stack
    .client(() => colleague.token())
    .impersonation.end.mutate({ impersonationId, reason: 'Wrong customer' })
  return impersonationId
}

async function mountAt(url: string, auth: LocalClerkAuth) {
  const router = await routerAt(url, { path: '/return', component: ReturnView }, [
    '/sign-in',
    '/users',
  ])
  const wrapper = mount(ReturnView, {
    global: { plugins: [...web.plugins(auth), router] },
    attachTo: document.body,
  })
  return { wrapper, router, session: useSessionStore(web.pinia) }
}

describe('ReturnView after an end elsewhere', () => {
  it('signed out: the sign-in page says the impersonation ended, and nothing more', async () => {
    const id = await endedByColleague()
    const { router, session } = await mountAt(`/return?impersonation=${id}`, web.signedOut())
    await until(() => router.currentRoute.value.path === '/sign-in', 'the sign-in page')
    expect(router.currentRoute.value.query['redirect']).toBe(`/return?impersonation=${id}`)
    expect(session.notice).toEqual({
      tone: 'warning',
      text: 'Your impersonation has ended. Sign in again to continue.',
      page: 'sign-in',
    })
    // Kept for after the sign-in (useless to `impersonation.stop` now: the impersonation ended).
    expect(readReturn(id)?.userName).toBe('Bella Schneider')
  })

  it('signed in again: back on the search, told who ended it and why', async () => {
    const id = await endedByColleague()
    const auth = await web.signedIn('admin')
    const { router, session } = await mountAt(`/return?impersonation=${id}`, auth)
    await until(() => router.currentRoute.value.path === '/users', 'the users page')
    expect(router.currentRoute.value.fullPath).toBe('/users?q=bella')
    expect(session.notice).toEqual({
      tone: 'info',
      text: `Ended by ${web.account('colleague').identifier}: Wrong customer. You are no longer acting as Bella Schneider.`,
      page: 'users',
    })
    expect(readReturn(id)).toBeNull()
  })

  it("another staff member signing in on this tab is not told about the first one's", async () => {
    const id = await endedByColleague()
    const auth = await web.signedIn('colleague')
    const { router, session } = await mountAt(`/return?impersonation=${id}`, auth)
    await until(() => router.currentRoute.value.path === '/users', 'the users page')
    expect(router.currentRoute.value.fullPath).toBe('/users')
    expect(session.notice).toBeNull()
    expect(readReturn(id)).toBeNull()
  })

  it('signed out with no impersonation named: the sign-in page, with no claim', async () => {
    const { router, session } = await mountAt('/return', web.signedOut())
    await until(() => router.currentRoute.value.path === '/sign-in', 'the sign-in page')
    expect(session.notice).toBeNull()
  })
})
