// `logStreams.status`: the log streams to SIEMs the operator configured (LOG_STREAMS), as the
// console's panel shows them: state, how far each got in the chain, the last delivery.
import { z } from 'zod'
import { InstantSchema } from './common.js'

export const LOG_STREAM_STATES = ['active', 'retrying', 'failing'] as const
export const LogStreamStateSchema = z.enum(LOG_STREAM_STATES)
export type LogStreamState = z.infer<typeof LogStreamStateSchema>

export const LogStreamStatusSchema = z.object({
  id: z.string(),
  /** `https` (JSON Lines), `splunk_hec`, `datadog`. */
  kind: z.enum(['https', 'splunk_hec', 'datadog']),
  /** The receiver's origin (never its path nor a token). */
  origin: z.string(),
  format: z.enum(['ocsf', 'events']),
  /** `active`: delivering; `retrying`: failed lately, backing off; `failing`: failed many times in a row. */
  state: LogStreamStateSchema,
  /** The last chain position the receiver accepted, and the chain's head: the lag is their difference. */
  cursorSeq: z.number().int().min(0),
  headSeq: z.number().int().min(0),
  deliveredEvents: z.number().int().min(0),
  /** Failed attempts in a row. */
  attempts: z.number().int().min(0),
  lastDeliveredAt: InstantSchema.nullable(),
  lastAttemptAt: InstantSchema.nullable(),
  nextAttemptAt: InstantSchema.nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
})
export type LogStreamStatus = z.infer<typeof LogStreamStatusSchema>

export const LogStreamsStatusOutputSchema = z.object({
  items: z.array(LogStreamStatusSchema),
  /** Whether any stream is configured. */
  enabled: z.boolean(),
})
export type LogStreamsStatusOutput = z.infer<typeof LogStreamsStatusOutputSchema>
