import { mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { saveHandoff } from '../lib/handoff'
import { fakeAuth, harness, settle, stubNetwork } from '../testing/harness'
import type { FakeAuth } from '../testing/harness'
import ImpersonationBanner from './ImpersonationBanner.vue'

let auth: FakeAuth

beforeEach(() => {
  sessionStorage.clear()
  auth = fakeAuth()
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
      expireAt: new Date(Date.now() + (24 * 60 + 13) * 1000 + 500),
      actor: { sub: 'user_ada', reason: 'Invoices missing', impersonationId: 'imp_1' },
    },
  )
})

describe('ImpersonationBanner', () => {
  it('says who I act as, who started it, why, and when it ends', () => {
    saveHandoff({
      impersonationId: 'imp_1',
      staffIdentifier: 'ada@support',
      staffName: 'Ada',
      userName: 'Jane Doe',
      userEmail: null,
      reason: 'Invoices missing',
    })
    const wrapper = mount(ImpersonationBanner, {
      global: { plugins: harness(auth, stubNetwork()) },
    })
    expect(wrapper.text()).toMatch(
      /You are acting as Jane Doe · started by ada@support · Invoices missing · ends in 24:1[34]/,
    )
    expect(wrapper.find('button').text()).toBe('Stop')
    expect(wrapper.text()).not.toMatch(/dismiss|close/i)
  })

  it('falls back to the actor id when this tab did not start the impersonation', () => {
    const wrapper = mount(ImpersonationBanner, {
      global: { plugins: harness(auth, stubNetwork()) },
    })
    expect(wrapper.text()).toContain('started by user_ada')
  })

  it('Stop signs the impersonated session out to the sign-in page', async () => {
    const wrapper = mount(ImpersonationBanner, {
      global: { plugins: harness(auth, stubNetwork()) },
    })
    await wrapper.find('button').trigger('click')
    await settle()
    expect(auth.calls).toContainEqual({ method: 'signOut', args: ['/sign-in'] })
  })
})
