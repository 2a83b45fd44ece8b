// The ports the router delegates to. `apps/api` implements them (Clerk, Postgres, policy);
// anything else that hosts the router (a test, another service) brings its own. Types only.
import type { ImpersonationMode } from './facts.js'
import type { AuditVerifyInput, AuditVerifyOutput } from './schemas/audit.js'
import type { AuditExportOutput, AuditExportParams } from './schemas/audit-export.js'
import type { LogStreamsStatusOutput } from './schemas/log-streams.js'
import type { AlertsPort } from './alerts.js'
import type {
  ImpersonationActiveOutput,
  ImpersonationEndInput,
  ImpersonationGetOutput,
  ImpersonationListOutput,
  ImpersonationListParams,
  ImpersonationEnded,
  ImpersonationRecord,
  ImpersonationSignInFailedInput,
  ImpersonationStartOutput,
  ImpersonationStartParams,
  ImpersonationStopInput,
  ImpersonationStopOutput,
} from './schemas/impersonation.js'
import type { QuotaOutput, SessionActor } from './schemas/me.js'
import type {
  SessionInspectOutput,
  SessionsRevokedOutput,
  SessionsRevokedParams,
} from './schemas/sessions.js'
import type { ImpersonationActionsInput, ImpersonationActionsOutput } from './schemas/actions.js'
import type { UsersSearchOutput, UsersSearchParams } from './schemas/users.js'
import type {
  WebhookDeliveriesOutput,
  WebhookDeliveriesParams,
  WebhookDelivery,
} from './schemas/webhooks.js'
import type { AccessPort } from './access.js'

/**
 * The permission that makes a session staff, held in its active organization when that
 * organization is one of the host's staff organizations (see `UserPrincipal.staffOrganization`).
 */
export const IMPERSONATE_PERMISSION = 'org:admin:impersonate'

/** The `act` claim of an impersonated session. */
export interface PrincipalActor {
  sub: string
  impersonationId: string | null
  reason: string | null
  /** `act.mode` (see ActorClaim). */
  mode: ImpersonationMode
}

/** A person, from a verified Clerk session token. */
export interface UserPrincipal {
  kind: 'user'
  userId: string
  sessionId: string | null
  orgId: string | null
  orgSlug: string | null
  orgRole: string | null
  /** Permissions in the active organization (`org:…`). */
  permissions: readonly string[]
  /**
   * Whether the active organization is one of the host's staff organizations (configured; the
   * API's STAFF_ORGANIZATIONS). Permissions held in any other organization grant nothing: a
   * customer organization's roles may carry `org:admin:impersonate` (Clerk's roles belong to the
   * instance), and that must not make its admin staff.
   */
  staffOrganization: boolean
  /** Set when this session is itself an impersonated one. */
  actor: PrincipalActor | null
  /**
   * The token's `fva` claim: minutes since the first and the second factor were verified (-1:
   * never). Step-up (`impersonation.start`) reads it; absent or null: unknown, so not recent.
   */
  factorVerificationAge?: readonly [number, number] | null
}

/** Another service, from a verified Clerk M2M token (`mt_…`). */
export interface MachinePrincipal {
  kind: 'machine'
  /** The calling machine (`mch_…`), the token's subject. */
  machineId: string
  /** The M2M token's id (`mt_…`, not the token itself): for logs. */
  tokenId: string
  /** Machines the caller may talk to (Clerk's scopes): ActAs's machine id when it may call ActAs. */
  scopes: readonly string[]
}

/** Who is calling. `null` in the context when no valid token was sent. */
export type Principal = UserPrincipal | MachinePrincipal

/** A staff principal: signed in, active in a staff organization, with the impersonate permission there. */
export interface StaffPrincipal extends UserPrincipal {
  orgId: string
  staffOrganization: true
}

/** Who may call the read procedures: staff, or a machine the permission map lets in. */
export type ReaderPrincipal = StaffPrincipal | MachinePrincipal

/** The id logs, rate limits and audit rows use: a user id or a machine id. */
export function principalId(principal: Principal): string {
  return principal.kind === 'machine' ? principal.machineId : principal.userId
}

export interface RequestInfo {
  id: string
  ip: string | null
  userAgent: string | null
}

