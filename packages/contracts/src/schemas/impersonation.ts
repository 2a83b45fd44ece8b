import { z } from 'zod'
import { CursorSchema, ImpersonationIdSchema, InstantSchema, UserIdSchema } from './common.js'
import { IMPERSONATION_MODES, REASON_MAX_LENGTH, REASON_MIN_LENGTH } from '../facts.js'

/**
 * An impersonation's status, derived from its events (see IMPERSONATION_EVENT_TYPES):
 * `pending` (requested, Clerk not answered yet), `issued` (ticket handed out, not used yet),
 * `signed_in` (the ticket became a live Clerk session), and the terminal ones: `ended` (the
 * session ended, `endCause` says why), `expired` (the ticket expired unused), `revoked` (the
 * ticket was revoked before use), `denied` (refused: authorization, policy, invalid input, rate
 * limit), `failed` (Clerk or the directory failed, or the ticket sign-in failed).
 */
export const IMPERSONATION_STATUSES = [
  'pending',
  'issued',
  'signed_in',
  'ended',
  'expired',
  'revoked',
  'denied',
  'failed',
] as const
export const ImpersonationStatusSchema = z.enum(IMPERSONATION_STATUSES)
export type ImpersonationStatus = z.infer<typeof ImpersonationStatusSchema>

/**
 * What each status says, the one table the named sets below are read from: `open` (an event can
 * still leave it), `billed` (reached only through an `issued` event: Clerk issued, and billed, an
 * actor token), `settled` (a settling event, SETTLING_EVENT_TYPES, led to it: any ticket or
 * session it had is refused from then on).
 */
const STATUS_FACTS = {
  pending: { open: true, billed: false, settled: false },
  issued: { open: true, billed: true, settled: false },
  signed_in: { open: true, billed: true, settled: false },
  ended: { open: false, billed: true, settled: true },
  expired: { open: false, billed: true, settled: true },
  revoked: { open: false, billed: true, settled: true },
  denied: { open: false, billed: false, settled: false },
  // A `failed` row may have been billed (its ticket sign-in failed after `issued`) or not (Clerk
  // refused the ticket): the quota counts `issued` events (BILLING_EVENT_TYPE), never statuses.
  failed: { open: false, billed: false, settled: true },
} as const satisfies Record<
  ImpersonationStatus,
  { open: boolean; billed: boolean; settled: boolean }
>

type StatusFact = keyof (typeof STATUS_FACTS)[ImpersonationStatus]
type StatusesWhere<F extends StatusFact, V extends boolean> = {
  [S in ImpersonationStatus]: (typeof STATUS_FACTS)[S][F] extends V ? S : never
}[ImpersonationStatus]

/** The statuses, in IMPERSONATION_STATUSES' order, whose `fact` is `value`. */
function statusesWhere<F extends StatusFact, V extends boolean>(
  fact: F,
  value: V,
): readonly StatusesWhere<F, V>[] {
  return IMPERSONATION_STATUSES.filter(
    (s): s is StatusesWhere<F, V> => STATUS_FACTS[s][fact] === value,
  )
}

/** Statuses an impersonation can still leave: the ticket is pending or unused, or the session is live. */
export const OPEN_IMPERSONATION_STATUSES = statusesWhere('open', true)

/** Statuses no event can leave. */
export const TERMINAL_IMPERSONATION_STATUSES = statusesWhere('open', false)

/**
 * Statuses only an `issued` ticket leads to: such a row holds its slot of the monthly quota
 * whatever happened to it after (signed in, ended, expired, revoked).
 */
export const BILLED_IMPERSONATION_STATUSES = statusesWhere('billed', true)

/** Statuses a settling event leads to: the ticket or session is refused from then on. */
export const SETTLED_IMPERSONATION_STATUSES = statusesWhere('settled', true)

/** What can happen to an impersonation; each is one append-only, hash-chained event. */
export const IMPERSONATION_EVENT_TYPES = [
  'requested',
  'denied',
  'issued',
  'failed',
  'signed_in',
  'ticket_revoked',
  'ended',
] as const
export const ImpersonationEventTypeSchema = z.enum(IMPERSONATION_EVENT_TYPES)
export type ImpersonationEventType = z.infer<typeof ImpersonationEventTypeSchema>

