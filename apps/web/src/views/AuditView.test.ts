import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Router } from 'vue-router'
import { routerAt, until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import AuditView from './AuditView.vue'

let web: WebStack
let router: Router
/** Audit rows made through the API, as staff would: an open ticket, a used one, a denial. */
const made = { open: '', used: '', denied: '', other: '' }

beforeAll(async () => {
  web = await webStack()
  const admin = await web.stack.signIn('admin')
  const api = web.stack.client(() => admin.token())
  const [a, b, c] = web.stack.customers()
  made.open = (
    await api.impersonation.start.mutate({ userId: a!.id, reason: 'Open ticket for the log' })
  ).impersonationId
  const used = await api.impersonation.start.mutate({
    userId: b!.id,
    reason: 'Used ticket for the log',
  })
  await web.stack.signInWithTicket(used.ticket)
  made.used = used.impersonationId
  made.other = (
    await api.impersonation.start.mutate({ userId: c!.id, reason: 'Another open ticket' })
  ).impersonationId
  await api.impersonation.start
    .mutate({ userId: web.account('banned').userId, reason: 'Denied attempt for the log' })
    .catch(() => undefined)
  made.denied = (await api.impersonation.list.query({ status: 'denied', limit: 1 })).items[0]!.id
})
afterAll(() => web?.close())
afterEach(() => {
  document.body.innerHTML = ''
})

async function mountView(url = '/audit') {
  const auth = await web.signedIn('admin')
  router = await routerAt(url, { path: '/audit', name: 'audit', component: AuditView }, ['/'])
  const wrapper = mount(AuditView, {
    global: { plugins: [...web.plugins(auth), router] },
    attachTo: document.body,
  })
  await until(
    () => wrapper.find('tbody tr').exists() || wrapper.find('[role="alert"]').exists(),
    'the log',
  )
  return wrapper
}

type Wrapper = Awaited<ReturnType<typeof mountView>>
const row = (wrapper: Wrapper, id: string) => wrapper.find(`tr[data-impersonation-id="${id}"]`)
const shownIds = (wrapper: Wrapper) =>
  wrapper
    .findAll('tbody tr[data-impersonation-id]')
    .map((r) => r.attributes('data-impersonation-id'))
const customerEmail = (i: number) => web.stack.customers()[i]!.emailAddresses[0]!.emailAddress

describe('AuditView', () => {
  it('lists impersonations with actor, user, reason and outcome, and the total', async () => {
    const wrapper = await mountView()
    expect(wrapper.findAll('tbody tr')).toHaveLength(4)
    expect(wrapper.find('[data-testid="audit-total"]').text()).toBe('4 of 4 impersonations')
    const open = row(wrapper, made.open)
    expect(open.text()).toContain(web.account('admin').identifier)
    expect(open.text()).toContain(customerEmail(0))
    expect(open.text()).toContain('Open ticket for the log')
    expect(row(wrapper, made.denied).text()).toMatch(/denied.*banned/is)
  })

  it('filters by the customer’s email, resolved through search, and keeps it in the URL', async () => {
    const wrapper = await mountView()
    await wrapper.find('#filter-user').setValue(customerEmail(1))
    await wrapper.find('form').trigger('submit')
    await until(() => shownIds(wrapper).length === 1, 'the filtered log')
    expect(shownIds(wrapper)).toEqual([made.used])
    expect(router.currentRoute.value.query).toEqual({ user: customerEmail(1) })
    expect(wrapper.find('[data-testid="audit-total"]').text()).toBe('1 of 1 impersonation')
  })

  it('filters by the staff member’s name, and by status, from the URL', async () => {
    const wrapper = await mountView('/audit?actor=Ada%20Lovelace&status=denied')
    expect(shownIds(wrapper)).toEqual([made.denied])
    expect((wrapper.find('#filter-actor').element as HTMLInputElement).value).toBe('Ada Lovelace')
    expect((wrapper.find('#filter-status').element as HTMLSelectElement).value).toBe('denied')
  })

  it('says when a name matches nobody, instead of "Invalid input"', async () => {
    const wrapper = await mountView('/audit?user=nobody-at-all')
    expect(wrapper.find('[role="alert"]').text()).toContain('No user matches “nobody-at-all”')
    expect(wrapper.text()).not.toContain('Invalid input')
    expect(wrapper.find('#filter-user').attributes('aria-invalid')).toBe('true')
  })

  it('offers a choice when several users match', async () => {
    const wrapper = await mountView('/audit?user=gmail.com')
    expect(wrapper.find('[role="alert"]').text()).toMatch(/\d+ users match “gmail\.com”/)
    const choices = wrapper.findAll('.lookup-choices button')
    expect(choices.length).toBeGreaterThan(1)
  })

  it('filters by date range', async () => {
    const today = new Date()
    const iso = (d: Date) =>
      `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
    const wrapper = await mountView(`/audit?from=${iso(today)}&to=${iso(today)}`)
    expect(shownIds(wrapper)).toHaveLength(4)
    const past = new Date(today.getTime() - 3 * 86_400_000)
    await router.push(`/audit?from=${iso(past)}&to=${iso(past)}`)
    await until(() => wrapper.find('[data-testid="audit-empty"]').exists(), 'the empty state')
    expect(wrapper.text()).toContain('No impersonations')
  })

  it('asks before revoking; Revoke then shows the new status and who revoked', async () => {
    const wrapper = await mountView()
    const revoke = (id: string) =>
      row(wrapper, id)
        .findAll('button')
        .filter((b) => b.text() === 'Revoke')
    expect(revoke(made.denied)).toHaveLength(0)
    await revoke(made.open)[0]!.trigger('click')
    const dialog = wrapper.find('[data-testid="revoke-dialog"]').element as HTMLDialogElement
    expect(dialog.open).toBe(true)
    expect(wrapper.find('[data-testid="revoke-dialog"]').text()).toContain(customerEmail(0))
    // "Keep it" revokes nothing
    await wrapper
      .findAll('[data-testid="revoke-dialog"] button')
      .find((b) => b.text() === 'Keep it')!
      .trigger('click')
    expect(dialog.open).toBe(false)
    expect((await web.stack.deps.audit.get(made.open))?.status).toBe('issued')
    await revoke(made.open)[0]!.trigger('click')
    await wrapper
      .findAll('[data-testid="revoke-dialog"] button')
      .find((b) => b.text() === 'Revoke ticket')!
      .trigger('click')
    await until(() => row(wrapper, made.open).text().includes('Revoked'), 'the revoke')
    expect(revoke(made.open)).toHaveLength(0)
    expect(row(wrapper, made.open).find('[data-testid="status-sentence"]').text()).toBe(
      `Ticket revoked by ${web.account('admin').identifier}`,
    )
    expect((await web.stack.deps.audit.get(made.open))?.status).toBe('revoked')
  })

  it('explains a refused revoke, and the message is gone after leaving and coming back', async () => {
    const wrapper = await mountView()
    await row(wrapper, made.used)
      .findAll('button')
      .find((b) => b.text() === 'Revoke')!
      .trigger('click')
    await wrapper
      .findAll('[data-testid="revoke-dialog"] button')
      .find((b) => b.text() === 'Revoke ticket')!
      .trigger('click')
    await until(() => wrapper.find('.alert[role="alert"]').exists(), 'the refusal')
    expect(wrapper.find('.alert[role="alert"]').text()).toContain('Ticket already used')
    wrapper.unmount()
    const again = await mountView()
    expect(again.find('.alert').exists()).toBe(false)
    expect(again.text()).not.toContain('Ticket already used')
  })
})
