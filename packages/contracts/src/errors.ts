// Error codes shared by the API and its clients. Browser-safe: type imports only.
// Domain code throws `ActAsError`; the tRPC layer maps it to a TRPCError whose
// `data.actasCode` carries the code below, so clients switch on one stable value.

import type { ImpersonationEnded } from './schemas/impersonation.js'

export const ACTAS_ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'POLICY_DENIED',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'USER_NOT_FOUND',
  'IMPERSONATION_NOT_FOUND',
  'INVALID_INPUT',
  'CLERK_REJECTED',
  'TICKET_ALREADY_USED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const

export type ActAsErrorCode = (typeof ACTAS_ERROR_CODES)[number]

/** The tRPC error code (and so the HTTP status) each ActAs code travels as. */
export const ACTAS_ERROR_TRPC_CODE = {
  UNAUTHENTICATED: 'UNAUTHORIZED', // 401
  FORBIDDEN: 'FORBIDDEN', // 403
  POLICY_DENIED: 'FORBIDDEN', // 403
  RATE_LIMITED: 'TOO_MANY_REQUESTS', // 429
  QUOTA_EXCEEDED: 'PAYMENT_REQUIRED', // 402
  USER_NOT_FOUND: 'NOT_FOUND', // 404
  IMPERSONATION_NOT_FOUND: 'NOT_FOUND', // 404
  INVALID_INPUT: 'BAD_REQUEST', // 400
  CLERK_REJECTED: 'UNPROCESSABLE_CONTENT', // 422
  TICKET_ALREADY_USED: 'CONFLICT', // 409
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE', // 503
  INTERNAL: 'INTERNAL_SERVER_ERROR', // 500
} as const satisfies Record<ActAsErrorCode, string>

/** Why `impersonation.start` (or a search item's button) is refused. */
export const POLICY_RULES = [
  'self',
  'staff',
  'banned',
  'locked',
  'impersonated_session',
  /** The caller is a machine: starting an impersonation stays a human act. */
  'machine',
  /** `full` was asked for a user the policy allows to impersonate read-only only. */
  'read_only_target',
] as const
export type PolicyRule = (typeof POLICY_RULES)[number]

/**
 * Who refused with RATE_LIMITED: ActAs's own per-actor limit, or Clerk (the API gave up waiting
 * for Clerk's rate limit; `retryAfterSeconds` is Clerk's wait).
 */
export const RATE_LIMITERS = ['actas', 'clerk'] as const
export type RateLimiter = (typeof RATE_LIMITERS)[number]

export interface ActAsErrorOptions {
  /** Seconds the caller should wait before retrying (RATE_LIMITED, SERVICE_UNAVAILABLE). */
  retryAfterSeconds?: number
  /** RATE_LIMITED: whose limit it is. */
  rateLimitedBy?: RateLimiter
  /** The policy rule that refused (POLICY_DENIED). */
  rule?: PolicyRule
  /** UNAUTHENTICATED for a session whose impersonation ActAs ended: how it ended. */
  impersonationEnded?: ImpersonationEnded | null
  cause?: unknown
}

/**
 * The one error type domain code throws. `message` is plain language, safe to show to a
 * support agent: never a secret, a ticket or a stack trace.
 */
export class ActAsError extends Error {
  override readonly name = 'ActAsError'
  readonly code: ActAsErrorCode
  readonly retryAfterSeconds: number | undefined
  readonly rule: PolicyRule | undefined
  readonly rateLimitedBy: RateLimiter | undefined
  readonly impersonationEnded: ImpersonationEnded | undefined

  constructor(code: ActAsErrorCode, message: string, options: ActAsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retryAfterSeconds = options.retryAfterSeconds
    this.rule = options.rule
    this.rateLimitedBy = options.rateLimitedBy
    this.impersonationEnded = options.impersonationEnded ?? undefined
  }
}

export function isActAsError(value: unknown): value is ActAsError {
  return value instanceof ActAsError
}

export function isActAsErrorCode(value: unknown): value is ActAsErrorCode {
  return typeof value === 'string' && (ACTAS_ERROR_CODES as readonly string[]).includes(value)
}
