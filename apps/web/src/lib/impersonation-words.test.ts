import { END_CAUSES, IMPERSONATION_STATUSES } from '@actas/contracts/client'
import type { ImpersonationRecord } from '@actas/contracts/client'
import { describe, expect, it } from 'vitest'
import {
  actionsOf,
  ago,
  causeWords,
  eventWords,
  modeOf,
  STATUS_WORDS,
  statusSentence,
  timelineEntries,
} from './impersonation-words'
import {
  impersonationEvent as event,
  impersonationRecord as record,
} from '../../test/support/records'

const names: Record<string, string> = { user_sam: 'sam@support.test', user_ada: 'ada@support.test' }
const name = (id: string) => names[id] ?? id
const NOW = Date.parse('2026-11-29T12:00:00Z')

describe('impersonation words', () => {
  it('words every status and every end cause, each differently', () => {
    expect(Object.keys(STATUS_WORDS).sort()).toEqual([...IMPERSONATION_STATUSES].sort())
    const causes = END_CAUSES.map((c) => causeWords(c, 'sam@support.test'))
    expect(new Set(causes).size).toBe(END_CAUSES.length)
    expect(causeWords('ended_by_staff', 'sam@support.test')).toBe('Ended by sam@support.test')
    expect(causeWords('actor_lost_permission', null)).toBe(
      'Ended by policy: the staff member lost the impersonate permission',
    )
  })

  it('says what happened to a record, truthfully', () => {
    const s = (over: Partial<ImpersonationRecord>) => statusSentence(record(over), name, NOW)
    expect(s({})).toMatch(/^Ticket issued, not used yet \(valid until .+\)$/)
    expect(s({ expiresAt: '2026-11-29T11:00:00Z' })).toMatch(
      /^Ticket issued, not used; it expired at /,
    )
    expect(
      s({
        status: 'ended',
        endCause: 'ended_by_staff',
        endedBy: 'user_sam',
        endReason: 'Customer withdrew consent',
      }),
    ).toBe('Ended by sam@support.test: Customer withdrew consent')
    expect(s({ status: 'ended', endCause: 'target_banned', endedBy: 'system' })).toBe(
      'Ended by policy: the customer was banned',
    )
    expect(s({ status: 'ended', endCause: 'stopped_by_actor', endedBy: 'user_ada' })).toBe(
      'Stopped by the staff member',
    )
    expect(s({ status: 'expired', endCause: 'ticket_expired_unused' })).toBe(
      'The ticket expired unused',
    )
    expect(s({ status: 'revoked', endedBy: 'user_ada' })).toBe('Ticket revoked by ada@support.test')
    expect(s({ status: 'denied', outcomeMessage: 'This user is banned.' })).toBe(
      'Denied: This user is banned.',
    )
    expect(s({ status: 'failed', outcomeMessage: 'The ticket sign-in failed.' })).toBe(
      'Failed: The ticket sign-in failed.',
    )
  })

  it('words timeline events with who and why', () => {
    expect(eventWords(event({ by: 'user_ada' }), name)).toBe('Requested by ada@support.test')
    expect(
      eventWords(
        event({ type: 'ended', cause: 'ended_by_staff', by: 'user_sam', reason: 'No consent' }),
        name,
      ),
    ).toBe('Ended by sam@support.test: No consent')
    // the email recorded with the event wins over today's lookup
    expect(
      eventWords(
        event({
          type: 'ended',
          cause: 'ended_by_staff',
          by: 'user_sam',
          reason: 'No consent',
          data: { byEmail: 'sam.old@support.test' },
        }),
        name,
      ),
    ).toBe('Ended by sam.old@support.test: No consent')
    expect(eventWords(event({ type: 'ended', cause: 'expired_at_cap', by: 'system' }), name)).toBe(
      'Ended at its time limit',
    )
    expect(eventWords(event({ type: 'failed', data: { message: 'Clerk refused' } }), name)).toBe(
      'Failed: Clerk refused',
    )
    expect(eventWords(event({ type: 'ticket_revoked', by: 'user_sam' }), name)).toBe(
      'Ticket revoked by sam@support.test',
    )
    // a machine acting on behalf of the staff member is named beside them
    expect(eventWords(event({ by: 'user_ada', data: { via: 'mch_helpdesk' } }), name)).toBe(
      'Requested by ada@support.test, through the machine mch_helpdesk',
    )
    expect(
      eventWords(
        event({
          type: 'ended',
          cause: 'ended_by_staff',
          by: 'user_ada',
          reason: 'Done',
          data: { via: 'mch_helpdesk' },
        }),
        name,
      ),
    ).toBe('Ended by ada@support.test: Done, through the machine mch_helpdesk')
  })

  it('reads the optional mode and customer actions only when well formed', () => {
    expect(modeOf({ mode: 'read_only' })).toBe('read_only')
    expect(modeOf({ mode: 'admin' })).toBeNull()
    expect(modeOf({})).toBeNull()
    const good = { method: 'GET', route: '/invoices', status: 200, at: '2026-11-29T12:00:00Z' }
    expect(actionsOf({ actions: [good, { method: 'GET' }, null] })).toEqual([good])
    expect(actionsOf({})).toEqual([])
  })

  it('says how long ago', () => {
    expect(ago(NOW - 4_000, NOW)).toBe('4 s ago')
    expect(ago(new Date(NOW - 180_000).toISOString(), NOW)).toBe('3 min ago')
    expect(ago(NOW - 2 * 3_600_000, NOW)).toBe('2 h ago')
    expect(ago(null, NOW)).toBe('—')
  })

  it('slots the customer-application requests into the timeline by time', () => {
    const detail = {
      ...record({ status: 'ended' }),
      events: [
        event({ seq: 1, by: 'user_ada', at: '2026-11-29T11:59:00Z' }),
        event({ seq: 2, type: 'signed_in', at: '2026-11-29T12:00:00Z' }),
        event({
          seq: 3,
          type: 'ended',
          cause: 'stopped_by_actor',
          by: 'user_ada',
          at: '2026-11-29T12:05:00Z',
        }),
      ],
      actions: [
        { method: 'GET', route: '/invoices', status: 200, at: '2026-11-29T12:01:00Z' },
        { method: 'POST', route: '/invoices/:id/resend', status: 202, at: '2026-11-29T12:02:00Z' },
      ],
      actionsTotal: 2,
    }
    expect(timelineEntries(detail, name).map((e) => [e.kind, e.text])).toEqual([
      ['event', 'Requested by ada@support.test'],
      ['event', 'Signed in to the customer application'],
      ['action', 'GET /invoices'],
      ['action', 'POST /invoices/:id/resend'],
      ['event', 'Stopped by the staff member'],
    ])
  })
})
