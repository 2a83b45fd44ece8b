import { mount } from '@vue/test-utils'
import type { VueWrapper } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { localClerkAuth, routerAt, until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import ActiveView from './ActiveView.vue'

let web: WebStack
const mounted: VueWrapper[] = []

beforeAll(async () => {
  web = await webStack()
  // A second staff member with the permission: Sam (the agent) becomes an admin of Support.
  const sam = web.account('agent')
  const membership = web.stack.clerk.state.membershipsOfUser(sam.userId)[0]!
  web.stack.clerk.state.setMembershipRole(membership, 'admin')
})
afterAll(() => web?.close())
afterEach(async () => {
  for (const w of mounted.splice(0)) w.unmount()
  web.stack.clerk.faults.clear()
  await web.setApi('up')
  document.body.innerHTML = ''
})

/** A live impersonation: the admin starts it, the ticket signs in, the console reports it. */
async function live(customer: number, reason: string) {
  const c = web.stack.customers()[customer]!
  const started = await web.impersonating(c.id, reason)
  const token = await started.auth.getToken()
  await web.api(started.auth).impersonation.signedIn.mutate({ sessionToken: token! })
  return { ...started, email: c.emailAddresses[0]!.emailAddress }
}

/** A live read-only impersonation, started by the admin with `mode: 'read_only'`. */
async function liveReadOnly(customer: number, reason: string) {
  const c = web.stack.customers()[customer]!
  const ada = await web.stack.signIn('admin')
  const started = await web.stack
    .client(() => ada.token())
    .impersonation.start.mutate({ userId: c.id, reason, mode: 'read_only' })
  const auth = localClerkAuth(web.stack)
  await auth.signInWithTicket(started.ticket)
  await web.api(auth).impersonation.signedIn.mutate({ sessionToken: (await auth.getToken())! })
  return started.impersonationId
}

async function mountView(role: 'admin' | 'agent' = 'agent') {
  const auth = await web.signedIn(role)
  const router = await routerAt(
    '/active',
    { path: '/active', name: 'active', component: ActiveView },
    ['/audit'],
  )
  const wrapper = mount(ActiveView, {
    global: { plugins: [...web.plugins(auth), router] },
    attachTo: document.body,
  })
  mounted.push(wrapper)
  return wrapper
}
type Wrapper = Awaited<ReturnType<typeof mountView>>
const card = (w: Wrapper, id: string) => w.find(`li[data-impersonation-id="${id}"]`)
const endButton = (w: Wrapper, id: string) =>
  card(w, id)
    .findAll('button')
    .find((b) => b.text() === 'End')!

describe('ActiveView', () => {
  it('says nobody is impersonating when nothing is live, and when it was updated', async () => {
    const wrapper = await mountView()
    await until(() => wrapper.find('[data-testid="active-empty"]').exists(), 'the empty state')
    expect(wrapper.text()).toContain('Nobody is impersonating anyone')
    expect(wrapper.find('[data-testid="active-updated"]').text()).toMatch(/^Updated \d+ s ago$/)
  })

  it('shows who acts as whom, since when, why, time left (ticking) and last active', async () => {
    const one = await live(0, 'Checking the invoice totals (board)')
    const wrapper = await mountView()
    await until(() => card(wrapper, one.impersonationId).exists(), 'the card')
    const c = card(wrapper, one.impersonationId)
    expect(c.find('[data-testid="active-actor"]').text()).toBe(web.account('admin').identifier)
    expect(c.find('[data-testid="active-user"]').text()).toBe(one.email)
    expect(c.text()).toContain('Checking the invoice totals (board)')
    expect(c.text()).toMatch(/Since.*\(\d+ s ago\)/s)
    expect(c.find('[data-testid="active-last-active"]').text()).toMatch(/\d+ (s|min) ago/)
    const left = c.find('[data-testid="active-time-left"]').text()
    expect(left).toMatch(/^(30:00|29:\d\d)$/)
    await until(
      () =>
        card(wrapper, one.impersonationId).find('[data-testid="active-time-left"]').text() !== left,
      'the countdown to tick',
    )
    expect(wrapper.find('[data-testid="active-status"]').text()).toContain('1 live impersonation')
  })

  it('shows the access mode: read-only or full', async () => {
    const readOnly = await liveReadOnly(4, 'Looking without touching (board)')
    const wrapper = await mountView()
    await until(() => card(wrapper, readOnly).exists(), 'the card')
    expect(card(wrapper, readOnly).find('[data-testid="active-mode"]').text()).toBe('Read-only')
    const full = wrapper
      .findAll('li[data-impersonation-id]')
      .find((li) => li.attributes('data-impersonation-id') !== readOnly)!
    expect(full.find('[data-testid="active-mode"]').text()).toBe('Full access')
  })

  it('refreshes by itself: an impersonation started elsewhere appears', async () => {
    const wrapper = await mountView()
    await until(() => wrapper.find('li[data-impersonation-id]').exists(), 'the list')
    const two = await live(1, 'Started while the board is open')
    await until(() => card(wrapper, two.impersonationId).exists(), 'the next poll')
    expect(card(wrapper, two.impersonationId).text()).toContain('Started while the board is open')
  })

  it('End asks for a reason in a dialog, ends it in Clerk and the log, and the card goes', async () => {
    const three = await live(2, 'To be ended from the board')
    const wrapper = await mountView('agent')
    await until(() => card(wrapper, three.impersonationId).exists(), 'the card')
    const button = endButton(wrapper, three.impersonationId)
    ;(button.element as HTMLElement).focus()
    await button.trigger('click')
    await until(() => (wrapper.find('dialog').element as HTMLDialogElement).open, 'the dialog')
    // focus is in the dialog, on the reason
    expect(document.activeElement?.id).toBe('end-reason')
    expect(wrapper.find('dialog').text()).toContain(three.email)

    // Cancel ends nothing and puts focus back on End
    await wrapper
      .findAll('dialog button')
      .find((b) => b.text() === 'Cancel')!
      .trigger('click')
    expect((wrapper.find('dialog').element as HTMLDialogElement).open).toBe(false)
    expect(document.activeElement).toBe(button.element)
    expect((await web.stack.deps.audit.get(three.impersonationId))?.status).toBe('signed_in')

    // the reason is required, and as long as an impersonation's
    await button.trigger('click')
    await until(() => (wrapper.find('dialog').element as HTMLDialogElement).open, 'the dialog')
    await wrapper.find('dialog form').trigger('submit')
    expect(wrapper.find('#end-reason-help').text()).toBe('A reason is required.')
    await wrapper.find('#end-reason').setValue('too short')
    await wrapper.find('dialog form').trigger('submit')
    expect(wrapper.find('#end-reason-help').text()).toBe('Give at least 10 characters.')
    expect((await web.stack.deps.audit.get(three.impersonationId))?.status).toBe('signed_in')

    await wrapper.find('#end-reason').setValue('Customer withdrew consent')
    await wrapper.find('dialog form').trigger('submit')
    await until(() => !card(wrapper, three.impersonationId).exists(), 'the card to go')
    expect((wrapper.find('dialog').element as HTMLDialogElement).open).toBe(false)
    const row = await web.stack.deps.audit.get(three.impersonationId)
    expect(row).toMatchObject({
      status: 'ended',
      endCause: 'ended_by_staff',
      endedBy: web.account('agent').userId,
      endReason: 'Customer withdrew consent',
    })
    // the impersonated session is over in Clerk
    expect(await three.auth.getToken().catch(() => null)).toBeNull()
    expect(wrapper.find('[data-testid="active-status"]').text()).toContain(
      `Ended the impersonation of ${three.email}.`,
    )
    // focus stays on the page: the next card's End, or the heading
    expect(document.activeElement).not.toBe(document.body)
    expect(document.activeElement?.isConnected).toBe(true)
  })

  it('when Clerk cannot end it: the end is recorded at once (the staff member’s), the dialog stays open with Clerk’s wait, and Try again ends it in Clerk', async () => {
    const four = await live(3, 'Clerk is down while ending')
    const wrapper = await mountView()
    await until(() => card(wrapper, four.impersonationId).exists(), 'the card')
    await endButton(wrapper, four.impersonationId).trigger('click')
    await until(() => (wrapper.find('dialog').element as HTMLDialogElement).open, 'the dialog')
    web.stack.clerk.faults.add({ route: 'GET /v1/sessions', status: 503, retryAfterSeconds: 7 })
    web.stack.clerk.faults.add({
      route: 'POST /v1/sessions/:session_id/revoke',
      status: 503,
      retryAfterSeconds: 7,
    })
    await wrapper.find('#end-reason').setValue('Ending while Clerk is down')
    await wrapper.find('dialog form').trigger('submit')
    await until(() => wrapper.find('dialog [role="alert"]').exists(), 'the error')
    expect(wrapper.find('dialog [role="alert"]').text()).toMatch(/Clerk unavailable.*Try again/s)
    expect((wrapper.find('dialog').element as HTMLDialogElement).open).toBe(true)
    // The kill switch's cause is decided first: ActAs and the guards refuse the session already.
    expect(await web.stack.deps.audit.get(four.impersonationId)).toMatchObject({
      status: 'ended',
      endCause: 'ended_by_staff',
      endReason: 'Ending while Clerk is down',
    })
    // Clerk is back: the same dialog ends it in Clerk too
    web.stack.clerk.faults.clear()
    await wrapper.find('dialog form').trigger('submit')
    await until(() => !card(wrapper, four.impersonationId).exists(), 'the card to go')
    expect((await web.stack.deps.audit.get(four.impersonationId))?.status).toBe('ended')
    expect(await four.auth.getToken().catch(() => null)).toBeNull()
  })

  it('says plainly when the API cannot be reached, keeps the last list marked stale, and recovers', async () => {
    const wrapper = await mountView()
    await until(() => wrapper.find('li[data-impersonation-id]').exists(), 'the list')
    await web.setApi('stopped')
    await until(
      () => wrapper.find('[data-testid="active-error"]').exists(),
      'the next poll to fail',
    )
    const error = wrapper.find('[data-testid="active-error"]')
    expect(error.text()).toContain('ActAs unreachable')
    expect(error.text()).toMatch(/as it was \d+ s ago; it may be out of date/)
    expect(wrapper.find('li[data-impersonation-id]').exists()).toBe(true)
    await web.setApi('up')
    await error
      .findAll('button')
      .find((b) => b.text() === 'Try again')!
      .trigger('click')
    await until(() => !wrapper.find('[data-testid="active-error"]').exists(), 'the recovery')
  })

  it('a first load against a stopped API shows the error, not an empty board', async () => {
    await web.setApi('stopped')
    const wrapper = await mountView()
    await until(() => wrapper.find('[data-testid="active-error"]').exists(), 'the error')
    expect(wrapper.find('[data-testid="active-empty"]').exists()).toBe(false)
    expect(wrapper.find('li[data-impersonation-id]').exists()).toBe(false)
  })
})
