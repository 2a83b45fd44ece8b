// The customer's side of access requests, as a customer sees it in the host application: the Vue
// component and the `<actas-customer-access>` custom element against the real ActAs API (the
// API's test stack in this process, listening on loopback: the local Clerk-compatible server,
// real sign-ins, PGlite). Support's pending requests are shown and approved or denied; a grant
// unasked and its revoke; who acted as the customer; an unreachable API says so and recovers by
// itself; every action works from the keyboard and leaves focus on what happened.
import './node-dom.ts'
import { passwordDigest } from '@actas/clerk-local'
import type { LocalUser } from '@actas/clerk-local'
import type { ActAsClient, AccessRecord } from '@actas/contracts/client'
import { failure, startAdminStack } from '@actas/api/testing'
import type { Stack } from '@actas/api/testing'
import { flushPromises, mount } from '@vue/test-utils'
import type { VueWrapper } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ActAsCustomerAccess } from '../src/index.ts'
import type { HostSession } from '../src/index.ts'

const PASSWORD = 'customer-pw-host-kit-1'
const INTERVAL_MS = 300

let stack: Stack
let api: ActAsClient
let apiUrl = ''
let cursor = 0
const wrappers: VueWrapper[] = []

/**
 * The API as the component reaches it: real HTTP, which a test may cut (an outage). Calls in
 * flight are awaited after each test (a poll answered after the API closed would hold its
 * keep-alive socket open).
 */
const link = { down: false, inFlight: new Set<Promise<unknown>>() }
const nodeFetch = globalThis.fetch
globalThis.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
  if (link.down && apiUrl && url.startsWith(apiUrl))
    return Promise.reject(new TypeError('fetch failed (ActAs unreachable)'))
  const call = nodeFetch(input, init)
  const settled = call.then(
    (res) => res.clone().arrayBuffer(),
    () => undefined,
  )
  link.inFlight.add(settled)
  void settled.finally(() => link.inFlight.delete(settled))
  return call
}

beforeAll(async () => {
  ;({ stack, api } = await startAdminStack({ env: { ACCESS_CONSENT_REQUIRED: 'all' } }))
  apiUrl = await stack.listen()
}, 120_000)

afterEach(async () => {
  while (wrappers.length) wrappers.pop()!.unmount()
  document.body.innerHTML = ''
  link.down = false
  while (link.inFlight.size > 0) await Promise.allSettled([...link.inFlight])
})

afterAll(async () => {
  globalThis.fetch = nodeFetch
  await stack?.close()
})

/** A customer of the host application, signed in (the host's Clerk session). */
async function customer(): Promise<{ user: LocalUser; session: HostSession }> {
  const user = stack.customers()[cursor++]!
  user.passwordDigest = passwordDigest(PASSWORD)
  const signedIn = await stack.signIn(
    { identifier: user.emailAddresses[0]!.emailAddress, password: PASSWORD },
    { organizationId: null },
  )
  return {
    user,
    session: { getToken: () => signedIn.token(), expireAt: () => null, userName: () => null },
  }
}

function mountFor(session: HostSession) {
  const wrapper = mount(ActAsCustomerAccess, {
    props: { apiUrl, session, intervalMs: INTERVAL_MS },
    attachTo: document.body,
  })
  wrappers.push(wrapper)
  return wrapper
}

async function until(what: string, check: () => boolean): Promise<void> {
  await vi.waitFor(
    async () => {
      await flushPromises()
      if (!check()) throw new Error(`waiting for ${what}`)
    },
    { timeout: 15_000, interval: 50 },
  )
}

/** Presses a button from the keyboard: focus, then the activation a browser makes of Enter. */
async function press(button: HTMLButtonElement): Promise<void> {
  button.focus()
  expect((button.getRootNode() as Document | ShadowRoot).activeElement).toBe(button)
  button.click()
  await flushPromises()
}

const buttonIn = (root: ParentNode, text: string) =>
  [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === text) ?? null

async function askAccess(userId: string, reason: string, mode: 'full' | 'read_only' = 'full') {
  return api.access.request.mutate({ userId, reason, mode, minutes: 60 })
}