export type RateLimitResult = { allowed: true } | { allowed: false; retryAfterSeconds: number }

export interface RateLimiterPort {
  /** Counts one call of `procedure` by `actorId`; procedures without a configured limit are always allowed. */
  consume(procedure: string, actorId: string): RateLimitResult | Promise<RateLimitResult>
}

export interface DirectoryPort {
  /** Users matching the search, each with the policy's verdict for `principal`. */
  search(principal: ReaderPrincipal, params: UsersSearchParams): Promise<UsersSearchOutput>
}

/**
 * A call of `impersonation.start` by a signed-in caller that was refused before it reached
 * `ImpersonationPort.start`: by `authorize` (no permission → FORBIDDEN, rate limit →
 * RATE_LIMITED) or by input validation (INVALID_INPUT). Reported after the refusal, for the audit
 * log. `userId`, `reason` and `ticketUrl` are the raw input's strings (possibly invalid: the host
 * cleans and caps them before storage); `sessionMinutes` only when it is a valid number.
 */
export interface DeniedAttempt {
  procedure: string
  principal: Principal
  /** Whether the caller is staff (staff refusals are always recorded in full). */
  staff: boolean
  userId: string | null
  reason: string | null
  ticketUrl: string | null
  sessionMinutes: number | null
  /** The mode asked for, when it is a valid one (absent otherwise). */
  mode?: ImpersonationMode | null
  /** Why it was refused (the code of the error the caller received). */
  code: string
  message: string
}

export interface ImpersonationPort {
  /** Records a refused attempt (optional: hosts without an audit log leave it out). */
  recordDenied?(attempt: DeniedAttempt, request: RequestInfo): Promise<void>
  /** A machine: on behalf of `params.onBehalfOf`, judged as that staff member (see the service). */
  start(
    principal: ReaderPrincipal,
    params: ImpersonationStartParams,
    request: RequestInfo,
  ): Promise<ImpersonationStartOutput>
  revoke(
    principal: StaffPrincipal,
    impersonationId: string,
    request: RequestInfo,
  ): Promise<ImpersonationRecord>
  /** One impersonation with its event timeline; a read by a machine is recorded (an audit read). */
  get(
    principal: ReaderPrincipal,
    impersonationId: string,
    request: RequestInfo,
  ): Promise<ImpersonationGetOutput>
  /** The audit log; a read by a machine is itself recorded (an audit read). */
  list(
    principal: ReaderPrincipal,
    params: ImpersonationListParams,
    request: RequestInfo,
  ): Promise<ImpersonationListOutput>
  quota(principal: StaffPrincipal): Promise<QuotaOutput>
  /** Live impersonations (signed in, not ended), newest first. */
  active(principal: StaffPrincipal): Promise<ImpersonationActiveOutput>
  /**
   * The kill switch: revokes the Clerk session (and the ticket if unused) and appends `ended`
   * with who and why. Every API instance refuses the session from then on.
   */
  end(
    principal: ReaderPrincipal,
    params: ImpersonationEndInput,
    request: RequestInfo,
  ): Promise<ImpersonationRecord>
  /**
   * The impersonated session's own Stop (`principal.actor` set): ends it and, with the return
   * secret and everything still in order, hands back a sign-in token for the staff member.
   */
  stop(
    principal: UserPrincipal,
    params: ImpersonationStopInput,
    request: RequestInfo,
  ): Promise<ImpersonationStopOutput>
  /**
   * Impersonated sessions ActAs ended, after the cursor `since` (without it: those that ended
   * within the last REVOKED_LOOKBACK_MINUTES), oldest first, at most `limit`. What a guard polls.
   */
  revokedSessions(
    principal: ReaderPrincipal,
    params: SessionsRevokedParams,
  ): Promise<SessionsRevokedOutput>
  /**
   * Appends what an impersonated session did in the host application (a guard's batch), linked
   * to its impersonation through the session id. Unknown session: IMPERSONATION_NOT_FOUND.
   */
  recordActions(
    principal: MachinePrincipal,
    input: ImpersonationActionsInput,
    request: RequestInfo,
  ): Promise<ImpersonationActionsOutput>
  /**
   * The console's report that its ticket sign-in failed: only the staff member who started the
   * impersonation, only while the ticket has not become a session (refused after the sign-in);
   * appends `failed` once and revokes the ticket. Idempotent.
   */
  signInFailed(
    principal: StaffPrincipal,
    params: ImpersonationSignInFailedInput,
    request: RequestInfo,
  ): Promise<ImpersonationRecord>
  /** The console's report that a ticket became a session: `sessionToken` is verified, never trusted. */
  signedIn(
    principal: UserPrincipal,
    sessionToken: string,
    request: RequestInfo,
  ): Promise<ImpersonationRecord>
  /**
   * For `me` on an impersonated session: the staff member's email and the session's latest end,
   * from the audit row named by `principal.actor.impersonationId`, or null when there is no such
   * row or it does not match (its actor must be `actor.sub` and its user `principal.userId`; the
   * claim alone is never trusted). Optional: without it `me` answers null for both.
   */
  describeActor?(
    principal: UserPrincipal,
  ): Promise<Pick<SessionActor, 'email' | 'sessionExpiresAt'> | null>
}

