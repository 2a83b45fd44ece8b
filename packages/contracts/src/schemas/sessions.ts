import { z } from 'zod'
import { InstantSchema } from './common.js'
import { ImpersonationModeSchema } from './impersonation.js'

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
