import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { routerAt, until, webStack } from '../testing/harness'
import type { WebStack } from '../testing/harness'
import AuditView from './AuditView.vue'

let web: WebStack
/** Audit rows made through the API, as staff would: an open ticket, a used one, a denial. */
const made = { open: '', used: '', denied: '' }

beforeAll(async () => {
  web = await webStack()
  const admin = await web.stack.signIn('admin')
  const api = web.stack.client(() => admin.token())
  const [a, b] = web.stack.customers()
  made.open = (
    await api.impersonation.start.mutate({ userId: a!.id, reason: 'Open ticket for the log' })
  ).impersonationId
  const used = await api.impersonation.start.mutate({
    userId: b!.id,
    reason: 'Used ticket for the log',
  })
  await web.stack.signInWithTicket(used.ticket)
  made.used = used.impersonationId
  await api.impersonation.start
    .mutate({ userId: web.account('banned').userId, reason: 'Denied attempt for the log' })
    .catch(() => undefined)
  made.denied = (await web.stack.deps.audit.list({ status: 'denied', limit: 1 })).rows[0]!.id
})
afterAll(() => web?.close())
afterEach(() => {
  document.body.innerHTML = ''
})

async function mountView(url = '/audit') {
  const auth = await web.signedIn('admin')
  const router = await routerAt(url, { path: '/audit', name: 'audit', component: AuditView }, ['/'])
  const wrapper = mount(AuditView, {
    global: { plugins: [...web.plugins(auth), router] },
    attachTo: document.body,
  })
  await until(() => wrapper.findAll('tbody tr').length > 0, 'the log')
  return { wrapper, router }
}

const row = (wrapper: Awaited<ReturnType<typeof mountView>>['wrapper'], id: string) =>
  wrapper.find(`tr[data-impersonation-id="${id}"]`)

describe('AuditView', () => {
  it('lists impersonations with actor, user, reason and outcome', async () => {
    const { wrapper } = await mountView()
    expect(wrapper.findAll('tbody tr').length).toBeGreaterThanOrEqual(3)
    const open = row(wrapper, made.open)
    expect(open.text()).toContain(web.account('admin').identifier)
    expect(open.text()).toContain(web.stack.customers()[0]!.emailAddresses[0]!.emailAddress)
    expect(open.text()).toContain('Open ticket for the log')
    expect(row(wrapper, made.denied).text()).toMatch(/denied.*banned/is)
  })

  it('offers Revoke only for issued tickets nobody used, and shows the new status', async () => {
    const { wrapper } = await mountView()
    const revoke = (id: string) =>
      row(wrapper, id)
        .findAll('button')
        .filter((b) => b.text() === 'Revoke')
    expect(revoke(made.denied)).toHaveLength(0)
    expect(revoke(made.open)).toHaveLength(1)
    await revoke(made.open)[0]!.trigger('click')
    await until(() => row(wrapper, made.open).text().includes('revoked'), 'the revoke')
    expect(revoke(made.open)).toHaveLength(0)
    expect((await web.stack.deps.audit.get(made.open))?.status).toBe('revoked')
  })

  it('explains a refused revoke in plain words: the ticket was already used', async () => {
    const { wrapper } = await mountView()
    await row(wrapper, made.used)
      .findAll('button')
      .find((b) => b.text() === 'Revoke')!
      .trigger('click')
    await until(() => wrapper.find('[role="alert"]').exists(), 'the refusal')
    expect(wrapper.find('[role="alert"]').text()).toContain('Ticket already used')
  })

  it('filters by status', async () => {
    const { wrapper } = await mountView()
    await wrapper.find('#filter-status').setValue('denied')
    await until(() => wrapper.findAll('tbody tr').every((r) => r.text().includes('denied')))
    expect(row(wrapper, made.denied).exists()).toBe(true)
    expect(row(wrapper, made.used).exists()).toBe(false)
  })
})
