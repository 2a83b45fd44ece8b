import { describe, expect, it } from 'vitest'
import { parseActorClaim } from '../src/facts.js'

describe('parseActorClaim', () => {
  it('reads act.mode; a claim without it (a session from before modes) is a full impersonation', () => {
    const base = { sub: 'user_staff', reason: 'Ticket 42: checkout fails', impersonation_id: 'i1' }
    expect(parseActorClaim({ ...base, mode: 'read_only' })).toEqual({
      sub: 'user_staff',
      reason: 'Ticket 42: checkout fails',
      impersonationId: 'i1',
      mode: 'read_only',
    })
    expect(parseActorClaim({ ...base, mode: 'full' })?.mode).toBe('full')
    expect(parseActorClaim(base)?.mode).toBe('full')
  })

  it('reads any other mode value as read-only (fail closed)', () => {
    for (const mode of ['readonly', 'FULL', '', 1, true, {}])
      expect(parseActorClaim({ sub: 'user_staff', mode })?.mode).toBe('read_only')
  })
})
