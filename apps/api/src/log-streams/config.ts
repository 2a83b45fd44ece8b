// LOG_STREAMS: the log streams the operator configured, as JSON. Error messages name the entry
// and the field, never a token (nor JSON.parse's message, which quotes the text).
//
//   LOG_STREAMS='[{"id":"siem","kind":"https","url":"https://siem.example.com/ingest","token":"…"},
//                 {"id":"splunk","kind":"splunk_hec","url":"https://splunk.example.com:8088/services/collector/event","token":"…"},
//                 {"id":"datadog","kind":"datadog","url":"https://http-intake.logs.datadoghq.com/api/v2/logs","token":"<DD-API-KEY>"}]'
import { z } from 'zod'
import { jsonSetting, receiverUrl } from '../json-setting.js'

/**
 * `https`: a POST of JSON Lines (`application/x-ndjson`), `Authorization: Bearer <token>` when a
 * token is set. `splunk_hec`: Splunk HTTP Event Collector (`Authorization: Splunk <token>`, one
 * `{"time","source","sourcetype","event"}` object per event). `datadog`: the Datadog logs intake
 * (`DD-API-KEY: <token>`, a JSON array of log objects).
 */
export const LOG_STREAM_KINDS = ['https', 'splunk_hec', 'datadog'] as const
export type LogStreamKind = (typeof LOG_STREAM_KINDS)[number]

const LogStreamSchema = z.strictObject(
  {
    id: z
      .string({ error: 'id is required' })
      .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'id must be 1–40 of a-z, 0-9, _ and -'),
    kind: z.enum(LOG_STREAM_KINDS, { error: 'kind must be https, splunk_hec or datadog' }),
    url: receiverUrl(': use token'),
    /** The receiver's credential (a bearer token, a HEC token, a Datadog API key). Never logged. */
    token: z.string().min(1).max(4096).optional(),
    /** `ocsf` (default): OCSF 1.8.0 events; `events`: ActAs's own events with their parties. */
    format: z.enum(['ocsf', 'events']).default('ocsf'),
    /** Events per request. */
    batchSize: z.number().int().min(1).max(1000).default(100),
    /** An attempt without an answer after this long fails (ms). */
    timeoutMs: z.number().int().min(100).max(60_000).default(8000),
    /** Backoff after the n-th failure in a row: base × 2^(n−1), at most max (ms); retried forever. */
    retryBaseMs: z.number().int().min(10).max(3_600_000).default(1000),
    retryMaxMs: z.number().int().min(10).max(3_600_000).default(300_000),
    /** Failures in a row after which the stream shows as `failing` (before: `retrying`). */
    failingAfter: z.number().int().min(1).max(1000).default(5),
    /** How often the stream looks for new events (ms). */
    pollMs: z.number().int().min(50).max(60_000).default(500),
  },
  { error: 'each stream is {"id","kind","url", …} (see LOG_STREAMS in the README)' },
)
export type LogStreamConfig = z.output<typeof LogStreamSchema>

export const LogStreamsEnvSchema = jsonSetting(
  'LOG_STREAMS must be a JSON array of streams',
  [],
).pipe(
  z
    .array(LogStreamSchema, { error: 'LOG_STREAMS must be a JSON array of streams' })
    .max(20, 'LOG_STREAMS: at most 20 streams')
    .superRefine((list, ctx) => {
      const seen = new Set<string>()
      list.forEach((s, i) => {
        if (seen.has(s.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `id ${s.id} is used twice` })
        seen.add(s.id)
        if (s.retryMaxMs < s.retryBaseMs)
          ctx.addIssue({
            code: 'custom',
            path: [i, 'retryMaxMs'],
            message: 'must be at least retryBaseMs',
          })
        if (s.kind !== 'https' && !s.token)
          ctx.addIssue({ code: 'custom', path: [i, 'token'], message: `${s.kind} needs a token` })
      })
    }),
)
