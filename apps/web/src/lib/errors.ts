// API errors in plain words, for support agents.
import type { ActAsClientErrorInfo, ActAsErrorCode } from '@actas/contracts/client'
import { AuthError } from '../auth/types'
import type { AuthErrorKind } from '../auth/types'
import { ApiError } from './api'
import { StepUpCancelled } from './step-up'

export interface PlainError {
  code: ActAsErrorCode | `AUTH_${string}`
  title: string
  message: string
  /** Worth a "Try again" button. */
  retryable: boolean
  /** Clerk is rate-limiting the API: its wait, for a countdown (ClerkRateLimitNotice). */
  clerkRateLimit?: { retryAfterSeconds: number }
}

/** A sign-in error's title, and whether trying again may help (else: no). */
const AUTH_TITLES: Partial<Record<AuthErrorKind, [title: string, retryable?: true]>> = {
  network: ['Network failure', true],
  ticket_expired: ['Ticket expired'],
  unavailable: ['Clerk unavailable', true],
  rate_limited: ['Too many attempts', true],
}

export function describeError(error: unknown): PlainError {
  if (error instanceof StepUpCancelled)
    return {
      code: 'REVERIFICATION_REQUIRED',
      title: 'Not started',
      message:
        'The impersonation did not start: confirming your password was cancelled. Confirm again to start it.',
      retryable: true,
    }
  if (error instanceof AuthError) {
    const [title, retryable = false] = AUTH_TITLES[error.kind] ?? ['Sign-in failed']
    return { code: `AUTH_${error.kind}`, title, message: error.message, retryable }
  }
  const e: ActAsClientErrorInfo =
    error instanceof ApiError
      ? error.info
      : {
          code: 'INTERNAL',
          message: '',
          httpStatus: null,
          retryAfterSeconds: null,
          rule: null,
          fieldErrors: {},
        }
  if (e.transport === 'timeout')
    return {
      code: e.code,
      title: 'No answer',
      message: 'The server did not answer in time. Check your connection, then try again.',
      retryable: true,
    }
  if (e.transport === 'network')
    return {
      code: e.code,
      title: 'ActAs unreachable',
      message: 'The ActAs API cannot be reached right now. Check your connection, then try again.',
      retryable: true,
    }
  const wait = e.retryAfterSeconds
    ? ` Try again in ${e.retryAfterSeconds} s.`
    : ' Try again in a minute.'
  switch (e.code) {
    case 'QUOTA_EXCEEDED':
      return {
        code: e.code,
        title: 'Monthly quota used up',
        message:
          "This month's impersonations on your Clerk plan are used up. Ask an administrator to raise the plan limit.",
        retryable: false,
      }
    case 'RATE_LIMITED':
      if (e.rateLimitedBy === 'clerk') {
        const seconds = e.retryAfterSeconds ?? 30
        return {
          code: e.code,
          title: 'Clerk is rate-limiting',
          message: `Clerk is rate-limiting ActAs's requests. Try again in ${seconds} s.`,
          retryable: true,
          clerkRateLimit: { retryAfterSeconds: seconds },
        }
      }
      return {
        code: e.code,
        title: 'Too many requests',
        message: `You are going too fast.${wait}`,
        retryable: true,
      }
    case 'POLICY_DENIED':
      return {
        code: e.code,
        title: 'Not allowed',
        message: e.message || 'This user may not be impersonated.',
        retryable: false,
      }
    case 'REVERIFICATION_REQUIRED':
      return {
        code: e.code,
        title: 'Password needed',
        message: e.message || 'Confirm your password, then try again.',
        retryable: true,
      }
    case 'FORBIDDEN':
      return {
        code: e.code,
        title: 'Not allowed',
        message: "You don't have permission to do this.",
        retryable: false,
      }
    case 'UNAUTHENTICATED':
      return {
        code: e.code,
        title: 'Signed out',
        message: 'Your session ended. Sign in again.',
        retryable: false,
      }
    case 'SERVICE_UNAVAILABLE':
      return {
        code: e.code,
        title: 'Clerk unavailable',
        message: `Clerk or the ActAs API cannot be reached right now.${wait}`,
        retryable: true,
      }
    case 'CLERK_REJECTED':
      return { code: e.code, title: 'Clerk refused', message: e.message, retryable: false }
    case 'TICKET_ALREADY_USED':
      return {
        code: e.code,
        title: 'Ticket already used',
        message: 'That ticket was already used to sign in, so it cannot be revoked.',
        retryable: false,
      }
    case 'USER_NOT_FOUND':
      return {
        code: e.code,
        title: 'User not found',
        message: 'This user no longer exists.',
        retryable: false,
      }
    case 'IMPERSONATION_NOT_FOUND':
      return {
        code: e.code,
        title: 'Not found',
        message: 'That impersonation is not in the log.',
        retryable: false,
      }
    case 'INVALID_INPUT':
      return { code: e.code, title: 'Check the form', message: e.message, retryable: false }
    default:
      return {
        code: e.code,
        title: 'Something went wrong',
        message: 'The request failed. Try again.',
        retryable: true,
      }
  }
}