describe('<ActAsCustomerAccess>', () => {
  it('shows support’s request; Approve grants it; the history lists the session; Revoke ends it', async () => {
    const { user, session } = await customer()
    const asked = await askAccess(user.id, 'Customer reports a broken invoice page')
    const wrapper = mountFor(session)
    await until('the request', () => wrapper.find('[data-testid="access-request"]').exists())
    const item = wrapper.get('[data-testid="access-request"]')
    expect(item.attributes('data-access-id')).toBe(asked.id)
    expect(item.text()).toMatch(
      /asks to act as you \(full access, up to 1 h 00 min\): .*Customer reports a broken invoice page/,
    )

    await press(buttonIn(item.element, 'Approve')!)
    await until('the approval', () => wrapper.text().includes('You approved the request.'))
    // The button pressed is gone with the request: focus is on what happened.
    expect(document.activeElement?.getAttribute('role')).toBe('status')
    expect(wrapper.find('[data-testid="access-request"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="access-grant"]').text()).toMatch(/full access until/)
    const changed = wrapper.emitted('changed') as [AccessRecord][]
    expect(changed.at(-1)![0]).toMatchObject({ id: asked.id, status: 'granted' })

    // Support acts as the customer under the grant: the history shows it, live.
    const started = await api.impersonation.start.mutate({
      userId: user.id,
      reason: 'Customer reports a broken invoice page',
      mode: 'full',
    })
    const impersonated = await stack.signInWithTicket(started.ticket)
    await stack
      .client(() => impersonated.token())
      .impersonation.signedIn.mutate({ sessionToken: await impersonated.token() })
    await until('the history row', () => wrapper.find('[data-testid="access-history"]').exists())
    const row = wrapper.get('[data-testid="access-history"]')
    expect(row.attributes('data-impersonation-id')).toBe(started.impersonationId)
    expect(row.text()).toContain('Customer reports a broken invoice page')
    expect(row.text()).toContain('Full access')
    expect(row.text()).toContain('(now)')

    await press(buttonIn(wrapper.get('[data-testid="access-grant"]').element, 'Revoke')!)
    await until('the revoke', () => wrapper.text().includes('Access revoked'))
    expect(wrapper.find('[data-testid="access-grant"]').exists()).toBe(false)
    expect(
      await api.impersonation.get.query({ impersonationId: started.impersonationId }),
    ).toMatchObject({ status: 'ended', endCause: 'access_revoked' })
    await until(
      'the ended session',
      () => !wrapper.get('[data-testid="access-history"]').text().includes('(now)'),
    )
  })

  it('Deny refuses the request; the staff side sees it denied', async () => {
    const { user, session } = await customer()
    const asked = await askAccess(user.id, 'Need to check the billing settings', 'read_only')
    const wrapper = mountFor(session)
    await until('the request', () => wrapper.find('[data-testid="access-request"]').exists())
    expect(wrapper.get('[data-testid="access-request"]').text()).toContain('read-only')
    await press(buttonIn(wrapper.element as HTMLElement, 'Deny')!)
    await until('the denial', () => wrapper.text().includes('You denied the request.'))
    expect(wrapper.text()).toContain('No requests.')
    const mine = await api.access.list.query({ view: 'mine', userId: user.id })
    expect(mine.items.find((r) => r.id === asked.id)?.status).toBe('denied')
  })

  it('lets support in unasked (read-only, 1 hour) with the form, from the keyboard', async () => {
    const { user, session } = await customer()
    const wrapper = mountFor(session)
    await until('loaded', () => wrapper.text().includes('No requests.'))
    expect(wrapper.text()).toContain('Nobody from support has acted as you.')
    // Labelled native controls: reachable with Tab, operable with the keyboard.
    const [modeSelect, lengthSelect] = wrapper.findAll('select')
    expect(modeSelect!.element.closest('label')?.textContent).toMatch(/^Mode/)
    expect(lengthSelect!.element.closest('label')?.textContent).toMatch(/^For/)
    await modeSelect!.setValue('read_only')
    await lengthSelect!.setValue('60')
    // Enter in a form submits it.
    await wrapper.get('form').trigger('submit')
    await until('the grant', () => wrapper.text().includes('Support may now access your account.'))
    expect(wrapper.get('[data-testid="access-grant"]').text()).toMatch(/read-only until/)
    // The grant is read-only: full is refused by the rule that says so; read-only starts.
    const full = await failure(
      api.impersonation.start.mutate({
        userId: user.id,
        reason: 'Customer asked us to look at the settings',
        mode: 'full',
      }),
    )
    expect(full).toMatchObject({ code: 'POLICY_DENIED', rule: 'grant_exceeded' })
    const readOnly = await api.impersonation.start.mutate({
      userId: user.id,
      reason: 'Customer asked us to look at the settings',
      mode: 'read_only',
    })
    expect(readOnly.mode).toBe('read_only')
  })

  it('says plainly when ActAs cannot be reached, keeps trying, and recovers by itself', async () => {
    const { user, session } = await customer()
    await askAccess(user.id, 'Customer cannot open the dashboard')
    link.down = true
    const wrapper = mountFor(session)
    await until('the alert', () => wrapper.find('[role="alert"]').exists())
    expect(wrapper.get('[role="alert"]').text()).toContain(
      'ActAs cannot be reached right now. Trying again every 1 s; what you see may be out of date.',
    )
    expect(wrapper.text()).not.toContain('fetch failed')
    expect(buttonIn(wrapper.element as HTMLElement, 'Try again now')).not.toBeNull()
    // Still down a few polls later: still the same message, no crash.
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 3))
    expect(wrapper.get('[role="alert"]').text()).toContain('ActAs cannot be reached right now')

    link.down = false
    await until('the recovery', () => wrapper.find('[data-testid="access-request"]').exists())
    expect(wrapper.find('[role="alert"]').exists()).toBe(false)

    // An action while it is down: said so, nothing claimed.
    link.down = true
    await press(buttonIn(wrapper.element as HTMLElement, 'Approve')!)
    await until('the action alert', () => wrapper.find('[role="alert"]').exists())
    expect(wrapper.get('[role="alert"]').text()).toContain(
      'ActAs could not be reached, so this may not have been saved. Try again in a moment.',
    )
    expect(wrapper.text()).not.toContain('You approved the request.')
    link.down = false
    await press(buttonIn(wrapper.element as HTMLElement, 'Approve')!)
    await until('the approval', () => wrapper.text().includes('You approved the request.'))
    expect(wrapper.find('[role="alert"]').exists()).toBe(false)
  })
})

