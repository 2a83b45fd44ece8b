// Request access in the console, against the real API (consent required for everyone here): the
// row offers Request access (the why-not names the rule), the dialog asks for it and shows its
// state live; once the customer approves (through the API's customer.* as the customer would, in
// the host application), the dialog offers Impersonate from the grant.
import type { UserSummary } from '@actas/contracts/client'
import { passwordDigest } from '@actas/clerk-local'
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import RequestAccessDialog from './RequestAccessDialog.vue'
import UserTable from './UserTable.vue'

const PASSWORD = 'customer-pw-console-1'

let web: WebStack
let row: UserSummary

beforeAll(async () => {
  web = await webStack({ env: { ACCESS_CONSENT_REQUIRED: 'all' } })
  const customer = web.stack.customers()[0]!
  customer.passwordDigest = passwordDigest(PASSWORD)
  const api = web.api(await web.signedIn('admin'))
  row = (await api.users.search.query({ query: customer.id })).items[0]!
})
afterAll(() => web?.close())
afterEach(() => {
  document.body.innerHTML = ''
})

describe('Request access', () => {
  it('the row offers Request access, naming the rule, instead of Impersonate', async () => {
    expect(row.impersonation).toMatchObject({ allowed: false, rule: 'consent_required' })
    const table = mount(UserTable, {
      props: { users: [row], loading: false },
      attachTo: document.body,
    })
    expect(table.find('button[aria-label^="Impersonate"]').exists()).toBe(false)
    expect(table.text()).toContain('Consent needed')
    await table.get('[data-testid="request-access"]').trigger('click')
    expect(table.emitted('requestAccess')?.[0]).toEqual([row])
  })

  it('asks, shows the state live, and offers Impersonate once the customer approves', async () => {
    const auth = await web.signedIn('admin')
    const dialog = mount(RequestAccessDialog, {
      props: { user: row },
      attachTo: document.body,
      global: { plugins: web.plugins(auth) },
    })
    expect(dialog.get('[data-testid="request-why"]').text()).toMatch(/consent is required/)
    await dialog.get('textarea').setValue('Customer reports a broken invoice page')
    await dialog.get('form').trigger('submit')
    await until(() => dialog.find('[data-testid="request-state"]').exists(), 'the request state')
    expect(dialog.get('[data-testid="request-state"]').text()).toMatch(
      /Waiting for a decision: the customer's consent/,
    )

    // The customer approves in the host application (ActAs's customer.* with their session).
    const customer = await web.stack.signIn(
      { identifier: web.stack.customers()[0]!.emailAddresses[0]!.emailAddress, password: PASSWORD },
      { organizationId: null },
    )
    const asCustomer = web.stack.client(() => customer.token())
    const [pending] = (await asCustomer.customer.requests.query()).items
    await asCustomer.customer.decide.mutate({ accessId: pending!.id, decision: 'approve' })

    await until(
      () => dialog.find('[data-testid="request-impersonate"]').exists(),
      'Impersonate from the grant',
    )
    expect(dialog.get('[data-testid="request-state"]').text()).toMatch(/Granted/)
    await dialog.get('[data-testid="request-impersonate"]').trigger('click')
    expect(dialog.emitted('impersonate')?.[0]).toEqual([row])
  })

  it('while a request waits, Ask for something else replaces it (read-only instead of full)', async () => {
    const auth = await web.signedIn('admin')
    const api = web.api(auth)
    const customer = web.stack.customers()[1]!
    const other = (await api.users.search.query({ query: customer.id })).items[0]!
    const dialog = mount(RequestAccessDialog, {
      props: { user: other },
      attachTo: document.body,
      global: { plugins: web.plugins(auth) },
    })
    await dialog.get('textarea').setValue('Customer reports a broken invoice page')
    await dialog.get('input[value="full"]').setValue(true)
    await dialog.get('form').trigger('submit')
    await until(() => dialog.find('[data-testid="request-change"]').exists(), 'the pending request')
    const first = (await api.access.list.query({ view: 'mine', userId: customer.id })).items[0]!
    expect(first).toMatchObject({ status: 'pending', mode: 'full' })

    await dialog.get('[data-testid="request-change"]').trigger('click')
    expect(dialog.get('[data-testid="request-replaces"]').text()).toMatch(
      /replaces your pending request/,
    )
    // The pending request's words are kept; the caret is in the reason.
    expect((dialog.get('textarea').element as HTMLTextAreaElement).value).toBe(
      'Customer reports a broken invoice page',
    )
    expect(document.activeElement?.id).toBe('request-reason')
    await dialog.get('input[value="read_only"]').setValue(true)
    await dialog.get('form').trigger('submit')
    await until(() => dialog.find('[data-testid="request-state"]').exists(), 'the new request')
    expect(dialog.get('[data-testid="request-state"]').text()).toMatch(/Waiting for a decision/)

    const mine = (await api.access.list.query({ view: 'mine', userId: customer.id })).items
    expect(mine[0]).toMatchObject({ status: 'pending', mode: 'read_only' })
    expect(mine.find((r) => r.id === first.id)).toMatchObject({
      status: 'revoked',
      settled: { cause: 'superseded' },
    })
  })
})