/** The event that bills a ticket: the monthly quota counts these (`quota` and the block-mode gate). */
export const BILLING_EVENT_TYPE = 'issued' satisfies ImpersonationEventType

/**
 * Events that settle an impersonation for good: its ticket or session is refused from then on
 * (`sessions.revoked`, the guard). They lead to SETTLED_IMPERSONATION_STATUSES.
 */
export const SETTLING_EVENT_TYPES = [
  'ended',
  'ticket_revoked',
  'failed',
] as const satisfies readonly ImpersonationEventType[]

/**
 * Why an impersonation ended (the `cause` of an `ended` event). `ticket_expired_unused` ends it
 * as `expired`; every other cause as `ended`.
 */
export const END_CAUSES = [
  /** The impersonated session's own Stop. */
  'stopped_by_actor',
  /** A staff member's kill switch (`by` and `reason` say who and why). */
  'ended_by_staff',
  /** The session reached its requested length. */
  'expired_at_cap',
  'expired_inactivity',
  'ticket_expired_unused',
  /** The session ended in Clerk without ActAs (signed out, removed, revoked elsewhere). */
  'signed_out',
  // Ended by policy: the actor…
  'actor_lost_permission',
  'actor_banned',
  'actor_locked',
  'actor_deleted',
  // …or the target.
  'target_became_staff',
  'target_banned',
  'target_locked',
  'target_deleted',
  /** The target joined a read-only organization (READ_ONLY_ORGANIZATIONS) while impersonated in `full`. */
  'target_became_read_only',
  // Ended by access (access.ts): the grant it started under was revoked or ran out, or the
  // customer withdrew consent…
  'access_revoked',
  'access_expired',
  /** …or the target's organization switched impersonation off (or to consent required). */
  'organization_off',
] as const
export const EndCauseSchema = z.enum(END_CAUSES)
export type EndCause = z.infer<typeof EndCauseSchema>

export const SESSION_MINUTES_MAX = 30

/** `read_only`: the application refuses every non-safe request; `full`: anything but the blocked routes. */
export const ImpersonationModeSchema = z.enum(IMPERSONATION_MODES)

/** SHA-256 of a return secret, lower-case hex. */
export const ReturnSecretHashSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 digest in lower-case hex')

/** A return secret: at least 32 random bytes, base64url (43+ characters). */
export const ReturnSecretSchema = z
  .string()
  .min(43)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')

/** A Clerk session token (a JWT). */
const SessionTokenSchema = z
  .string()
  .min(1)
  .max(8192)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/, 'must be a session token (a JWT)')

export const ImpersonationStartInputSchema = z.strictObject({
  userId: UserIdSchema,
  reason: z.string().trim().min(REASON_MIN_LENGTH).max(REASON_MAX_LENGTH),
  /** Link to the support ticket that justifies the impersonation. */
  ticketUrl: z
    .url({ protocol: /^https?$/, hostname: z.regexes.domain })
    .max(2000)
    .optional(),
  sessionMinutes: z.number().int().min(1).max(SESSION_MINUTES_MAX).default(SESSION_MINUTES_MAX),
  /**
   * SHA-256 (hex) of the console's return secret: a random value the console keeps in the tab's
   * `sessionStorage` and sends to `impersonation.stop` to get back in as the staff member.
   */
  returnSecretHash: ReturnSecretHashSchema.optional(),
  /**
   * What the impersonation may do as the customer. Default: the API's IMPERSONATION_DEFAULT_MODE
   * (`full` unless configured), or `read_only` for a target the policy allows only read-only
   * (asking `full` for such a target is refused with POLICY_DENIED, rule `read_only_target`).
   */
  mode: ImpersonationModeSchema.optional(),
  /**
   * Machines only (a Clerk M2M token granted `impersonation.start`): the staff member on whose
   * behalf the machine starts it, judged exactly as if they started it and recorded as its actor
   * (the machine as `via`). A staff session token never sends it (INVALID_INPUT).
   */
  onBehalfOf: UserIdSchema.optional(),
  /**
   * The caller stops waiting for the answer at this instant (the console: its request timeout,
   * less a margin for the answer's way back). Past it the API asks Clerk for no ticket, and a
   * ticket Clerk issues after it is revoked at once (the start fails, SERVICE_UNAVAILABLE): no
   * ticket is issued that nobody receives. Compared with the API's clock (kept in sync by NTP).
   */
  deadline: InstantSchema.optional(),
  /**
   * Where to land in the host application (an absolute URL); refused unless its origin is one of
   * the API's APP_ORIGINS. Default: the first of APP_ORIGINS + APP_HOME_PATH.
   */
  landingUrl: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
})
export type ImpersonationStartInput = z.input<typeof ImpersonationStartInputSchema>
export type ImpersonationStartParams = z.output<typeof ImpersonationStartInputSchema>

