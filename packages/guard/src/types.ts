// Types shared by the guard's modules. No runtime code.
import type { ImpersonationMode } from '@actas/contracts'

/** How an impersonated session may act: `full`, or `read_only` (safe methods only). */
export type { ImpersonationMode }

/** Where the guard writes its few warnings (a pino or Fastify logger fits). */
export interface GuardLogger {
  warn(details: object, message: string): void
}

/** The guard's answer about one request's session. */
export interface GuardVerdict {
  /** The signed-in user (the customer, when impersonated). */
  userId: string
  sessionId: string
  /** True when a staff member is acting as this user (`act` in the token). */
  impersonated: boolean
  /** Who is really acting, when impersonated: the staff member's user id and their reason. */
  actor: { userId: string; reason: string | null } | null
  impersonationId: string | null
  /** The impersonation's mode (`act.mode`; `full` when absent); null when not impersonated. */
  mode: ImpersonationMode | null
  /** True when ActAs ended this impersonation: the session is refused. */
  revoked: boolean
}

/** Per-route rules. */
export interface GuardRouteOptions {
  /**
   * Refuse this route to impersonated sessions, whatever their mode: what a support agent must
   * never do as the customer (change password or email, MFA, delete the account, payment methods).
   */
  blockWhileImpersonated?: boolean
}

/** Why the guard refused a request: `status` and a body to send as JSON. */
export interface GuardRefusal {
  status: 401 | 403 | 503
  /** Seconds, for a 503. */
  retryAfterSeconds?: number
  body: { error: { code: GuardRefusalCode; message: string } }
}

export type GuardRefusalCode =
  /** ActAs ended the impersonation (kill switch, Stop, policy, cap): sign in again. */
  | 'IMPERSONATION_ENDED'
  /** The route is `blockWhileImpersonated`. */
  | 'BLOCKED_WHILE_IMPERSONATED'
  /** A read-only impersonation used a method that is not safe (not GET, HEAD, OPTIONS). */
  | 'READ_ONLY_IMPERSONATION'
  /** The list of ended impersonations is too old to trust (ActAs unreachable): impersonated sessions wait. */
  | 'REVOCATIONS_STALE'
  /** No valid session token (only when the route or handler requires one). */
  | 'UNAUTHENTICATED'
  /** Clerk's keys could not be loaded to verify the token. */
  | 'VERIFICATION_UNAVAILABLE'
