import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { userSummary } from '../testing/harness'
import UserTable from './UserTable.vue'

describe('UserTable, phone search', () => {
  it('shows the phone on the rows the query matched by phone, and only there', () => {
    const users = [
      userSummary({ id: 'user_p', fullName: 'Paul Phone', matchedPhone: '+33 6 54 61 67 17' }),
      userSummary({ id: 'user_e', fullName: 'Emma Email' }),
    ]
    const wrapper = mount(UserTable, { props: { users, loading: false } })
    const rows = wrapper.findAll('tbody tr')
    expect(rows[0]!.find('[data-testid="matched-phone"]').text()).toContain('+33 6 54 61 67 17')
    expect(rows[1]!.find('[data-testid="matched-phone"]').exists()).toBe(false)
  })
})