export const ImpersonationStartOutputSchema = z.object({
  impersonationId: ImpersonationIdSchema,
  /** The one-time sign-in ticket (`signIn.create({ strategy: 'ticket', ticket })`). Never logged or stored. */
  ticket: z.string().min(1),
  /** When the ticket stops being accepted. */
  expiresAt: InstantSchema,
  /** Latest end of the impersonated session. */
  sessionExpiresAt: InstantSchema,
  /** Where the app should go once signed in with the ticket. */
  redirectPath: z.string().startsWith('/'),
  /**
   * The host application's URL to land on instead (an origin of the API's APP_ORIGINS, checked),
   * carrying the Clerk session across origins; null or absent: `redirectPath` in the console.
   */
  landingUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .optional(),
  /** The mode it was issued with (in the session token's `act.mode`). */
  mode: ImpersonationModeSchema,
})
export type ImpersonationStartOutput = z.infer<typeof ImpersonationStartOutputSchema>

export const ImpersonationRevokeInputSchema = z.strictObject({
  impersonationId: ImpersonationIdSchema,
})
export type ImpersonationRevokeInput = z.infer<typeof ImpersonationRevokeInputSchema>

export const AuditPartySchema = z.object({
  id: z.string(),
  email: z.string().nullable(),
})

/** One audit-log row, as the console shows it. Never contains the ticket. */
export const ImpersonationRecordSchema = z.object({
  id: ImpersonationIdSchema,
  actor: AuditPartySchema,
  user: AuditPartySchema,
  reason: z.string(),
  ticketUrl: z.string().nullable(),
  /** The mode asked for (or defaulted); rows from before modes existed are `full`. */
  mode: ImpersonationModeSchema,
  status: ImpersonationStatusSchema,
  /** For denied/failed rows: the error code and a plain explanation. */
  outcomeCode: z.string().nullable(),
  outcomeMessage: z.string().nullable(),
  clerkActorTokenId: z.string().nullable(),
  sessionMinutes: z.number().int(),
  expiresAt: InstantSchema.nullable(),
  sessionExpiresAt: InstantSchema.nullable(),
  /** The Clerk session the ticket became (from the `signed_in` event). */
  clerkSessionId: z.string().nullable(),
  signedInAt: InstantSchema.nullable(),
  /** When a terminal event settled it. */
  endedAt: InstantSchema.nullable(),
  /** For `ended`/`expired`: why; `endedBy` is who (a staff member, the actor, `system`). */
  endCause: EndCauseSchema.nullable(),
  endedBy: z.string().nullable(),
  endReason: z.string().nullable(),
  /**
   * 1 for one attempt; more for an aggregate record (`denied`) standing for that many refused
   * attempts of one caller in one minute beyond the full records kept.
   */
  attempts: z.number().int().min(1),
  createdAt: InstantSchema,
  updatedAt: InstantSchema,
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
})
export type ImpersonationRecord = z.infer<typeof ImpersonationRecordSchema>

/** One event of an impersonation's timeline, with its place in the audit hash chain. */
export const ImpersonationEventSchema = z.object({
  /** Position in the audit chain (1, 2, …, across all impersonations). */
  seq: z.number().int().min(1),
  type: ImpersonationEventTypeSchema,
  cause: EndCauseSchema.nullable(),
  /** Who made it happen: a user id, a machine id, or `system` (reconciler, expiry). */
  by: z.string().nullable(),
  reason: z.string().nullable(),
  clerkSessionId: z.string().nullable(),
  /** Event details (error code and message, ticket expiry, …): flat, scalar values. */
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  at: InstantSchema,
  prevHash: z.string(),
  hash: z.string(),
})
export type ImpersonationEvent = z.infer<typeof ImpersonationEventSchema>

