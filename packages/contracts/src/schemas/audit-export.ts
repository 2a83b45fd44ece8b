// `audit.export`: the audit chain in chain order, a page at a time, as ActAs's events or in their
// OCSF form (issue 23). What a compliance job or a SIEM pulls; the log streams push the same.
import { z } from 'zod'
import { ImpersonationIdSchema, InstantSchema } from './common.js'
import {
  AuditPartySchema,
  ImpersonationEventSchema,
  ImpersonationModeSchema,
} from './impersonation.js'
import type { ImpersonationEvent } from './impersonation.js'

/** `events`: ActAs's own events with their parties; `ocsf`: their OCSF 1.8.0 form. */
export const AUDIT_EXPORT_FORMATS = ['events', 'ocsf'] as const
export const AuditExportFormatSchema = z.enum(AUDIT_EXPORT_FORMATS)
export type AuditExportFormat = z.infer<typeof AuditExportFormatSchema>

export const AUDIT_EXPORT_PAGE_MAX = 1000

export const AuditExportInputSchema = z.strictObject({
  /** Events after this chain position (`next` of the previous page; 0: from the first). */
  after: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(AUDIT_EXPORT_PAGE_MAX).default(500),
  /** Events appended at or after this instant. */
  from: InstantSchema.optional(),
  /** Events appended before this instant. */
  to: InstantSchema.optional(),
  format: AuditExportFormatSchema.default('events'),
})
export type AuditExportInput = z.input<typeof AuditExportInputSchema>
export type AuditExportParams = z.output<typeof AuditExportInputSchema>

/** One event of the chain with the impersonation it belongs to. */
export const AuditExportEventSchema = ImpersonationEventSchema.extend({
  impersonationId: ImpersonationIdSchema,
  /** The staff member who impersonates. */
  actor: AuditPartySchema,
  /** The customer impersonated. */
  user: AuditPartySchema,
  mode: ImpersonationModeSchema,
})
export type AuditExportEvent = ImpersonationEvent & z.infer<typeof AuditExportEventSchema>

/**
 * An OCSF event (the class's attributes are checked against OCSF's schema in ActAs's tests; here
 * only what every class has). `metadata.sequence` is the chain position, `metadata.uid` the
 * event's hash, `metadata.correlation_uid` the impersonation id.
 */
export const OcsfEventSchema = z.looseObject({
  class_uid: z.number().int(),
  category_uid: z.number().int(),
  activity_id: z.number().int(),
  type_uid: z.number().int(),
  severity_id: z.number().int(),
  time: z.number().int(),
  metadata: z.looseObject({
    version: z.string(),
    uid: z.string(),
    sequence: z.number().int().optional(),
    correlation_uid: z.string().optional(),
  }),
})
export type OcsfEventOutput = z.infer<typeof OcsfEventSchema>

export const AuditExportOutputSchema = z.object({
  format: AuditExportFormatSchema,
  /** format `events`: the page (else empty). */
  events: z.array(AuditExportEventSchema),
  /** format `ocsf`: the page in OCSF form (else empty). */
  ocsf: z.array(OcsfEventSchema),
  /** The `after` of the next page: the last chain position read (or `after` for an empty page). */
  next: z.number().int().min(0),
  /** Whether events may follow (the page was full). */
  more: z.boolean(),
  /** The chain's head when the page was read: a bound for progress. */
  headSeq: z.number().int().min(0),
})
export type AuditExportOutput = z.infer<typeof AuditExportOutputSchema>
