import { ClerkAPIResponseError, ClerkRuntimeError } from '@clerk/shared/error'
import { describe, expect, it } from 'vitest'
import { toAuthError } from './errors'

const clerkError = (status: number, code: string, paramName?: string) =>
  new ClerkAPIResponseError('failed', {
    status,
    data: [
      {
        code,
        message: code,
        long_message: `long ${code}`,
        ...(paramName ? { meta: { param_name: paramName } } : {}),
      },
    ],
  })

describe('toAuthError: Clerk sign-in errors in plain words', () => {
  it.each([
    [422, 'form_identifier_not_found', 'identifier_not_found', 'identifier'],
    [422, 'form_password_incorrect', 'password_incorrect', 'password'],
    [403, 'user_banned', 'banned', null],
    [403, 'user_locked', 'locked', null],
    [400, 'ticket_expired_code', 'ticket_expired', null],
    [400, 'actor_token_already_used_code', 'ticket_used', null],
    [400, 'actor_token_revoked_code', 'ticket_invalid', null],
    [429, 'too_many_requests', 'rate_limited', null],
    [503, 'service_unavailable', 'unavailable', null],
  ])('%i %s → %s', (status, code, kind, field) => {
    const error = toAuthError(clerkError(status, code))
    expect(error.kind).toBe(kind)
    expect(error.field).toBe(field)
    expect(error.message).not.toMatch(/_code|form_/)
  })

  it('says a network failure is one, never "a step this console does not support"', () => {
    for (const error of [
      new TypeError('Failed to fetch'),
      new ClerkRuntimeError('Network request failed while offline', { code: 'network_error' }),
    ]) {
      const plain = toAuthError(error)
      expect(plain.kind).toBe('network')
      expect(plain.message).toMatch(/network failed/)
      expect(plain.message).not.toMatch(/does not support/)
    }
  })
})
