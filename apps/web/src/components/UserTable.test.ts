import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { UserSummary } from '@actas/contracts/client'
import { userSummary } from '../testing/harness'
import UserTable from './UserTable.vue'

const users = [
  userSummary({ id: 'user_a', fullName: 'Jane Doe', primaryEmail: 'jane@example.com' }),
  userSummary({
    id: 'user_b',
    fullName: 'Mallory Banks',
    banned: true,
    impersonation: {
      allowed: false,
      reason: 'Banned users cannot be impersonated.',
      rule: 'banned',
    },
  }),
  userSummary({
    id: 'user_c',
    fullName: 'Carl Cole',
    organizations: [{ id: 'org_1', name: 'Acme', slug: 'acme', role: 'org:member' }],
  }),
] as UserSummary[]

describe('UserTable', () => {
  it('shows each user with name, email, id, status and organizations', () => {
    const wrapper = mount(UserTable, { props: { users, loading: false } })
    const rows = wrapper.findAll('tbody tr')
    expect(rows).toHaveLength(3)
    expect(rows[0]!.text()).toContain('Jane Doe')
    expect(rows[0]!.text()).toContain('jane@example.com')
    expect(rows[0]!.text()).toContain('user_a')
    expect(rows[1]!.text()).toContain('Banned')
    expect(rows[2]!.text()).toContain('Acme')
  })

  it("disables Impersonate where the policy refuses, with the policy's reason as tooltip", async () => {
    const wrapper = mount(UserTable, { props: { users, loading: false } })
    const button = wrapper.findAll('tbody tr')[1]!.find('button.button')
    expect(button.attributes('disabled')).toBeDefined()
    expect(button.attributes('title')).toBe('Banned users cannot be impersonated.')
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
    expect(wrapper.emitted('impersonate')?.[0]?.[0]).toMatchObject({ id: 'user_c' })
    await rows[2]!.trigger('keydown', { key: 'ArrowUp' })
    expect(document.activeElement).toBe(rows[1]!.element)
    wrapper.unmount()
  })

  it('shows skeleton rows while the first page loads', () => {
    const wrapper = mount(UserTable, { props: { users: [], loading: true, skeletonRows: 4 } })
    expect(wrapper.findAll('tbody tr.skeleton-row')).toHaveLength(4)
  })
})
