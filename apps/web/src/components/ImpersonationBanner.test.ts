import type { MeOutput } from '@actas/contracts/client'
import { mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { fakeAuth, harness, settle, stubNetwork } from '../testing/harness'
import type { FakeAuth } from '../testing/harness'
import ImpersonationBanner from './ImpersonationBanner.vue'

let auth: FakeAuth
const inSeconds = (s: number) => new Date(Date.now() + s * 1000 + 500)

/** `me` of the impersonated session, as the API answers it (actor details from the audit row). */
function meImpersonated(actor: Partial<NonNullable<MeOutput['actor']>> = {}): MeOutput {
  return {
    userId: 'user_jane',
    sessionId: 'sess_2',
    organization: null,
    permissions: [],
    canImpersonate: false,
    actor: {
      userId: 'user_ada',
      impersonationId: 'imp_1',
      reason: 'Invoices missing',
      email: 'ada@support.actas.test',
      sessionExpiresAt: inSeconds(24 * 60 + 13).toISOString(),
      ...actor,
    },
  }
}

function setSession(expireAt: Date | null) {
  auth.setUser(
    {
      id: 'user_jane',
      fullName: 'Jane Doe',
      primaryEmail: 'jane@example.com',
      username: null,
      imageUrl: null,
      createdAt: null,
      lastSignInAt: null,
      organizations: [],
    },
    {
      id: 'sess_2',
      expireAt,
      actor: { sub: 'user_ada', reason: 'Invoices missing', impersonationId: 'imp_1' },
    },
  )
}

beforeEach(() => {
  sessionStorage.clear()
  auth = fakeAuth()
  setSession(inSeconds(30 * 60))
})

describe('ImpersonationBanner', () => {
  it("says who I act as, who started it (the audited email), why, and when it ends, from the API's me", async () => {
    const network = stubNetwork({ me: () => ({ data: meImpersonated() }) })
    const wrapper = mount(ImpersonationBanner, { global: { plugins: harness(auth, network) } })
    await settle()
    // the audit row's end (24:13) is earlier than Clerk's (30:00), so it wins
    expect(wrapper.text()).toMatch(
      /You are acting as Jane Doe · started by ada@support\.actas\.test · Invoices missing · ends in 24:1[34]/,
    )
    expect(network.calls.filter((c) => c.path === 'me')).toHaveLength(1)
    expect(sessionStorage.length).toBe(0)
    expect(wrapper.find('button').text()).toBe('Stop')
    expect(wrapper.text()).not.toMatch(/dismiss|close/i)
  })

  it("ends the countdown at Clerk's session expiry when that comes first", async () => {
    setSession(inSeconds(10 * 60 + 5))
    const network = stubNetwork({ me: () => ({ data: meImpersonated() }) })
    const wrapper = mount(ImpersonationBanner, { global: { plugins: harness(auth, network) } })
    await settle()
    expect(wrapper.text()).toMatch(/ends in 10:0[56]/)
  })

  it('falls back to the actor id and to Clerk’s expiry when the audit log has no match', async () => {
    const network = stubNetwork({
      me: () => ({ data: meImpersonated({ email: null, sessionExpiresAt: null }) }),
    })
    const wrapper = mount(ImpersonationBanner, { global: { plugins: harness(auth, network) } })
    await settle()
    expect(wrapper.text()).toContain('started by user_ada')
    expect(wrapper.text()).toMatch(/ends in (30:0[01]|29:5\d)/)
  })

  it('shows the actor id until me() answers, and when it fails', async () => {
    const network = stubNetwork({
      me: () => ({ error: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, message: 'down' } }),
    })
    const wrapper = mount(ImpersonationBanner, { global: { plugins: harness(auth, network) } })
    expect(wrapper.text()).toContain('started by user_ada')
    await settle()
    expect(wrapper.text()).toContain('started by user_ada')
  })

  it('Stop signs the impersonated session out to the sign-in page', async () => {
    const network = stubNetwork({ me: () => ({ data: meImpersonated() }) })
    const wrapper = mount(ImpersonationBanner, { global: { plugins: harness(auth, network) } })
    await settle()
    await wrapper.find('button').trigger('click')
    await settle()
    expect(auth.calls).toContainEqual({ method: 'signOut', args: ['/sign-in'] })
  })
})
