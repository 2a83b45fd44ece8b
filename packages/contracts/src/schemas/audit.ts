import { z } from 'zod'

/** Where the audit chain first breaks, and why. */
export const AuditChainBreakSchema = z.object({
  /** The chain position of the first event that does not verify (or the head/checkpoint's). */
  seq: z.number().int(),
  reason: z.string(),
})

/**
 * `audit.verify`'s input. By default the walk is incremental: from the last signed checkpoint (or
 * the head this API instance last verified) to the head. `full: true` (staff only) walks from the
 * first event; so does the `audit:verify` command.
 */
export const AuditVerifyInputSchema = z
  .strictObject({
    full: z.boolean().optional(),
  })
  .optional()
export type AuditVerifyInput = z.infer<typeof AuditVerifyInputSchema>

export const AuditVerifyOutputSchema = z.object({
  /**
   * What was walked verifies: every hash and link, the head, every checkpoint signature and the
   * checkpoints' cadence, and every impersonation row touched says what its events say.
   */
  ok: z.boolean(),
  /** Events walked. */
  events: z.number().int().min(0),
  /** Whether the walk started at the first event (else at `from`). */
  full: z.boolean(),
  /** The seq the walk started after: 0, a signed checkpoint, or a head verified before. */
  from: z.number().int().min(0),
  /** Impersonation rows recomputed from their events and compared. */
  rows: z.number().int().min(0),
  head: z.object({ seq: z.number().int(), hash: z.string() }),
  firstBroken: AuditChainBreakSchema.nullable(),
  checkpoints: z.object({
    total: z.number().int().min(0),
    /** Checkpoints whose signature verifies with the configured key and whose hash is the chain's. */
    verified: z.number().int().min(0),
    lastSeq: z.number().int().nullable(),
    /** The Ed25519 public key checkpoints are checked against (SPKI PEM), if one is configured. */
    publicKey: z.string().nullable(),
  }),
  verifiedAt: z.iso.datetime({ offset: false }),
})
export type AuditVerifyOutput = z.infer<typeof AuditVerifyOutputSchema>
