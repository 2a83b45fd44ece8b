import { z } from 'zod'
import { InstantSchema } from './common.js'

export const ActiveOrganizationSchema = z.object({
  id: z.string(),
  slug: z.string().nullable(),
  role: z.string().nullable(),
})
export type ActiveOrganization = z.infer<typeof ActiveOrganizationSchema>

/** Present when the caller's own session is an impersonated one (the token's `act` claim). */
export const SessionActorSchema = z.object({
  /** The staff user who is impersonating. */
  userId: z.string(),
  impersonationId: z.string().nullable(),
  reason: z.string().nullable(),
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
