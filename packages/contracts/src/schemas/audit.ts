import { z } from 'zod'

/** Where the audit chain first breaks, and why. */
export const AuditChainBreakSchema = z.object({
  /** The chain position of the first event that does not verify (or the head/checkpoint's). */
  seq: z.number().int(),
  reason: z.string(),
})

export const AuditVerifyOutputSchema = z.object({
  /** The whole chain verifies: every hash, every link, the head and every checkpoint signature. */
  ok: z.boolean(),
  /** Events walked. */
  events: z.number().int().min(0),
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
