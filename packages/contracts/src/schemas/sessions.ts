import { z } from 'zod'
import { ImpersonationIdSchema, InstantSchema } from './common.js'
import { ImpersonationEndedSchema, ImpersonationModeSchema } from './impersonation.js'

/** A Clerk session token (a JWT) that the calling service received; never echoed back. */
export const SessionInspectInputSchema = z.strictObject({
  token: z
    .string()
    .min(1)
    .max(8192)
    .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/, 'must be a session token (a JWT)'),
})
export type SessionInspectInput = z.infer<typeof SessionInspectInputSchema>

export const SESSION_INVALID_REASONS = ['expired', 'invalid'] as const

export const SessionInspectActorSchema = z.object({
  /** The staff user who is impersonating. */
  userId: z.string(),
  reason: z.string().nullable(),
  impersonationId: z.string().nullable(),
  /** `act.mode`: a `read_only` impersonation must not change anything (see ActorClaim.mode). */
  mode: ImpersonationModeSchema,
})

export const SessionInspectOutputSchema = z.object({
  /** False when the token failed verification (signature, expiry, authorized party, shape). */
  valid: z.boolean(),
  /** Why it is not valid; null when valid. */
  invalidReason: z.enum(SESSION_INVALID_REASONS).nullable(),
  userId: z.string().nullable(),
  sessionId: z.string().nullable(),
  impersonated: z.boolean(),
  actor: SessionInspectActorSchema.nullable(),
  expiresAt: InstantSchema.nullable(),
  /**
   * True when ActAs ended this impersonated session (kill switch, Stop, policy, cap): refuse it
   * even though its JWT still verifies until `exp`.
   */
  revoked: z.boolean(),
})
export type SessionInspectOutput = z.infer<typeof SessionInspectOutputSchema>

/** Where `sessions.revoked` left off: hand `next` back as `since`. */
export const RevokedCursorSchema = z
  .string()
  .regex(/^[0-9]{1,15}$/, 'must be a cursor returned as `next` by sessions.revoked')

/**
 * Without `since`: what ended within the last REVOKED_LOOKBACK_MINUTES (longer than any
 * impersonated session lives), so a guard that starts knows every session it must refuse.
 */
export const REVOKED_LOOKBACK_MINUTES = 120

export const SessionsRevokedInputSchema = z.strictObject({
  since: RevokedCursorSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(500),
})
export type SessionsRevokedInput = z.input<typeof SessionsRevokedInputSchema>
export type SessionsRevokedParams = z.output<typeof SessionsRevokedInputSchema>

/** An impersonation ActAs ended (kill switch, Stop, policy, cap, revoked ticket). */
export const RevokedSessionSchema = z.object({
  /** Its Clerk session (`sess_…`); null when none was ever known (a ticket never used). */
  sessionId: z.string().nullable(),
  impersonationId: ImpersonationIdSchema,
  revokedAt: InstantSchema,
})
export type RevokedSession = z.infer<typeof RevokedSessionSchema>

export const SessionsRevokedOutputSchema = z.object({
  /** Oldest first. */
  items: z.array(RevokedSessionSchema),
  /** Pass as `since` next time (the same cursor when nothing new ended). */
  next: RevokedCursorSchema,
  /** True when the page was full: ask again at once with `next`. */
  more: z.boolean(),
})
export type SessionsRevokedOutput = z.infer<typeof SessionsRevokedOutputSchema>

/**
 * `GET /v1/sessions/ended`: the push of ends, as server-sent events (`text/event-stream`), with
 * `Authorization: Bearer …` (never a token in the URL; so `fetch`, not `EventSource`). A machine
 * granted `sessions.revoked` gets every end from now on; an impersonated session gets the end of
 * its own impersonation (at once if it already ended), then the stream closes. Each `ended`
 * event's data is one `SessionEndedEvent`. See packages/guard/README.md.
 */
export const SESSIONS_ENDED_PATH = '/v1/sessions/ended'

/** One `ended` event of `GET /v1/sessions/ended`. */
export const SessionEndedEventSchema = RevokedSessionSchema.extend({
  /** The impersonated session's own stream only (else null): how it ended, for its banner. */
  impersonationEnded: ImpersonationEndedSchema.nullable(),
})
export type SessionEndedEvent = z.infer<typeof SessionEndedEventSchema>
