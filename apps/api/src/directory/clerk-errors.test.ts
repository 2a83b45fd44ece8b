import { ClerkAPIResponseError } from '@clerk/backend/errors'
import { describe, expect, it } from 'vitest'
import { ClerkTimeoutError, mapClerkError } from './clerk-errors.js'

// Errors built with the SDK's own class, as @clerk/backend throws them for a non-2xx answer.
function clerkError(status: number, retryAfter?: number) {
  return new ClerkAPIResponseError('Clerk said no', {
    status,
    ...(retryAfter === undefined ? {} : { retryAfter }),
    data: [
      {
        code: 'form_param_invalid',
        message: 'is invalid',
        long_message: 'expires_in_seconds must be at most 3600',
      },
    ],
  })
}

describe('mapClerkError', () => {
  it.each([
    [402, 'create-actor-token', 'QUOTA_EXCEEDED', /monthly impersonation quota/],
    [404, 'read', 'USER_NOT_FOUND', /no longer exists/],
    [404, 'revoke-actor-token', 'IMPERSONATION_NOT_FOUND', /no longer knows/],
    [422, 'create-actor-token', 'CLERK_REJECTED', /expires_in_seconds must be at most 3600/],
    [400, 'revoke-actor-token', 'TICKET_ALREADY_USED', /already used/],
    [500, 'read', 'SERVICE_UNAVAILABLE', /unavailable/],
    [503, 'create-actor-token', 'SERVICE_UNAVAILABLE', /unavailable/],
    [401, 'read', 'SERVICE_UNAVAILABLE', /CLERK_SECRET_KEY/],
  ] as const)('Clerk %i on %s → %s', (status, operation, code, message) => {
    const mapped = mapClerkError(clerkError(status), operation)
    expect(mapped.code).toBe(code)
    expect(mapped.message).toMatch(message)
  })

  it('passes on Retry-After of a 429', () => {
    expect(mapClerkError(clerkError(429, 12), 'read')).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 12,
      rateLimitedBy: 'clerk',
    })
  })

  it('turns a timeout or a network failure into SERVICE_UNAVAILABLE', () => {
    expect(mapClerkError(new ClerkTimeoutError('slow'), 'create-actor-token')).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringMatching(/did not answer in time/) as unknown,
    })
    expect(mapClerkError(new TypeError('fetch failed'), 'read').code).toBe('SERVICE_UNAVAILABLE')
  })
})
