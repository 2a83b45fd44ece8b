import { describe, expect, it } from 'vitest'
import { impersonationEvent as event, impersonationGot as got } from '../../test/support/records'
import { endedWhileAwaySentence } from './return-words'

describe('endedWhileAwaySentence: the users page after an end while the tab was away', () => {
  it('names the colleague by the email recorded with the end, and their reason', () => {
    const record = got({
      status: 'ended',
      endCause: 'ended_by_staff',
      endedBy: 'user_grace',
      endReason: 'Wrong customer',
      endedAt: '2026-11-29T12:05:00Z',
      events: [
        event({}),
        event({
          seq: 2,
          type: 'ended',
          cause: 'ended_by_staff',
          by: 'user_grace',
          reason: 'Wrong customer',
          data: { byEmail: 'grace@support.test' },
        }),
      ],
    })
    expect(endedWhileAwaySentence(record, 'Bella Swan')).toBe(
      'Ended by grace@support.test: Wrong customer. You are no longer acting as Bella Swan.',
    )
  })

  it('says a policy end in the audit words, and no email it does not know', () => {
    const record = got({ status: 'ended', endCause: 'target_banned', endedBy: 'system' })
    expect(endedWhileAwaySentence(record, 'Bella Swan')).toBe(
      'Ended by policy: the customer was banned. You are no longer acting as Bella Swan.',
    )
    const unnamed = got({ status: 'ended', endCause: 'ended_by_staff', endedBy: 'user_grace' })
    expect(endedWhileAwaySentence(unnamed, 'Bella Swan')).toBe(
      'Ended by a staff member. You are no longer acting as Bella Swan.',
    )
  })

  it('claims no cause ActAs has not recorded yet', () => {
    expect(endedWhileAwaySentence(got({}), 'Bella Swan')).toBe(
      'Your impersonation of Bella Swan has ended.',
    )
  })
})