export interface SessionsPort {
  /**
   * Verifies a Clerk session token that a service received and says whether it is an
   * impersonated session. An invalid or expired token is `{ valid: false }`, never an exception.
   */
  inspect(token: string): Promise<SessionInspectOutput>
}

export interface AuditPort {
  /**
   * Walks the audit hash chain and checks every link, the head and the signed checkpoints;
   * reports the first broken link. A check by a machine is recorded (an audit read).
   */
  verify(
    principal: ReaderPrincipal,
    request: RequestInfo,
    params?: AuditVerifyInput,
  ): Promise<AuditVerifyOutput>
}

/** The audit chain in chain order, a page at a time (`audit.export`). */
export interface AuditExportPort {
  /** A page of events after `params.after`; a read by a machine is recorded (an audit read). */
  export(
    principal: ReaderPrincipal,
    params: AuditExportParams,
    request: RequestInfo,
  ): Promise<AuditExportOutput>
}

/** The log streams to SIEMs, as staff see them (the audit page's panel). */
export interface LogStreamsPort {
  status(principal: StaffPrincipal): Promise<LogStreamsStatusOutput>
}

/** ActAs's outbox of webhooks to the host application, as staff see it (the audit page). */
export interface WebhooksPort {
  /** Deliveries newest first, optionally of one status; `enabled`: any endpoint configured. */
  deliveries(
    principal: StaffPrincipal,
    params: WebhookDeliveriesParams,
  ): Promise<WebhookDeliveriesOutput>
  /**
   * Puts a dead letter back in the queue (attempted again at once, same `webhook-id`). Throws
   * INVALID_INPUT for an unknown id or a delivery that is not dead.
   */
  retry(
    principal: StaffPrincipal,
    deliveryId: string,
    request: RequestInfo,
  ): Promise<WebhookDelivery>
}

/** What every procedure sees. Built per request by the host (apps/api's tRPC plugin). */
export interface ActAsContext {
  principal: Principal | null
  /**
   * Why `principal` is null although a token verified (e.g. an impersonated session ActAs
   * ended): the 401's message. Absent: no valid token was sent.
   */
  unauthenticatedReason?: string | null
  /** With `unauthenticatedReason` for an ended impersonation: how it ended (the 401's data). */
  impersonationEnded?: ImpersonationEnded | null
  request: RequestInfo
  rateLimiter: RateLimiterPort
  directory: DirectoryPort
  impersonation: ImpersonationPort
  sessions: SessionsPort
  audit: AuditPort
  /** `audit.export` (absent: the host exports nothing). */
  auditExport?: AuditExportPort
  /** `logStreams.status` (absent: no streams; the panel shows none). */
  logStreams?: LogStreamsPort
  /** Absent: the host sends no webhooks (`webhooks.deliveries` answers an empty, disabled list). */
  webhooks?: WebhooksPort
  /** Access requests and grants (access.ts); absent: the access.* and customer.* procedures answer 403. */
  access?: AccessPort
  /** `alerts.recent` (alerts.ts); absent: no rules, an empty list. */
  alerts?: AlertsPort
}