export const ImpersonationGetInputSchema = z.strictObject({
  impersonationId: ImpersonationIdSchema,
})
export type ImpersonationGetInput = z.infer<typeof ImpersonationGetInputSchema>

/** The record with its event timeline, oldest first. */
/** One request the impersonated session made in the host application (the guard's report). */
export const ImpersonationActionRecordSchema = z.object({
  method: z.string(),
  /** The route pattern (`/orders/:id`): never the path's values or the query string. */
  route: z.string(),
  status: z.number().int(),
  at: InstantSchema,
})
export type ImpersonationActionRecord = z.infer<typeof ImpersonationActionRecordSchema>

export const ImpersonationGetOutputSchema = ImpersonationRecordSchema.extend({
  events: z.array(ImpersonationEventSchema),
  /**
   * What the session did in the host application (reported by `@actas/guard` through
   * `impersonation.actions`), in time order; the first MAX_ACTIONS_IN_GET of them.
   */
  actions: z.array(ImpersonationActionRecordSchema),
  /** How many actions were reported in all (more than `actions.length` when capped). */
  actionsTotal: z.number().int().min(0),
})
export type ImpersonationGetOutput = z.infer<typeof ImpersonationGetOutputSchema>

export const ImpersonationRevokeOutputSchema = ImpersonationRecordSchema
export type ImpersonationRevokeOutput = z.infer<typeof ImpersonationRevokeOutputSchema>

export const ImpersonationListInputSchema = z.strictObject({
  actorId: UserIdSchema.optional(),
  userId: UserIdSchema.optional(),
  status: ImpersonationStatusSchema.optional(),
  /** Rows created at or after this instant. */
  from: InstantSchema.optional(),
  /** Rows created before this instant. */
  to: InstantSchema.optional(),
  cursor: CursorSchema.optional(),
  limit: z.number().int().min(1).max(100).default(50),
})
export type ImpersonationListInput = z.input<typeof ImpersonationListInputSchema>
export type ImpersonationListParams = z.output<typeof ImpersonationListInputSchema>

export const ImpersonationListOutputSchema = z.object({
  items: z.array(ImpersonationRecordSchema),
  next: CursorSchema.nullable(),
  /** How many records match the filters (every page, not just this one). */
  total: z.number().int().min(0),
})
export type ImpersonationListOutput = z.infer<typeof ImpersonationListOutputSchema>

/** One live impersonation, as the "Active now" board shows it. */
export const ActiveImpersonationSchema = z.object({
  id: ImpersonationIdSchema,
  actor: AuditPartySchema,
  user: AuditPartySchema,
  reason: z.string(),
  ticketUrl: z.string().nullable(),
  mode: ImpersonationModeSchema,
  clerkSessionId: z.string().nullable(),
  signedInAt: InstantSchema.nullable(),
  /** When it ends at the latest (its cap): sign-in + requested minutes, or the row's latest end. */
  endsAt: InstantSchema.nullable(),
  /** Clerk's `last_active_at` of the session, when Clerk answered (null otherwise). */
  lastActiveAt: InstantSchema.nullable(),
})
export type ActiveImpersonation = z.infer<typeof ActiveImpersonationSchema>

export const ImpersonationActiveOutputSchema = z.object({
  items: z.array(ActiveImpersonationSchema),
})
export type ImpersonationActiveOutput = z.infer<typeof ImpersonationActiveOutputSchema>

/** The kill switch: any staff member ends a live impersonation (or an unused ticket), saying why. */
export const ImpersonationEndInputSchema = z.strictObject({
  impersonationId: ImpersonationIdSchema,
  reason: z.string().trim().min(3).max(500),
  /**
   * Machines only (granted `impersonation.end`): the staff member on whose behalf the machine ends
   * it, who must still be staff; only an impersonation the machine started itself.
   */
  onBehalfOf: UserIdSchema.optional(),
})
export type ImpersonationEndInput = z.infer<typeof ImpersonationEndInputSchema>
export const ImpersonationEndOutputSchema = ImpersonationRecordSchema
export type ImpersonationEndOutput = z.infer<typeof ImpersonationEndOutputSchema>

