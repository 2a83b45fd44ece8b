import type { UserSummary } from '@actas/contracts/client'
import { mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineComponent, h, shallowRef } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Router } from 'vue-router'
import { AuthError } from '../auth/types'
import { fakeAuth, harness, settle, stubNetwork, userSummary } from '../testing/harness'
import type { FakeAuth, StubNetwork } from '../testing/harness'
import ImpersonateDialog from './ImpersonateDialog.vue'

const TICKET = 'tkt_secret_ticket_value'
const jane = userSummary({
  id: 'user_jane',
  fullName: 'Jane Doe',
  primaryEmail: 'jane@example.com',
}) as UserSummary

let auth: FakeAuth
let network: StubNetwork
let router: Router

function started(redirectPath = '/') {
  return {
    data: {
      impersonationId: '00000000-0000-4000-8000-000000000001',
      ticket: TICKET,
      expiresAt: '2026-11-24T20:00:00.000Z',
      sessionExpiresAt: '2026-11-24T20:30:00.000Z',
      redirectPath,
    },
  }
}

async function open() {
  router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { render: () => h('p', 'home') } },
      { path: '/users', component: { render: () => h('p', 'users') } },
    ],
  })
  await router.push('/users')
  const selected = shallowRef<UserSummary | null>(jane)
  const wrapper = mount(
    defineComponent({
      setup: () => () =>
        h(ImpersonateDialog, { user: selected.value, onClose: () => (selected.value = null) }),
    }),
    { global: { plugins: [...harness(auth, network), router] }, attachTo: document.body },
  )
  await settle()
  return { wrapper, selected }
}

async function confirmWith(
  wrapper: Awaited<ReturnType<typeof open>>['wrapper'],
  reason: string,
  ticketUrl = '',
) {
  await wrapper.find('#impersonate-reason').setValue(reason)
  await wrapper.find('#impersonate-ticket').setValue(ticketUrl)
  await wrapper.find('form').trigger('submit')
  await settle()
}

beforeEach(() => {
  sessionStorage.clear()
  auth = fakeAuth()
  network = stubNetwork({
    'impersonation.start': () => started(),
    quota: () => ({
      data: {
        used: 5,
        limit: 5,
        remaining: 0,
        nextIsBillable: true,
        periodStart: '2026-11-01T00:00:00.000Z',
        periodEnd: '2026-12-01T00:00:00.000Z',
      },
    }),
  })
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('ImpersonateDialog', () => {
  it('opens as a modal dialog about the user, with the reason field focused', async () => {
    const { wrapper } = await open()
    const dialog = wrapper.find('dialog').element as HTMLDialogElement
    expect(dialog.open).toBe(true)
    expect(wrapper.find('h2').text()).toBe('Impersonate Jane Doe')
    expect(document.activeElement?.id).toBe('impersonate-reason')
  })

  it('requires a reason of at least 10 characters before calling the API', async () => {
    const { wrapper } = await open()
    await confirmWith(wrapper, '')
    expect(wrapper.text()).toContain('A reason is required.')
    await confirmWith(wrapper, 'too short')
    expect(wrapper.text()).toContain('Give at least 10 characters.')
    expect(wrapper.find('#impersonate-reason').attributes('aria-invalid')).toBe('true')
    await confirmWith(wrapper, 'Customer cannot see invoices', 'not a url')
    expect(wrapper.text()).toContain('Enter a full link')
    expect(network.calls.filter((c) => c.path === 'impersonation.start')).toHaveLength(0)
  })

  it('starts, signs in with the ticket and lands on the home path; the ticket is kept nowhere', async () => {
    const { wrapper } = await open()
    await wrapper.find('#impersonate-minutes').setValue('15')
    await confirmWith(
      wrapper,
      '  Customer cannot see invoices  ',
      'https://support.example.com/t/1',
    )
    expect(network.calls.find((c) => c.path === 'impersonation.start')?.input).toEqual({
      userId: 'user_jane',
      reason: 'Customer cannot see invoices',
      ticketUrl: 'https://support.example.com/t/1',
      sessionMinutes: 15,
    })
    expect(auth.calls).toContainEqual({ method: 'signInWithTicket', args: [TICKET] })
    expect(router.currentRoute.value.fullPath).toBe('/')
    const stored = JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage })
    // nothing about the impersonation is kept: the banner asks the API's me()
    expect(stored).not.toContain('ada@support.actas.test')
    expect(stored).not.toContain('actas.')
    expect(stored).not.toContain(TICKET)
    expect(router.currentRoute.value.fullPath).not.toContain(TICKET)
  })

  it('never follows a redirect path to another origin', async () => {
    network.handle('impersonation.start', () => started('//evil.example/steal'))
    const { wrapper } = await open()
    await confirmWith(wrapper, 'Customer cannot see invoices')
    expect(router.currentRoute.value.fullPath).toBe('/')
  })

  it.each([
    [
      { code: 'QUOTA_EXCEEDED', httpStatus: 402, message: 'quota' },
      "This month's impersonations on your Clerk plan are used up",
    ],
    [
      { code: 'RATE_LIMITED', httpStatus: 429, message: 'slow', retryAfter: 30 },
      'Try again in 30 s.',
    ],
    [
      { code: 'POLICY_DENIED', httpStatus: 403, message: 'Banned users cannot be impersonated.' },
      'Banned users cannot be impersonated.',
    ],
    [{ code: 'SERVICE_UNAVAILABLE', httpStatus: 503, message: 'x' }, 'Clerk unavailable'],
  ])('explains a refused start in plain words (%o)', async (error, text) => {
    network.handle('impersonation.start', () => ({ error }))
    const { wrapper } = await open()
    await confirmWith(wrapper, 'Customer cannot see invoices')
    expect(wrapper.find('[data-testid="impersonate-error"]').text()).toContain(text)
    expect(auth.calls.some((c) => c.method === 'signInWithTicket')).toBe(false)
    expect(router.currentRoute.value.fullPath).toBe('/users')
  })

  it('says so when the ticket expired before Clerk accepted it', async () => {
    auth.failNext(
      new AuthError(
        'ticket_expired',
        'The impersonation ticket expired before it was used. Start again.',
      ),
    )
    const { wrapper } = await open()
    await confirmWith(wrapper, 'Customer cannot see invoices')
    expect(wrapper.find('[data-testid="impersonate-error"]').text()).toContain('Ticket expired')
    expect(router.currentRoute.value.fullPath).toBe('/users')
  })

  it('closes on Cancel', async () => {
    const { wrapper, selected } = await open()
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Cancel')!
      .trigger('click')
    await settle()
    expect(selected.value).toBeNull()
    expect((wrapper.find('dialog').element as HTMLDialogElement).open).toBe(false)
  })
})
