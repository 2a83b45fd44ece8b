import { z } from 'zod'
import { InstantSchema } from './common.js'
import { ImpersonationModeSchema } from './impersonation.js'

export const ActiveOrganizationSchema = z.object({
  id: z.string(),
  slug: z.string().nullable(),
  role: z.string().nullable(),
})
export type ActiveOrganization = z.infer<typeof ActiveOrganizationSchema>

/**
 * Present when the caller's own session is an impersonated one. `userId`, `impersonationId` and
 * `reason` come from the token's `act` claim; `email` and `sessionExpiresAt` from the audit row
 * that `impersonationId` names, and only when that row's actor and user are this session's
 * (otherwise, or without an audit log, null).
 */
export const SessionActorSchema = z.object({
  /** The staff user who is impersonating. */
  userId: z.string(),
  impersonationId: z.string().nullable(),
  reason: z.string().nullable(),
  /** `act.mode`: `read_only` or `full` (a session token without it: `full`). */
  mode: ImpersonationModeSchema,
  /** The staff member's email as recorded in the audit row when the impersonation started. */
  email: z.string().nullable(),
  /**
   * The audit row's `sessionExpiresAt`: the latest the impersonated session can end (ticket
   * expiry + session minutes). The Clerk session's own expiry may be earlier (it counts from
   * when the ticket was used); show whichever comes first.
   */
  sessionExpiresAt: InstantSchema.nullable(),
})
export type SessionActor = z.infer<typeof SessionActorSchema>

export const MeOutputSchema = z.object({
  userId: z.string(),
  sessionId: z.string().nullable(),
  organization: ActiveOrganizationSchema.nullable(),
  permissions: z.array(z.string()),
  /** True when this session may use the staff procedures (search, start, revoke, list, quota). */
  canImpersonate: z.boolean(),
  actor: SessionActorSchema.nullable(),
})
export type MeOutput = z.infer<typeof MeOutputSchema>

export const QuotaOutputSchema = z.object({
  /** Actor tokens issued since the start of this calendar month (UTC). */
  used: z.number().int().min(0),
  /** Monthly actor tokens included in the plan (Clerk's free plan: 5). */
  limit: z.number().int().min(0),
  remaining: z.number().int().min(0),
  /** True when the next impersonation would go beyond the plan (billable, or refused by Clerk). */
  nextIsBillable: z.boolean(),
  periodStart: InstantSchema,
  periodEnd: InstantSchema,
})
export type QuotaOutput = z.infer<typeof QuotaOutputSchema>
