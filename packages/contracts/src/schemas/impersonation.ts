import { z } from 'zod'
import { CursorSchema, ImpersonationIdSchema, InstantSchema, UserIdSchema } from './common.js'

export const IMPERSONATION_STATUSES = ['pending', 'issued', 'denied', 'failed', 'revoked'] as const
export const ImpersonationStatusSchema = z.enum(IMPERSONATION_STATUSES)
export type ImpersonationStatus = z.infer<typeof ImpersonationStatusSchema>

export const SESSION_MINUTES_MAX = 30

export const ImpersonationStartInputSchema = z.strictObject({
  userId: UserIdSchema,
  reason: z.string().trim().min(10).max(500),
  /** Link to the support ticket that justifies the impersonation. */
  ticketUrl: z
    .url({ protocol: /^https?$/, hostname: z.regexes.domain })
    .max(2000)
    .optional(),
  sessionMinutes: z.number().int().min(1).max(SESSION_MINUTES_MAX).default(SESSION_MINUTES_MAX),
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
  status: ImpersonationStatusSchema,
  /** For denied/failed rows: the error code and a plain explanation. */
  outcomeCode: z.string().nullable(),
  outcomeMessage: z.string().nullable(),
  clerkActorTokenId: z.string().nullable(),
  sessionMinutes: z.number().int(),
  expiresAt: InstantSchema.nullable(),
  sessionExpiresAt: InstantSchema.nullable(),
  createdAt: InstantSchema,
  updatedAt: InstantSchema,
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
})
export type ImpersonationRecord = z.infer<typeof ImpersonationRecordSchema>

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
})
export type ImpersonationListOutput = z.infer<typeof ImpersonationListOutputSchema>