/** The impersonated session's own Stop; with the return secret it may get the way back. */
export const ImpersonationStopInputSchema = z.strictObject({
  returnSecret: ReturnSecretSchema.optional(),
})
export type ImpersonationStopInput = z.infer<typeof ImpersonationStopInputSchema>

/** Why no return ticket came back from `impersonation.stop`. */
export const RETURN_REFUSALS = [
  /** RETURN_TO_CONSOLE=off. */
  'disabled',
  /** No return secret was sent (another tab, a leaked session token). */
  'no_secret',
  /** The secret does not match the one this impersonation started with (or none was set). */
  'secret_mismatch',
  /** The impersonation was no longer live (already ended, or ended by this very call elsewhere). */
  'not_live',
  /** Past the impersonation's cap. */
  'past_cap',
  /** The staff member no longer holds the permission in a staff organization, or is banned/locked/gone. */
  'actor_not_allowed',
  /** Clerk could not create the sign-in token. */
  'clerk_unavailable',
] as const
export const ReturnRefusalSchema = z.enum(RETURN_REFUSALS)
export type ReturnRefusal = z.infer<typeof ReturnRefusalSchema>

export const ImpersonationStopOutputSchema = z.object({
  impersonation: ImpersonationRecordSchema,
  /**
   * A one-time Clerk sign-in token for the staff member (ticket strategy), valid at most 60 s;
   * null when the way back was refused (`returnRefused` says why). Never logged or stored.
   */
  returnTicket: z.string().min(1).nullable(),
  returnRefused: ReturnRefusalSchema.nullable(),
})
export type ImpersonationStopOutput = z.infer<typeof ImpersonationStopOutputSchema>

/** The console's report after `setActive`: the new session's token, verified by the API. */
export const ImpersonationSignedInInputSchema = z.strictObject({
  sessionToken: SessionTokenSchema,
})
export type ImpersonationSignedInInput = z.infer<typeof ImpersonationSignedInInputSchema>
export const ImpersonationSignedInOutputSchema = ImpersonationRecordSchema
export type ImpersonationSignedInOutput = z.infer<typeof ImpersonationSignedInOutputSchema>

/**
 * Why the console's ticket sign-in failed: a short code, e.g. the console's sign-in error kind
 * (`ticket_expired`, `ticket_used`, `ticket_invalid`, `unavailable`, `rate_limited`, …).
 */
export const SignInFailureCodeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a short code in lower case (a-z, 0-9, _)')

/**
 * The console's report that the ticket sign-in failed (`impersonation.signInFailed`): only the
 * staff member who started the impersonation may send it, while the ticket has not become a
 * session. Appends `failed` (once) and revokes the ticket in Clerk.
 */
export const ImpersonationSignInFailedInputSchema = z.strictObject({
  impersonationId: ImpersonationIdSchema,
  code: SignInFailureCodeSchema,
})
export type ImpersonationSignInFailedInput = z.infer<typeof ImpersonationSignInFailedInputSchema>
export const ImpersonationSignInFailedOutputSchema = ImpersonationRecordSchema
export type ImpersonationSignInFailedOutput = z.infer<typeof ImpersonationSignInFailedOutputSchema>

/**
 * How an impersonation ended, as its own (refused) session is told: carried by the 401 every
 * call of that session gets once ActAs ended it (`data.impersonationEnded`). Only ever about the
 * impersonation the refused token belongs to.
 */
export const ImpersonationEndedSchema = z.object({
  impersonationId: ImpersonationIdSchema,
  status: ImpersonationStatusSchema,
  cause: EndCauseSchema.nullable(),
  /** Who ended it: a staff member (with the email known for them), the actor, or `system`. */
  endedBy: AuditPartySchema.nullable(),
  reason: z.string().nullable(),
  endedAt: InstantSchema.nullable(),
})
export type ImpersonationEnded = z.infer<typeof ImpersonationEndedSchema>
