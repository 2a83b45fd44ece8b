// Approval required only for full access (ACCESS_APPROVAL_REQUIRED=full), against the real API:
// the row offers read-only Impersonate and "Request full access" beside it; the dialog explains
// why, asks for full access by default, and the request waits for a second staff member.
import type { UserSummary } from '@actas/contracts/client'
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import RequestAccessDialog from './RequestAccessDialog.vue'
import UserTable from './UserTable.vue'

let web: WebStack
let row: UserSummary

beforeAll(async () => {
  web = await webStack({ env: { ACCESS_APPROVAL_REQUIRED: 'full' } })
  const api = web.api(await web.signedIn('admin'))
  row = (await api.users.search.query({ query: web.stack.customers()[0]!.id })).items[0]!
})
afterAll(() => web?.close())
afterEach(() => {
  document.body.innerHTML = ''
})

describe('Request full access (approval required only for full)', () => {
  it('the row offers read-only Impersonate and Request full access', async () => {
    expect(row.impersonation).toMatchObject({
      allowed: true,
      modes: ['read_only'],
      modeRule: 'approval_required',
    })
    const table = mount(UserTable, {
      props: { users: [row], loading: false },
      attachTo: document.body,
    })
    expect(table.find('button[aria-label^="Impersonate"]').exists()).toBe(true)
    expect(table.find('[data-testid="request-access"]').exists()).toBe(false)
    const full = table.get('[data-testid="request-full-access"]')
    expect(full.text()).toBe('Request full access')
    await full.trigger('click')
    expect(table.emitted('requestAccess')?.[0]).toEqual([row])
    expect(table.emitted('impersonate')).toBeUndefined()
  })

  it('a row read-only for another rule offers no Request full access', () => {
    const other: UserSummary = {
      ...row,
      impersonation: { allowed: true, modes: ['read_only'], defaultMode: 'read_only' },
    }
    const table = mount(UserTable, {
      props: { users: [other], loading: false },
      attachTo: document.body,
    })
    expect(table.find('button[aria-label^="Impersonate"]').exists()).toBe(true)
    expect(table.find('[data-testid="request-full-access"]').exists()).toBe(false)
  })

  it('the dialog says why, asks for full access, and waits for a second staff member', async () => {
    const auth = await web.signedIn('admin')
    const dialog = mount(RequestAccessDialog, {
      props: { user: row },
      attachTo: document.body,
      global: { plugins: web.plugins(auth) },
    })
    expect(dialog.get('[data-testid="request-why"]').text()).toBe(row.impersonation.modeReason)
    expect(
      (dialog.get('input[type="radio"][value="full"]').element as HTMLInputElement).checked,
    ).toBe(true)
    await dialog.get('textarea').setValue('Customer needs an order re-placed for her')
    await dialog.get('form').trigger('submit')
    await until(() => dialog.find('[data-testid="request-state"]').exists(), 'the request state')
    expect(dialog.get('[data-testid="request-state"]').text()).toMatch(
      /Waiting for a decision: a second staff member's approval/,
    )
    const api = web.api(auth)
    const mine = await api.access.list.query({ view: 'mine', userId: row.id })
    expect(mine.items[0]).toMatchObject({
      mode: 'full',
      status: 'pending',
    })
  })
})
