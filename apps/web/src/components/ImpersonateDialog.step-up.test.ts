// The Impersonate dialog's mode choice and the step-up before a ticket, against the real API
// (READ_ONLY_ORGANIZATIONS=globex, STEP_UP_MINUTES at its default, 10) and the local Clerk
// server: the choice the API allows is preselected and locked when it must be, the mode reaches
// the ticket's session, and a stale password opens "Confirm it's you", after which the start goes
// on by itself (or, on Cancel, the dialog says it did not start).
import type { UserSummary } from '@actas/contracts/client'
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defineComponent, h, shallowRef } from 'vue'
import type { Router } from 'vue-router'
import { useImpersonationStore } from '../stores/impersonation'
import { routerAt, until, webStack } from '../../test/support/harness'
import type { LocalClerkAuth, WebStack } from '../../test/support/harness'
import ImpersonateDialog from './ImpersonateDialog.vue'
import ReverifyDialog from './ReverifyDialog.vue'

let web: WebStack
let auth: LocalClerkAuth
let router: Router
let customers: UserSummary[]
let globex: UserSummary[]

beforeAll(async () => {
  web = await webStack({ env: { READ_ONLY_ORGANIZATIONS: 'globex' } })
  const api = web.api(await web.signedIn('admin'))
  customers = (await api.users.search.query({ query: 'gmail.com', limit: 30 })).items.filter(
    (u) => u.impersonation.allowed && u.organizations.length === 0,
  )
  const org = [...web.stack.clerk.state.organizations.values()].find((o) => o.slug === 'globex')!
  const members = [...web.stack.clerk.state.memberships.values()]
    .filter((m) => m.organizationId === org.id)
    .map((m) => m.userId)
  globex = []
  for (const id of members) {
    const [row] = (await api.users.search.query({ query: id })).items
    if (row?.impersonation.allowed) globex.push(row)
    if (globex.length === 3) break
  }
})
afterAll(() => web?.close())
afterEach(() => {
  document.body.innerHTML = ''
})

async function open(user: UserSummary) {
  auth = await web.signedIn('admin')
  router = await routerAt('/users', { path: '/users', component: { render: () => h('p') } }, ['/'])
  const selected = shallowRef<UserSummary | null>(user)
  const wrapper = mount(
    defineComponent({
      setup: () => () => [
        h(ImpersonateDialog, { user: selected.value, onClose: () => (selected.value = null) }),
        h(ReverifyDialog),
      ],
    }),
    { global: { plugins: [...web.plugins(auth), router] }, attachTo: document.body },
  )
  await until(() => (wrapper.find('dialog').element as HTMLDialogElement).open, 'the dialog')
  return wrapper
}

/** The server now believes this tab's staff member typed the password `minutes` ago. */
function passwordAge(minutes: number) {
  const session = web.stack.clerk.state.sessions.get(auth.session.value!.id)!
  session.firstFactorVerifiedAt = web.stack.clerk.state.now() - minutes * 60_000
}

const radio = (w: Awaited<ReturnType<typeof open>>, value: string) =>
  w.find(`input[type="radio"][value="${value}"]`)
const reverifyOpen = (w: Awaited<ReturnType<typeof open>>) =>
  (w.find('[data-testid="reverify-dialog"]').element as HTMLDialogElement).open

describe('Impersonate dialog: mode', () => {
  it('offers read-only and full as one radio group with a legend, neither preselected', async () => {
    const wrapper = await open(customers[0]!)
    const group = wrapper.find('fieldset[data-testid="mode-picker"]')
    expect(group.find('legend').text()).toBe('Access')
    const radios = group.findAll('input[type="radio"]')
    expect(radios.map((r) => r.attributes('name'))).toEqual([
      'impersonate-mode',
      'impersonate-mode',
    ])
    expect((radio(wrapper, 'full').element as HTMLInputElement).checked).toBe(false)
    expect((radio(wrapper, 'read_only').element as HTMLInputElement).checked).toBe(false)
    expect((radio(wrapper, 'full').element as HTMLInputElement).disabled).toBe(false)
    expect(wrapper.find('[data-testid="mode-reason"]').exists()).toBe(false)
  })

  it('starts read-only when read-only is chosen: the session carries act.mode', async () => {
    const user = customers[1]!
    const wrapper = await open(user)
    await radio(wrapper, 'read_only').setValue(true)
    await wrapper.find('#impersonate-reason').setValue('Customer cannot see invoices')
    await wrapper.find('form').trigger('submit')
    await until(() => useImpersonationStore(web.pinia).phase === 'done', 'the start')
    expect(auth.user.value?.id).toBe(user.id)
    expect(auth.session.value?.actor?.mode).toBe('read_only')
    const row = (await web.stack.deps.audit.list({ userId: user.id, limit: 5 })).rows[0]!
    expect(row.mode).toBe('read_only')
  })

  it('locks read-only for a member of a read-only organization, and says why before the click', async () => {
    const wrapper = await open(globex[0]!)
    expect((radio(wrapper, 'read_only').element as HTMLInputElement).checked).toBe(true)
    expect((radio(wrapper, 'full').element as HTMLInputElement).disabled).toBe(true)
    expect(wrapper.find('[data-testid="mode-reason"]').text()).toBe(
      'Members of Globex Corporation may only be impersonated read-only (READ_ONLY_ORGANIZATIONS).',
    )
    expect(wrapper.find('fieldset').attributes('aria-describedby')).toBe('impersonate-mode-reason')
    await wrapper.find('#impersonate-reason').setValue('Customer cannot see invoices')
    await wrapper.find('form').trigger('submit')
    await until(() => useImpersonationStore(web.pinia).phase === 'done', 'the start')
    expect(auth.session.value?.actor?.mode).toBe('read_only')
  })
})

