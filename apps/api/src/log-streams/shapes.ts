// The HTTP request of one batch, in each receiver's shape. Events carry their id for the
// receiver's de-duplication (delivery is at least once): OCSF `metadata.uid`, the event's hash.
import type { LogStreamConfig } from './config.js'

export interface StreamItem {
  /** The event's unique id (its chain hash). */
  id: string
  /** Unix ms. */
  time: number
  /** What is sent: the OCSF event, or ActAs's event. */
  body: Record<string, unknown>
}

export interface StreamRequest {
  headers: Record<string, string>
  body: string
}

export function streamRequest(
  stream: Pick<LogStreamConfig, 'kind' | 'token' | 'format' | 'id'>,
  items: StreamItem[],
): StreamRequest {
  const common = { 'user-agent': 'ActAs-log-stream/1', 'x-actas-stream': stream.id }
  switch (stream.kind) {
    case 'https':
      return {
        headers: {
          ...common,
          'content-type': 'application/x-ndjson',
          ...(stream.token ? { authorization: `Bearer ${stream.token}` } : {}),
        },
        body: items.map((i) => `${JSON.stringify(i.body)}\n`).join(''),
      }
    case 'splunk_hec':
      // HEC takes several event objects in one body, one after the other.
      return {
        headers: {
          ...common,
          'content-type': 'application/json',
          authorization: `Splunk ${stream.token ?? ''}`,
        },
        body: items
          .map((i) =>
            JSON.stringify({
              time: i.time / 1000,
              source: 'actas',
              sourcetype: stream.format === 'ocsf' ? 'ocsf' : 'actas:audit',
              event: i.body,
            }),
          )
          .join('\n'),
      }
    case 'datadog':
      return {
        headers: {
          ...common,
          'content-type': 'application/json',
          'dd-api-key': stream.token ?? '',
        },
        body: JSON.stringify(
          items.map((i) => ({
            ddsource: 'actas',
            service: 'actas',
            ddtags: `format:${stream.format}`,
            message: JSON.stringify(i.body),
          })),
        ),
      }
    default: {
      const unknownKind: never = stream.kind
      throw new Error(`unknown log stream kind ${String(unknownKind)}`)
    }
  }
}
