import type { UserSummary } from '@actas/contracts/client'
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import UserTable from './UserTable.vue'

let web: WebStack
/** Rows as the API answers them to the admin. */
let customer: UserSummary
let orgMember: UserSummary
let refused: Record<'banned' | 'locked' | 'agent' | 'admin', UserSummary>
let firstPage: UserSummary[]

beforeAll(async () => {
  web = await webStack()
  const api = web.api(await web.signedIn('admin'))
  const find = async (id: string) => (await api.users.search.query({ query: id })).items[0]!
  const member = [...web.stack.clerk.state.users.values()].find(
    (u) =>
      !web.stack.clerk.accounts.some((a) => a.userId === u.id) &&
      web.stack.clerk.state.membershipsOfUser(u.id).length > 0,
  )!
  customer = await find(web.stack.customers()[0]!.id)
  orgMember = await find(member.id)
  refused = {
    banned: await find(web.account('banned').userId),
    locked: await find(web.account('locked').userId),
    agent: await find(web.account('agent').userId),
    admin: await find(web.account('admin').userId),
  }
  firstPage = (await api.users.search.query({ limit: 20 })).items
})
afterAll(() => web?.close())
afterEach(() => {
  document.body.innerHTML = ''
})

const mountTable = (users: UserSummary[]) =>
  mount(UserTable, { props: { users, loading: false }, attachTo: document.body })

describe('UserTable: last sign-in', () => {
  it('marks a last sign-in that was an impersonation (the audit log knows), and only that one', async () => {
    const target = web.stack.customers()[5]!
    const started = await web.impersonating(target.id, 'Checking the last sign-in column')
    const token = await started.auth.getToken()
    await web.api(started.auth).impersonation.signedIn.mutate({ sessionToken: token! })
    const api = web.api(await web.signedIn('admin'))
    const row = async () => (await api.users.search.query({ query: target.id })).items[0]!
    const impersonated = await row()
    expect(impersonated.lastSignInImpersonated).toBe(true)
    const wrapper = mountTable([impersonated, customer])
    const [mine, other] = wrapper.findAll('tbody tr')
    expect(mine!.find('[data-testid="last-sign-in-impersonated"]').text()).toBe(
      'by staff (an impersonation)',
    )
    expect(other!.find('[data-testid="last-sign-in-impersonated"]').exists()).toBe(false)
    wrapper.unmount()

    // The customer signs in again later, by themselves: Clerk's last sign-in is theirs again.
    web.stack.clerk.state.users.get(target.id)!.lastSignInAt = Date.now() + 60_000
    expect((await row()).lastSignInImpersonated).toBeUndefined()
  })
})

describe('UserTable', () => {
  it('shows each user with name, email, id, status and organizations', () => {
    const wrapper = mountTable([customer, refused.banned, orgMember])
    const rows = wrapper.findAll('tbody tr')
    expect(rows).toHaveLength(3)
    expect(rows[0]!.text()).toContain(customer.fullName!)
    expect(rows[0]!.text()).toContain(customer.primaryEmail!)
    expect(rows[0]!.text()).toContain(customer.id)
    expect(rows[1]!.text()).toContain('Banned')
    expect(rows[2]!.text()).toContain(orgMember.organizations[0]!.name)
  })

  it.each([
    ['banned', 'Banned', /banned/i],
    ['locked', 'Locked', /locked/i],
    ['agent', 'Staff', /staff/i],
    ['admin', 'You', /yourself/i],
  ] as const)(
    'says on the row why %s cannot be impersonated (%s), with the full sentence as its description',
    (who, label, sentence) => {
      const wrapper = mountTable([customer, refused[who]])
      const row = wrapper.findAll('tbody tr')[1]!
      expect(row.find('.why-not__label').text()).toBe(label)
      expect(row.findAll('button').filter((b) => b.text() === 'Impersonate')).toHaveLength(0)
      // screen readers: the row's name carries the label, its description the sentence
      expect(row.attributes('aria-label')).toContain(label)
      const described = document.getElementById(row.attributes('aria-describedby')!)
      expect(described?.textContent).toMatch(sentence)
      // a customer's row offers the action instead
      expect(wrapper.findAll('tbody tr')[0]!.find('.why-not').exists()).toBe(false)
    },
  )

  it('is one Tab stop; arrows move one row at a time in order, Home/End jump', async () => {
    const wrapper = mountTable(firstPage)
    const rows = wrapper.findAll('tbody tr').map((r) => r.element as HTMLElement)
    expect(rows).toHaveLength(20)
    const tabStops = () =>
      [...(wrapper.element as HTMLElement).querySelectorAll('a, button, input, [tabindex]')]
        .map((e) => e as HTMLElement)
        .filter((e) => e.tabIndex >= 0)
    expect(tabStops()).toEqual([rows[0]])
    rows[0]!.focus()
    const seen: number[] = []
    for (let i = 0; i < 19; i++) {
      await wrapper.find(`tbody tr[data-index="${i}"]`).trigger('keydown', { key: 'ArrowDown' })
      seen.push(rows.indexOf(document.activeElement as HTMLElement))
    }
    expect(seen).toEqual(Array.from({ length: 19 }, (_, i) => i + 1))
    await wrapper.find('tbody tr[data-index="19"]').trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement).toBe(rows[19])
    await wrapper.find('tbody tr[data-index="19"]').trigger('keydown', { key: 'Home' })
    expect(document.activeElement).toBe(rows[0])
    await wrapper.find('tbody tr[data-index="0"]').trigger('keydown', { key: 'End' })
    expect(document.activeElement).toBe(rows[19])
    await wrapper.find('tbody tr[data-index="19"]').trigger('keydown', { key: 'ArrowUp' })
    expect(document.activeElement).toBe(rows[18])
    // the Tab stop moved with the focus
    expect(tabStops()).toEqual([rows[18]])
  })

  it('opens the dialog with Enter on a row that may be impersonated, not on a refused one', async () => {
    const wrapper = mountTable([refused.banned, customer])
    await wrapper.find('tbody tr[data-index="0"]').trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('impersonate')).toBeUndefined()
    await wrapper.find('tbody tr[data-index="1"]').trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('impersonate')?.[0]?.[0]).toMatchObject({ id: customer.id })
  })

  it('shows skeleton rows while the first page loads', () => {
    const wrapper = mount(UserTable, { props: { users: [], loading: true, skeletonRows: 4 } })
    expect(wrapper.findAll('tbody tr.skeleton-row')).toHaveLength(4)
  })
})
