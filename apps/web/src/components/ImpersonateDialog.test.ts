import type { UserSummary } from '@actas/contracts/client'
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, shallowRef } from 'vue'
import type { Router } from 'vue-router'
import { readReturn, sha256Hex } from '../lib/return-to-console'
import { useImpersonationStore } from '../stores/impersonation'
import { routerAt, until, webStack } from '../../test/support/harness'
import type { LocalClerkAuth, WebStack } from '../../test/support/harness'
import ImpersonateDialog from './ImpersonateDialog.vue'

let web: WebStack
let auth: LocalClerkAuth
let router: Router
let customers: UserSummary[]
let next = 0
/** A customer no earlier test impersonated. */
const freshCustomer = () => customers[next++]!

beforeAll(async () => {
  web = await webStack()
  const admin = await web.signedIn('admin')
  customers = (
    await web.api(admin).users.search.query({ query: 'gmail.com', limit: 30 })
  ).items.filter((u) => u.impersonation.allowed)
})
afterAll(() => web?.close())
afterEach(() => {
  sessionStorage.clear()
  web.stack.clerk.faults.clear()
  web.stack.clerk.faults.setQuota(false)
  document.body.innerHTML = ''
})

async function open(user: UserSummary) {
  auth = await web.signedIn('admin')
  router = await routerAt('/users', { path: '/users', component: { render: () => h('p') } }, ['/'])
  const selected = shallowRef<UserSummary | null>(user)
  const wrapper = mount(
    defineComponent({
      setup: () => () =>
        h(ImpersonateDialog, { user: selected.value, onClose: () => (selected.value = null) }),
    }),
    { global: { plugins: [...web.plugins(auth), router] }, attachTo: document.body },
  )
  await until(() => (wrapper.find('dialog').element as HTMLDialogElement).open, 'the dialog')
  return { wrapper, selected }
}

async function confirmWith(
  wrapper: Awaited<ReturnType<typeof open>>['wrapper'],
  reason: string,
  ticketUrl = '',
) {
  await wrapper.find('#impersonate-reason').setValue(reason)
  await wrapper.find('#impersonate-ticket').setValue(ticketUrl)
  await wrapper.find('input[data-mode="full"]').setValue(true)
  await wrapper.find('form').trigger('submit')
  await until(() => !useImpersonationStore(web.pinia).phase.endsWith('ing'), 'the start to finish')
}

const auditRows = () => web.stack.deps.audit.list({ limit: 100 })

