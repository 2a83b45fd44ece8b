import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webStack } from '../../test/support/harness'
import type { LocalClerkAuth, WebStack } from '../../test/support/harness'
import { useSessionStore } from './session'

let web: WebStack

beforeAll(async () => {
  web = await webStack()
})
afterAll(() => web?.close())

function store(auth: LocalClerkAuth) {
  web.storeApp(auth)
  return useSessionStore(web.pinia)
}

describe('session store', () => {
  it('knows the permission from the API', async () => {
    const session = store(await web.signedIn('admin'))
    expect(session.canImpersonate).toBe(false)
    await Promise.all([session.loadMe(), session.loadMe()])
    expect(session.canImpersonate).toBe(true)
    expect(session.organizationSlug).toBe('support')
  })

  it('does not grant the permission to a member without it', async () => {
    const session = store(await web.signedIn('agent'))
    await session.loadMe()
    expect(session.me?.userId).toBe(web.account('agent').userId)
    expect(session.canImpersonate).toBe(false)
    expect(session.meError).toBeNull()
  })

  it('reports an API failure instead of granting access', async () => {
    const auth = await web.signedIn('admin')
    web.storeApp(auth)
    const session = useSessionStore(web.pinia)
    await web.setApi('stopped')
    try {
      await session.loadMe()
    } finally {
      await web.setApi('up')
    }
    expect(session.canImpersonate).toBe(false)
    expect(session.meError?.title).toBe('ActAs unreachable')
  })

  it("knows who started the impersonation and until when from the API's me, not from storage", async () => {
    const customer = web.stack.customers()[0]!
    const { auth, adminUserId } = await web.impersonating(customer.id, 'Invoices missing')
    const session = store(auth)
    // before me() answers: the actor is known from the token, but not by name yet
    expect(session.actor?.sub).toBe(adminUserId)
    expect(session.startedBy).toBeNull()
    const clerkEnd = auth.session.value!.expireAt!
    expect(session.sessionExpiresAt).toEqual(clerkEnd)
    await session.loadMe()
    expect(session.startedBy).toBe(web.account('admin').identifier)
    expect(session.canImpersonate).toBe(false)
    // the earlier of Clerk's expiry and the audit row's latest end
    const audited = Date.parse(session.me!.actor!.sessionExpiresAt!)
    expect(session.sessionExpiresAt!.getTime()).toBe(Math.min(clerkEnd.getTime(), audited))
    expect(sessionStorage.length + localStorage.length).toBe(0)
  })

  it('Stop ends the impersonated session and pre-fills the staff email from me()', async () => {
    const customer = web.stack.customers()[1]!
    const { auth } = await web.impersonating(customer.id)
    const session = store(auth)
    await session.loadMe()
    await session.stopImpersonating()
    expect(auth.calls).toContainEqual({ method: 'signOut', args: ['/sign-in'] })
    expect(session.signedIn).toBe(false)
    expect(session.prefillIdentifier).toBe(web.account('admin').identifier)
    expect(await auth.getToken()).toBeNull()
  })
})
