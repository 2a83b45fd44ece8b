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
  /** No access request or grant has this id (or it is not the caller's to see). */
  'ACCESS_NOT_FOUND',
  /** The access request is settled (or already decided): only pending requests can be decided. */
  'ACCESS_SETTLED',
  /**
   * Step-up: the session must verify its first factor again (the password) before this call;
   * the error's data carries Clerk's reverification hint (`clerk_error`, see `reverificationHint`).
   */
  'REVERIFICATION_REQUIRED',
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
  ACCESS_NOT_FOUND: 'NOT_FOUND', // 404
  ACCESS_SETTLED: 'CONFLICT', // 409
  REVERIFICATION_REQUIRED: 'FORBIDDEN', // 403, as Clerk's reverificationErrorResponse
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
  /** The user's consent is required (ACCESS_CONSENT_REQUIRED or their organization's setting): request access. */
  'consent_required',
  /** A second staff member's approval is required (ACCESS_APPROVAL_REQUIRED): request access. */
  'approval_required',
  /** The user's organization switched impersonation off for its members. */
  'organization_off',
  /** The grant allows less than was asked: a read-only grant, or a window that ends sooner. */
  'grant_exceeded',
] as const
export type PolicyRule = (typeof POLICY_RULES)[number]

/**
 * Who refused with RATE_LIMITED: ActAs's own per-actor limit, or Clerk (the API gave up waiting
 * for Clerk's rate limit; `retryAfterSeconds` is Clerk's wait).
 */
export const RATE_LIMITERS = ['actas', 'clerk'] as const
export type RateLimiter = (typeof RATE_LIMITERS)[number]

/** Clerk's reverification levels (`@clerk/shared` SessionVerificationLevel). */
export type ReverificationLevel = 'first_factor' | 'second_factor' | 'multi_factor'

/** What a step-up asks for: this factor level, verified less than `afterMinutes` ago. */
export interface ReverificationRequirement {
  level: ReverificationLevel
  afterMinutes: number
}

/** Clerk's reverification error shape (`@clerk/shared/authorization-errors`, `reverificationError`). */
export interface ReverificationHint {
  clerk_error: {
    type: 'forbidden'
    reason: 'reverification-error'
    metadata: { reverification: ReverificationRequirement }
  }
}

/**
 * Exactly what `@clerk/shared`'s `reverificationError(missingConfig)` returns (apps/api's tests
 * compare the two), so Clerk's own `isReverificationHint` recognises an ActAs error's data.
 * Written here because contracts never imports Clerk.
 */
export function reverificationHint(requirement: ReverificationRequirement): ReverificationHint {
  return {
    clerk_error: {
      type: 'forbidden',
      reason: 'reverification-error',
      metadata: {
        reverification: { level: requirement.level, afterMinutes: requirement.afterMinutes },
      },
    },
  }
}

/** The requirement inside a reverification hint (an error's data), or null when it is none. */
export function readReverificationHint(data: unknown): ReverificationRequirement | null {
  if (typeof data !== 'object' || data === null) return null
  const error = (data as { clerk_error?: unknown }).clerk_error
  if (typeof error !== 'object' || error === null) return null
  const e = error as { type?: unknown; reason?: unknown; metadata?: unknown }
  if (e.type !== 'forbidden' || e.reason !== 'reverification-error') return null
  const r = (e.metadata as { reverification?: unknown } | null | undefined)?.reverification
  if (typeof r !== 'object' || r === null) return null
  const { level, afterMinutes } = r as { level?: unknown; afterMinutes?: unknown }
  if (level !== 'first_factor' && level !== 'second_factor' && level !== 'multi_factor') return null
  if (typeof afterMinutes !== 'number' || !(afterMinutes > 0)) return null
  return { level, afterMinutes }
}

export interface ActAsErrorOptions {
  /** Seconds the caller should wait before retrying (RATE_LIMITED, SERVICE_UNAVAILABLE). */
  retryAfterSeconds?: number
  /** RATE_LIMITED: whose limit it is. */
  rateLimitedBy?: RateLimiter
  /** The policy rule that refused (POLICY_DENIED). */
  rule?: PolicyRule
  /** REVERIFICATION_REQUIRED: what the session must verify again, and how recently. */
  reverification?: ReverificationRequirement
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
  readonly reverification: ReverificationRequirement | undefined
  readonly impersonationEnded: ImpersonationEnded | undefined

  constructor(code: ActAsErrorCode, message: string, options: ActAsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retryAfterSeconds = options.retryAfterSeconds
    this.rule = options.rule
    this.rateLimitedBy = options.rateLimitedBy
    this.reverification = options.reverification
    this.impersonationEnded = options.impersonationEnded ?? undefined
  }
}

export function isActAsError(value: unknown): value is ActAsError {
  return value instanceof ActAsError
}

export function isActAsErrorCode(value: unknown): value is ActAsErrorCode {
  return typeof value === 'string' && (ACTAS_ERROR_CODES as readonly string[]).includes(value)
}

/**
 * `@clerk/backend`'s token verification reasons (`TokenVerificationErrorReason`) that say nothing
 * about the token: Clerk's keys could not be loaded (Clerk unreachable, or the key misconfigured).
 * The one classification of the API and the guard: such a token is answered 503, not 401.
 */
export const CLERK_UNAVAILABLE_REASONS: readonly string[] = [
  'jwk-remote-failed-to-load',
  'jwk-failed-to-resolve',
  'jwk-remote-missing',
  'secret-key-invalid',
  'jwk-local-missing',
]

/** Reasons meaning the token's lifetime is over (`token-expired`, or its handshake variants). */
const EXPIRED = /(^|-)expired(-|$)/

/**
 * What a refused session token verification means, from the error `verifyToken` threw (or the
 * `reason` of a signed-out `authenticateRequest` state): `unavailable` (retry; Clerk said
 * nothing), `expired`, or `invalid`.
 */
export function classifyTokenFailure(
  errorOrReason: unknown,
): 'unavailable' | 'expired' | 'invalid' {
  const reason =
    typeof errorOrReason === 'string'
      ? errorOrReason
      : (errorOrReason as { reason?: unknown } | null)?.reason
  if (typeof reason !== 'string') return 'invalid'
  if (CLERK_UNAVAILABLE_REASONS.includes(reason)) return 'unavailable'
  return EXPIRED.test(reason) ? 'expired' : 'invalid'
}