describe('ImpersonateDialog', () => {
  it('opens as a modal dialog about the user, with the reason field focused', async () => {
    const user = customers[0]!
    const { wrapper } = await open(user)
    expect(wrapper.find('h2').text()).toBe(`Impersonate ${user.fullName ?? user.primaryEmail}`)
    expect(document.activeElement?.id).toBe('impersonate-reason')
  })

  it('preselects no access mode where the policy allows both: the staff member picks', async () => {
    const before = (await auditRows()).rows.length
    const { wrapper } = await open(customers[0]!)
    const radios = wrapper.findAll('input[name="impersonate-mode"]')
    expect(radios.map((r) => (r.element as HTMLInputElement).checked)).toEqual([false, false])
    expect(radios.every((r) => !(r.element as HTMLInputElement).disabled)).toBe(true)
    await wrapper.find('#impersonate-reason').setValue('Customer cannot see invoices')
    await wrapper.find('form').trigger('submit')
    expect(wrapper.find('[data-testid="mode-error"]').text()).toBe(
      'Choose the access: read-only or full.',
    )
    expect(wrapper.find('[data-testid="mode-picker"]').attributes('aria-invalid')).toBe('true')
    expect(document.activeElement?.getAttribute('name')).toBe('impersonate-mode')
    expect((await auditRows()).rows.length).toBe(before)
  })

  it('requires a reason of at least 10 characters before calling the API', async () => {
    const before = (await auditRows()).rows.length
    const { wrapper } = await open(customers[0]!)
    await confirmWith(wrapper, '')
    expect(wrapper.text()).toContain('A reason is required.')
    await confirmWith(wrapper, 'too short')
    expect(wrapper.text()).toContain('Give at least 10 characters.')
    expect(wrapper.find('#impersonate-reason').attributes('aria-invalid')).toBe('true')
    await confirmWith(wrapper, 'Customer cannot see invoices', 'not a url')
    expect(wrapper.text()).toContain('Enter a full link')
    expect((await auditRows()).rows.length).toBe(before)
  })

  it('starts with a return secret, signs in with the ticket, reports the sign-in and lands home as the customer; the ticket is kept nowhere', async () => {
    const user = freshCustomer()
    const { wrapper } = await open(user)
    await router.replace('/users?q=gmail.com&page=2')
    await wrapper.find('#impersonate-minutes').setValue('15')
    await confirmWith(
      wrapper,
      '  Customer cannot see invoices  ',
      'https://support.example.com/t/1',
    )
    expect(useImpersonationStore(web.pinia).startError).toBeNull()
    await until(() => router.currentRoute.value.fullPath === '/', 'the home page')
    // this tab is now the customer's session, with the admin as actor
    expect(auth.user.value?.id).toBe(user.id)
    expect(auth.session.value?.actor?.sub).toBe(web.account('admin').userId)
    // The console reported the sign-in with the new session's token (not awaited before the
    // landing, so polled): signed in without waiting for a webhook.
    await vi.waitFor(async () => {
      const reported = (await auditRows()).rows.find((r) => r.userId === user.id)
      expect(reported?.status).toBe('signed_in')
    })
    const row = (await auditRows()).rows.find((r) => r.userId === user.id)!
    expect(row).toMatchObject({
      status: 'signed_in',
      clerkSessionId: auth.session.value?.id,
      reason: 'Customer cannot see invoices',
      ticketUrl: 'https://support.example.com/t/1',
      sessionMinutes: 15,
    })
    // The way back: this tab keeps the secret (the API only its SHA-256), the page and the name.
    const kept = readReturn(row.id)!
    expect(kept).toMatchObject({
      impersonationId: row.id,
      returnTo: '/users?q=gmail.com&page=2',
      userName: user.fullName ?? user.primaryEmail,
    })
    expect(kept.secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const requested = (await web.stack.deps.audit.events(row.id)).find(
      (e) => e.type === 'requested',
    )!
    expect(JSON.parse(requested.data)).toMatchObject({
      returnSecretHash: await sha256Hex(kept.secret),
    })
    expect(requested.data).not.toContain(kept.secret)
    expect(Object.keys(sessionStorage).filter((k) => k !== 'vue-router:scroll')).toEqual([
      'actas.return',
    ])
    // the ticket is in no storage
    const stored = JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage })
    const issued = await web.stack.deps.audit.events(row.id)
    expect(stored).not.toMatch(/ticket/i)
    expect(issued.map((e) => e.type)).toEqual(['requested', 'issued', 'signed_in'])
    expect(localStorage.length).toBe(0)
  })

  it.each([
    [
      '402: the Clerk plan quota is used up',
      "This month's impersonations on your Clerk plan are used up",
    ],
    ['429: Clerk rate limits', 'Try again in 30 s.'],
    ['503: Clerk is down', 'Clerk unavailable'],
  ])('explains a refused start in plain words (%s)', async (what, text) => {
    if (what.startsWith('402')) web.stack.clerk.faults.setQuota(true, 0)
    if (what.startsWith('429'))
      web.stack.clerk.faults.add({
        route: 'POST /v1/actor_tokens',
        status: 429,
        retryAfterSeconds: 30,
      })
    if (what.startsWith('503'))
      web.stack.clerk.faults.add({ route: 'POST /v1/actor_tokens', status: 503 })
    const { wrapper } = await open(freshCustomer())
    await confirmWith(wrapper, 'Customer cannot see invoices')
    expect(wrapper.find('[data-testid="impersonate-error"]').text()).toContain(text)
    expect(auth.calls.some((c) => c.method === 'signInWithTicket')).toBe(false)
    expect(auth.session.value?.actor).toBeNull()
    expect(router.currentRoute.value.fullPath).toBe('/users')
  })

  it('refuses a banned user with the policy’s reason', async () => {
    const admin = web.api(await web.signedIn('admin'))
    const banned = (await admin.users.search.query({ query: web.account('banned').userId }))
      .items[0]!
    const { wrapper } = await open(banned)
    await confirmWith(wrapper, 'Customer cannot see invoices')
    expect(wrapper.find('[data-testid="impersonate-error"]').text()).toMatch(/banned/i)
    expect(router.currentRoute.value.fullPath).toBe('/users')
  })

  it('says so when the ticket expired before Clerk accepted it', async () => {
    const { wrapper } = await open(freshCustomer())
    // Clerk holds the ticket sign-in; meanwhile every pending ticket expires
    web.stack.clerk.faults.add({ route: 'POST /v1/client/sign_ins', latencyMs: 800, times: 1 })
    await wrapper.find('#impersonate-reason').setValue('Customer cannot see invoices')
    await wrapper.find('input[data-mode="full"]').setValue(true)
    await wrapper.find('form').trigger('submit')
    const store = useImpersonationStore(web.pinia)
    await until(() => store.phase === 'signing-in', 'the ticket sign-in')
    const res = await fetch(`${web.stack.clerk.url}/__local/actor_tokens/expire`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${web.stack.clerk.secretKey}`,
        'content-type': 'application/json',
      },
      body: '{}',
    })
    expect(res.ok).toBe(true)
    await until(() => store.phase === 'failed', 'the sign-in to fail')
    expect(wrapper.find('[data-testid="impersonate-error"]').text()).toContain('Ticket expired')
    expect(router.currentRoute.value.fullPath).toBe('/users')
    // Recorded: the audit row says the ticket sign-in failed, and why; no way back is kept.
    const id = store.lastImpersonationId!
    await vi.waitFor(async () => {
      expect(await web.stack.deps.audit.get(id)).toMatchObject({
        status: 'failed',
        outcomeCode: 'ticket_expired',
      })
    })
    expect(readReturn(id)).toBeNull()
  })

  it('closes on Cancel', async () => {
    const { wrapper, selected } = await open(customers[0]!)
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Cancel')!
      .trigger('click')
    await until(() => selected.value === null)
    expect((wrapper.find('dialog').element as HTMLDialogElement).open).toBe(false)
  })
})