describe('<actas-customer-access>', () => {
  it('works without Vue on the page: shows the request in its shadow root, approves it, fires `changed`', async () => {
    await import('../src/customer-access-element.ts')
    const { user, session } = await customer()
    const asked = await askAccess(user.id, 'Customer reports a missing export')
    const element = document.createElement('actas-customer-access') as HTMLElement & {
      apiUrl: string
      session: HostSession
      intervalMs: number
    }
    element.setAttribute('api-url', apiUrl)
    element.session = session
    element.intervalMs = INTERVAL_MS
    const changed: AccessRecord[] = []
    element.addEventListener('changed', (e) =>
      changed.push((e as CustomEvent<[AccessRecord]>).detail[0]),
    )
    document.body.append(element)
    const root = element.shadowRoot!
    expect(root).not.toBeNull()
    await until('the request', () => root.querySelector('[data-testid="access-request"]') !== null)
    expect(root.querySelector('style')?.textContent).toContain('.actas-access')
    expect(root.querySelector('[data-testid="access-request"]')!.textContent).toContain(
      'Customer reports a missing export',
    )

    await press(buttonIn(root, 'Approve')!)
    await until('the approval', () =>
      (root.textContent ?? '').includes('You approved the request.'),
    )
    expect(root.activeElement?.getAttribute('role')).toBe('status')
    expect(changed.at(-1)).toMatchObject({ id: asked.id, status: 'granted' })
    expect(root.querySelector('[data-testid="access-grant"]')?.textContent).toMatch(
      /full access until/,
    )
    element.remove()
  })
})
