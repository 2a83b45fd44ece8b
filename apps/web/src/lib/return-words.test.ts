import type { ImpersonationEvent, ImpersonationGetOutput } from '@actas/contracts/client'
import { describe, expect, it } from 'vitest'
import { endedWhileAwaySentence } from './return-words'

function event(over: Partial<ImpersonationEvent>): ImpersonationEvent {
  return {
    seq: 1,
    type: 'requested',
    cause: null,
    by: null,
    reason: null,
    clerkSessionId: null,
    data: {},
    at: '2026-11-29T11:59:00Z',
    prevHash: '0',
    hash: '1',
    ...over,
  }
}

function got(over: Partial<ImpersonationGetOutput>): ImpersonationGetOutput {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    actor: { id: 'user_ada', email: 'ada@support.test' },
    user: { id: 'user_bella', email: 'bella@example.com' },
    reason: 'Customer reports missing invoices',
    ticketUrl: null,
    mode: 'full',
    status: 'signed_in',
    outcomeCode: null,
    outcomeMessage: null,
    clerkActorTokenId: 'act_1',
    sessionMinutes: 30,
    expiresAt: '2026-11-29T12:10:00Z',
    sessionExpiresAt: '2026-11-29T12:40:00Z',
    clerkSessionId: 'sess_1',
    signedInAt: '2026-11-29T12:00:00Z',
    endedAt: null,
    endCause: null,
    endedBy: null,
    endReason: null,
    attempts: 1,
    createdAt: '2026-11-29T11:59:00Z',
    updatedAt: '2026-11-29T11:59:00Z',
    requestId: null,
    ip: null,
    userAgent: null,
    events: [event({})],
    actions: [],
    actionsTotal: 0,
    ...over,
  }
}

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
