// Maps what Clerk's Backend API answered into ActAsError with a plain message.
import { ActAsError } from '@actas/contracts'
import { isClerkAPIResponseError } from '@clerk/backend/errors'

export class ClerkTimeoutError extends Error {
  override readonly name = 'ClerkTimeoutError'
}

export type ClerkOperation =
  'read' | 'create-actor-token' | 'revoke-actor-token' | 'revoke-session' | 'create-sign-in-token'

export function mapClerkError(error: unknown, operation: ClerkOperation): ActAsError {
  if (error instanceof ActAsError) return error
  if (error instanceof ClerkTimeoutError) {
    return new ActAsError(
      'SERVICE_UNAVAILABLE',
      'Clerk did not answer in time; try again in a moment.',
      {
        retryAfterSeconds: 5,
        cause: error,
      },
    )
  }
  if (isClerkAPIResponseError(error)) {
    const first = error.errors[0]
    const detail = first?.longMessage ?? first?.message
    const status = error.status
    if (status === 402) {
      return new ActAsError(
        'QUOTA_EXCEEDED',
        'The monthly impersonation quota of your Clerk plan is used up; upgrade the plan or wait for next month.',
        { cause: error },
      )
    }
    if (status === 404) {
      return operation === 'revoke-actor-token'
        ? new ActAsError(
            'IMPERSONATION_NOT_FOUND',
            'Clerk no longer knows this impersonation ticket.',
            { cause: error },
          )
        : new ActAsError('USER_NOT_FOUND', 'This user no longer exists.', { cause: error })
    }
    if (status === 429) {
      const retryAfterSeconds = error.retryAfter ?? 30
      return new ActAsError(
        'RATE_LIMITED',
        `Clerk is rate limiting requests; retry in ${retryAfterSeconds} s.`,
        {
          retryAfterSeconds,
          cause: error,
        },
      )
    }
    if (status === 400 || status === 409 || status === 422) {
      if (operation === 'revoke-actor-token') {
        return new ActAsError(
          'TICKET_ALREADY_USED',
          'This ticket can no longer be revoked: it was already used, revoked or has expired.',
          { cause: error },
        )
      }
      return new ActAsError(
        'CLERK_REJECTED',
        `Clerk refused the request: ${detail ?? 'invalid parameters'}.`,
        {
          cause: error,
        },
      )
    }
    if (status === 401 || status === 403) {
      return new ActAsError(
        'SERVICE_UNAVAILABLE',
        "Clerk refused the API's credentials; an operator must check CLERK_SECRET_KEY.",
        { cause: error },
      )
    }
    // 5xx, or no status at all (network failure reported by the SDK as `unexpected_error`).
    return new ActAsError(
      'SERVICE_UNAVAILABLE',
      'Clerk is unavailable right now; try again in a moment.',
      {
        retryAfterSeconds: error.retryAfter ?? 5,
        cause: error,
      },
    )
  }
  return new ActAsError(
    'SERVICE_UNAVAILABLE',
    'Clerk could not be reached; try again in a moment.',
    {
      retryAfterSeconds: 5,
      cause: error,
    },
  )
}

/** Transient failures a read may retry: 5xx, timeouts, network errors. Never 4xx. */
export function isTransient(error: ActAsError): boolean {
  return error.code === 'SERVICE_UNAVAILABLE'
}
