// The impersonated tab's store against the real back end with RETURN_TO_CONSOLE=off, and its
// watch for an end elsewhere: it asks the API only while the tab is visible.
import type { UserSummary } from '@actas/contracts/client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ApiKey, createApi } from '../lib/api'
import { readReturn } from '../lib/return-to-console'
import { settle, until, webStack } from '../../test/support/harness'
import type { LocalClerkAuth, WebStack } from '../../test/support/harness'
import { useActingStore, WATCH_INTERVAL_MS } from './acting'
import { useImpersonationStore } from './impersonation'
import { useSessionStore } from './session'

let web: WebStack
let next = 0

beforeAll(async () => {
  web = await webStack({ env: { RETURN_TO_CONSOLE: 'off' } })
})
afterAll(() => web?.close())
afterEach(() => {
  sessionStorage.clear()
  setVisibility('visible')
})

function setVisibility(state: 'visible' | 'hidden') {
  Object.defineProperty(document, 'visibilityState', { value: state, configurable: true })
  document.dispatchEvent(new Event('visibilitychange'))
}

/** A tab signed in as the admin that impersonates a fresh customer through the store; counts `me` calls. */
async function actingTab() {
  const customer = web.stack.customers()[next++]!
  const auth: LocalClerkAuth = await web.signedIn('admin')
  const { app } = web.storeApp(auth)
  const counted = { me: 0 }
  app.provide(
    ApiKey,
    createApi({
      url: web.apiUrl,
      getToken: () => auth.getToken(),
      fetch: (input, init) => {
        if (String(input instanceof Request ? input.url : input).includes('/me')) counted.me++
        return fetch(input, init)
      },
    }),
  )
  const path = await app.runWithContext(() =>
    useImpersonationStore(web.pinia).start({
      user: { id: customer.id, fullName: 'Bella Schneider', primaryEmail: null } as UserSummary,
      reason: 'Customer cannot see invoices',
      sessionMinutes: 30,
      returnTo: '/users?q=bella',
    }),
  )
  expect(path).toBe('/')
  const id = useImpersonationStore(web.pinia).lastImpersonationId!
  return { app, auth, id, counted, acting: app.runWithContext(() => useActingStore()) }
}

describe('acting store', () => {
  it('with RETURN_TO_CONSOLE=off, Stop still ends the impersonation and leads to sign-in, saying why', async () => {
    const { auth, id, acting } = await actingTab()
    expect(readReturn(id)).not.toBeNull()
    expect(await acting.stop()).toEqual({ to: 'sign-in' })
    expect(auth.session.value).toBeNull()
    expect(useSessionStore(web.pinia).notice?.text).toMatch(
      /^Stopped acting as Bella Schneider after \d+ s\. Returning to the console without a password is turned off here\./,
    )
    expect(useSessionStore(web.pinia).prefillIdentifier).toBe(web.account('admin').identifier)
    expect(readReturn(id)).toBeNull()
    expect(await web.stack.deps.audit.get(id)).toMatchObject({
      status: 'ended',
      endCause: 'stopped_by_actor',
    })
  })

  it('asks the API only while the tab is visible, and at once when it becomes visible again', async () => {
    const { id, counted, acting } = await actingTab()
    setVisibility('hidden')
    // The watch's periods are counted, not waited for: its interval is driven by the test.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const unwatch = acting.watchEnd()
    try {
      await settle()
      const before = counted.me
      const admin = await web.stack.signIn('admin')
      await web.stack
        .client(() => admin.token())
        .impersonation.end.mutate({ impersonationId: id, reason: 'Ended while hidden' })
      // Two periods pass hidden (the watch's interval fires twice): no question asked, nothing
      // learnt.
      expect(vi.getTimerCount()).toBe(1)
      vi.advanceTimersByTime(2 * WATCH_INTERVAL_MS)
      await settle()
      expect(counted.me).toBe(before)
      expect(acting.endedText).toBeNull()
      setVisibility('visible')
      await until(() => acting.endedText !== null, 'the check on becoming visible')
      expect(acting.endedText).toBe(
        `Ended by ${web.account('admin').identifier}: Ended while hidden`,
      )
    } finally {
      unwatch()
      vi.useRealTimers()
    }
  })
})
