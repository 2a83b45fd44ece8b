import type { UserSummary } from '@actas/contracts/client'
import { mount } from '@vue/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webStack } from '../testing/harness'
import type { WebStack } from '../testing/harness'
import UserTable from './UserTable.vue'

let web: WebStack
/** Rows as the API answers them to the admin: a customer, the banned account, an org member. */
let users: UserSummary[]

beforeAll(async () => {
  web = await webStack()
  const api = web.api(await web.signedIn('admin'))
  const find = async (query: string) => (await api.users.search.query({ query })).items[0]!
  const orgMember = [...web.stack.clerk.state.users.values()].find(
    (u) =>
      !web.stack.clerk.accounts.some((a) => a.userId === u.id) &&
      web.stack.clerk.state.membershipsOfUser(u.id).length > 0,
  )!
  users = [
    await find(web.stack.customers()[0]!.id),
    await find(web.account('banned').userId),
    await find(orgMember.id),
  ]
})
afterAll(() => web?.close())

describe('UserTable', () => {
  it('shows each user with name, email, id, status and organizations', () => {
    const wrapper = mount(UserTable, { props: { users, loading: false } })
    const rows = wrapper.findAll('tbody tr')
    expect(rows).toHaveLength(3)
    expect(rows[0]!.text()).toContain(users[0]!.fullName!)
    expect(rows[0]!.text()).toContain(users[0]!.primaryEmail!)
    expect(rows[0]!.text()).toContain(users[0]!.id)
    expect(rows[1]!.text()).toContain('Banned')
    expect(rows[2]!.text()).toContain(users[2]!.organizations[0]!.name)
  })

  it("disables Impersonate where the policy refuses, with the policy's reason", async () => {
    const wrapper = mount(UserTable, { props: { users, loading: false } })
    const button = wrapper.findAll('tbody tr')[1]!.find('button.button')
    expect(button.attributes('disabled')).toBeDefined()
    expect(button.attributes('title')).toMatch(/banned/i)
    await button.trigger('click')
    expect(wrapper.emitted('impersonate')).toBeUndefined()
  })

  it('moves between rows with the arrow keys and opens the dialog with Enter', async () => {
    const wrapper = mount(UserTable, { props: { users, loading: false }, attachTo: document.body })
    const rows = wrapper.findAll('tbody tr')
    ;(rows[0]!.element as HTMLElement).focus()
    await rows[0]!.trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement).toBe(rows[1]!.element)
    await rows[1]!.trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('impersonate')).toBeUndefined() // banned: not allowed
    await rows[1]!.trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement).toBe(rows[2]!.element)
    await rows[2]!.trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('impersonate')?.[0]?.[0]).toMatchObject({ id: users[2]!.id })
    await rows[2]!.trigger('keydown', { key: 'ArrowUp' })
    expect(document.activeElement).toBe(rows[1]!.element)
    wrapper.unmount()
  })

  it('shows skeleton rows while the first page loads', () => {
    const wrapper = mount(UserTable, { props: { users: [], loading: true, skeletonRows: 4 } })
    expect(wrapper.findAll('tbody tr.skeleton-row')).toHaveLength(4)
  })
})