describe('Impersonate dialog: step-up', () => {
  it('a stale password asks for it, then the start goes on by itself', async () => {
    const user = customers[2]!
    const wrapper = await open(user)
    passwordAge(25)
    await wrapper.find('#impersonate-reason').setValue('Customer cannot see invoices')
    await radio(wrapper, 'full').setValue(true)
    await wrapper.find('form').trigger('submit')
    await until(() => reverifyOpen(wrapper), 'the password dialog')
    expect(wrapper.find('#reverify-desc').text()).toContain('within the last 10 minutes')
    expect(document.activeElement?.id).toBe('reverify-password')

    // A wrong password: said in the dialog, nothing started.
    await wrapper.find('#reverify-password').setValue('wrong-password')
    await wrapper.find('[data-testid="reverify-dialog"] form').trigger('submit')
    await until(() => wrapper.find('#reverify-error').exists(), 'the error')
    expect(wrapper.find('#reverify-error').text()).toBe('That password is not right. Try again.')
    expect(reverifyOpen(wrapper)).toBe(true)
    expect(auth.user.value?.id).toBe(web.account('admin').userId)

    await wrapper.find('#reverify-password').setValue(web.account('admin').password)
    await wrapper.find('[data-testid="reverify-dialog"] form').trigger('submit')
    // No second click on Confirm: the same start runs again and signs in.
    await until(() => useImpersonationStore(web.pinia).phase === 'done', 'the start')
    expect(reverifyOpen(wrapper)).toBe(false)
    expect(auth.user.value?.id).toBe(user.id)
    expect(router.currentRoute.value.fullPath).toBe('/')
    expect(auth.calls.filter((c) => c.method === 'reverifyWithPassword')).toHaveLength(2)
    // One impersonation (no second start), signed in once the console reports its sign-in.
    await expect
      .poll(async () =>
        (await web.stack.deps.audit.list({ userId: user.id, limit: 5 })).rows.map((r) => r.status),
      )
      .toEqual(['signed_in'])
  })

  it('Cancel returns to the dialog, which says the impersonation did not start', async () => {
    const user = customers[3]!
    const wrapper = await open(user)
    passwordAge(25)
    await wrapper.find('#impersonate-reason').setValue('Customer cannot see invoices')
    await radio(wrapper, 'full').setValue(true)
    await wrapper.find('form').trigger('submit')
    await until(() => reverifyOpen(wrapper), 'the password dialog')
    await wrapper
      .find('[data-testid="reverify-dialog"]')
      .findAll('button')
      .find((b) => b.text() === 'Cancel')!
      .trigger('click')
    await until(() => useImpersonationStore(web.pinia).phase === 'failed', 'the start to stop')
    expect(reverifyOpen(wrapper)).toBe(false)
    expect((wrapper.find('dialog').element as HTMLDialogElement).open).toBe(true)
    expect(wrapper.find('[data-testid="impersonate-error"]').text()).toContain(
      'confirming your password was cancelled',
    )
    // The reason is kept for a second try; nothing was recorded or issued.
    expect((wrapper.find('#impersonate-reason').element as HTMLTextAreaElement).value).toBe(
      'Customer cannot see invoices',
    )
    expect((await web.stack.deps.audit.list({ userId: user.id, limit: 5 })).rows).toEqual([])
    expect(auth.user.value?.id).toBe(web.account('admin').userId)
  })
})
