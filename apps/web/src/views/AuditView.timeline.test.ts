// The audit page's truthful statuses, timelines and its End/Revoke offers, over impersonations
// that went through their lifecycle for real (ticket sign-in, the console's report, the kill switch).
import { mount } from '@vue/test-utils'
import type { VueWrapper } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { routerAt, until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import AuditView from './AuditView.vue'

let web: WebStack
const mounted: VueWrapper[] = []
const made = { open: '', live: '', ended: '', endLater: '', denied: '', readOnly: '' }
const SAM = () => web.account('agent')
const ADA = () => web.account('admin')

/** A live impersonation: the admin starts it, the ticket signs in, the console reports it. */
async function live(customer: number, reason: string) {
  const c = web.stack.customers()[customer]!
  const started = await web.impersonating(c.id, reason)
  const token = await started.auth.getToken()
  await web.api(started.auth).impersonation.signedIn.mutate({ sessionToken: token! })
  sessions.set(started.impersonationId, started.auth.session.value!.id)
  return started.impersonationId
}
/** Each live impersonation's Clerk session (where the customer application reports actions). */
const sessions = new Map<string, string>()

beforeAll(async () => {
  web = await webStack({
    // The helpdesk machine stands for a customer application running @actas/guard.
    env: (clerk) => ({
      MACHINE_PERMISSIONS: JSON.stringify({
        [clerk.machines.find((m) => m.name === 'helpdesk')!.id]: ['impersonation.actions'],
      }),
    }),
  })
  // Sam (the agent) becomes a Support admin: a second staff member who may end impersonations.
  const membership = web.stack.clerk.state.membershipsOfUser(SAM().userId)[0]!
  web.stack.clerk.state.setMembershipRole(membership, 'admin')

  const ada = await web.stack.signIn('admin')
  const api = web.stack.client(() => ada.token())
  made.open = (
    await api.impersonation.start.mutate({
      userId: web.stack.customers()[0]!.id,
      reason: 'A ticket nobody used',
    })
  ).impersonationId
  made.readOnly = (
    await api.impersonation.start.mutate({
      userId: web.stack.customers()[4]!.id,
      reason: 'A read-only ticket',
      mode: 'read_only',
    })
  ).impersonationId
  made.live = await live(1, 'Live while the log is read')
  made.ended = await live(2, 'Ended by another staff member')
  made.endLater = await live(3, 'Ended from the audit page')
  const sam = await web.stack.signIn('agent')
  await web.stack
    .client(() => sam.token())
    .impersonation.end.mutate({ impersonationId: made.ended, reason: 'Customer withdrew consent' })
  await api.impersonation.start
    .mutate({ userId: web.account('banned').userId, reason: 'Denied attempt for the log' })
    .catch(() => undefined)
  made.denied = (await api.impersonation.list.query({ status: 'denied', limit: 1 })).items[0]!.id
})
afterAll(() => web?.close())
afterEach(() => {
  for (const w of mounted.splice(0)) w.unmount()
  document.body.innerHTML = ''
})

async function mountView(url = '/audit', role: 'admin' | 'agent' = 'admin') {
  const auth = await web.signedIn(role)
  const router = await routerAt(url, { path: '/audit', name: 'audit', component: AuditView }, ['/'])
  const wrapper = mount(AuditView, {
    global: { plugins: [...web.plugins(auth), router] },
    attachTo: document.body,
  })
  mounted.push(wrapper)
  await until(() => wrapper.find('tbody tr').exists(), 'the log')
  return wrapper
}
type Wrapper = Awaited<ReturnType<typeof mountView>>
const row = (w: Wrapper, id: string) => w.find(`tr[data-impersonation-id="${id}"]`)
/** A button's visible words, without the Timeline button's ▸/▾ (hidden from screen readers). */
const words = (b: { text(): string }) => b.text().replace(/^[▸▾]\s*/, '')
const buttons = (w: Wrapper, id: string) => row(w, id).findAll('button').map(words)
const sentence = (w: Wrapper, id: string) =>
  row(w, id).find('[data-testid="status-sentence"]').text()
const timeline = (w: Wrapper, id: string) => w.find(`#timeline-${id} [data-testid="timeline"]`)

describe('AuditView: statuses and timelines', () => {
  it('says what happened to each in plain words, and who ended it, by email, and why', async () => {
    const wrapper = await mountView()
    // the names of other staff members come from the directory
    await until(() => sentence(wrapper, made.ended).includes('@'), 'the ender’s email')
    expect(sentence(wrapper, made.ended)).toBe(
      `Ended by ${SAM().identifier}: Customer withdrew consent`,
    )
    expect(row(wrapper, made.ended).find('.badge').text()).toBe('Ended')
    expect(row(wrapper, made.live).find('.badge').text()).toBe('Signed in')
    expect(sentence(wrapper, made.live)).toMatch(/^Signed in at /)
    expect(row(wrapper, made.open).find('.badge').text()).toBe('Issued')
    expect(sentence(wrapper, made.open)).toMatch(/^Ticket issued, not used yet \(valid until /)
    expect(row(wrapper, made.readOnly).find('[data-testid="status-mode"]').text()).toBe('Read-only')
    expect(row(wrapper, made.open).find('[data-testid="status-mode"]').text()).toBe('Full access')
    expect(row(wrapper, made.denied).find('.badge').text()).toBe('Denied')
    expect(sentence(wrapper, made.denied)).toMatch(/^Denied: .*banned/i)
  })

  it('offers Revoke only for an unused ticket and End only for a live session', async () => {
    const wrapper = await mountView()
    expect(buttons(wrapper, made.open)).toEqual(['Timeline', 'Revoke'])
    expect(buttons(wrapper, made.live)).toEqual(['Timeline', 'End'])
    expect(buttons(wrapper, made.ended)).toEqual(['Timeline'])
    expect(buttons(wrapper, made.denied)).toEqual(['Timeline'])
  })

  it('opens a timeline below its row (keyboard: a button with aria-expanded), oldest event first', async () => {
    const wrapper = await mountView()
    const toggle = row(wrapper, made.ended)
      .findAll('button')
      .find((b) => words(b) === 'Timeline')!
    expect(toggle.attributes('aria-expanded')).toBe('false')
    expect(toggle.attributes('aria-controls')).toBe(`timeline-${made.ended}`)
    await toggle.trigger('click')
    expect(toggle.attributes('aria-expanded')).toBe('true')
    await until(() => timeline(wrapper, made.ended).exists(), 'the timeline')
    await until(
      () => timeline(wrapper, made.ended).text().includes(`Ended by ${SAM().identifier}`),
      'the ender’s email',
    )
    const entries = timeline(wrapper, made.ended)
      .findAll('li')
      .map((li) => li.find('.timeline__text').text())
    expect(entries).toEqual([
      `Requested by ${ADA().identifier}`,
      'Ticket issued',
      'Signed in to the customer application',
      `Ended by ${SAM().identifier}: Customer withdrew consent`,
    ])
    expect(timeline(wrapper, made.ended).text()).toContain('reason: Ended by another staff member')
    // to the second, as the row's own time: events a few seconds apart stay apart
    const seconds = (at: string) => String(new Date(at).getSeconds()).padStart(2, '0')
    for (const time of timeline(wrapper, made.ended).findAll('time')) {
      const at = time.attributes('datetime')!
      expect(time.text()).toMatch(new RegExp(`\\d:\\d{2}:${seconds(at)}\\b`))
    }
    const when = row(wrapper, made.ended).find('time')
    expect(when.text()).toMatch(
      new RegExp(`\\d:\\d{2}:${seconds(when.attributes('datetime')!)}\\b`),
    )
    await toggle.trigger('click')
    expect(toggle.attributes('aria-expanded')).toBe('false')
    expect(wrapper.find(`#timeline-${made.ended}`).exists()).toBe(false)
  })

  it('shows what the staff member did in the customer application, in time order', async () => {
    const guardToken = (await web.stack.m2mToken('helpdesk')).token
    const at = (ago: number) => new Date(Date.now() - ago).toISOString()
    await web.stack
      .client(() => guardToken)
      .impersonation.actions.mutate({
        sessionId: sessions.get(made.live)!,
        actions: [
          { method: 'GET', route: '/orders', status: 200, at: at(2000) },
          { method: 'POST', route: '/orders/:id/refund', status: 403, at: at(1000) },
        ],
      })
    const wrapper = await mountView(`/audit?open=${made.live}`)
    await until(() => timeline(wrapper, made.live).exists(), 'the timeline')
    const actions = timeline(wrapper, made.live)
      .findAll('li.timeline__entry--action')
      .map((li) => `${li.find('.timeline__text').text()} ${li.find('.timeline__detail').text()}`)
    expect(actions).toEqual([
      'In the customer application: GET /orders answered 200',
      'In the customer application: POST /orders/:id/refund answered 403',
    ])
    expect(wrapper.find(`#timeline-${made.live} [data-testid="timeline-actions"]`).text()).toBe(
      '2 requests in the customer application.',
    )
  })

  it('a link with ?open=<id> opens that timeline', async () => {
    const wrapper = await mountView(`/audit?open=${made.live}`)
    await until(() => timeline(wrapper, made.live).exists(), 'the timeline')
    expect(timeline(wrapper, made.live).text()).toContain('Signed in to the customer application')
    expect(wrapper.find(`#timeline-${made.open}`).exists()).toBe(false)
  })

  it('End on a live row: the reason dialog, then the row and its open timeline say who ended it and why', async () => {
    const wrapper = await mountView('/audit', 'agent')
    const toggle = row(wrapper, made.endLater)
      .findAll('button')
      .find((b) => words(b) === 'Timeline')!
    await toggle.trigger('click')
    await until(() => timeline(wrapper, made.endLater).exists(), 'the timeline')
    await row(wrapper, made.endLater)
      .findAll('button')
      .find((b) => b.text() === 'End')!
      .trigger('click')
    const dialog = wrapper.find('[data-testid="end-dialog"]')
    await until(() => (dialog.element as HTMLDialogElement).open, 'the dialog')
    expect(document.activeElement?.id).toBe('end-reason')
    await wrapper.find('#end-reason').setValue('Wrong customer selected')
    await dialog.find('form').trigger('submit')
    await until(() => row(wrapper, made.endLater).find('.badge').text() === 'Ended', 'the end')
    expect(buttons(wrapper, made.endLater)).toEqual(['Timeline'])
    await until(() => sentence(wrapper, made.endLater).includes('@'), 'the ender’s email')
    expect(sentence(wrapper, made.endLater)).toBe(
      `Ended by ${SAM().identifier}: Wrong customer selected`,
    )
    await until(
      () =>
        timeline(wrapper, made.endLater)
          .text()
          .includes(`Ended by ${SAM().identifier}: Wrong customer selected`),
      'the timeline to show the end',
    )
    // focus is back on the row, on its Timeline button
    expect(document.activeElement).toBe(toggle.element)
    expect((await web.stack.deps.audit.get(made.endLater))?.status).toBe('ended')
  })
})
