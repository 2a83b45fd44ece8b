// A local receiver of log streams for the tests and the bench: an HTTP server on loopback that
// understands the three POST shapes (JSON Lines, Splunk HEC, Datadog logs intake) and records
// every event it was sent, by stream, duplicates included. It can be down (503), accept a
// batch and still answer 500 (the stream must send it again: at least once), or accept a batch
// and hold the answer back (`hold`: a delivery in flight, until the sender goes away).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  stream: string
  /** The OCSF event (or ActAs's event) as sent. */
  event: Record<string, unknown>
  at: number
}

export type ReceiverMode = 'up' | 'down' | 'accept-then-fail' | 'hold'

export interface Receiver {
  url: string
  mode: ReceiverMode
  received: Received[]
  requests: Array<{
    stream: string
    path: string
    headers: Record<string, string | string[] | undefined>
    /** The answer's status; 0 for a request held (`hold`) and never answered. */
    status: number
  }>
  /** The stream's events once each (by id, first receipt kept), in the order first received. */
  unique(stream: string, id: (e: Record<string, unknown>) => string): Record<string, unknown>[]
  close(): Promise<void>
}

function parse(path: string, body: string): Record<string, unknown>[] {
  if (path.includes('/services/collector'))
    // Splunk HEC: event objects one after the other.
    return body
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (JSON.parse(l) as { event: Record<string, unknown> }).event)
  if (path.includes('/api/v2/logs'))
    return (JSON.parse(body) as Array<{ message: string }>).map(
      (l) => JSON.parse(l.message) as Record<string, unknown>,
    )
  return body
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    mode: 'up',
    received: [],
    requests: [],
    unique(stream, id) {
      const seen = new Set<string>()
      const out: Record<string, unknown>[] = []
      for (const r of this.received) {
        if (r.stream !== stream) continue
        const key = id(r.event)
        if (seen.has(key)) continue
        seen.add(key)
        out.push(r.event)
      }
      return out
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const stream = String(req.headers['x-actas-stream'] ?? '')
      const path = req.url ?? '/'
      const status =
        receiver.mode === 'down'
          ? 503
          : receiver.mode === 'accept-then-fail'
            ? 500
            : receiver.mode === 'hold'
              ? 0
              : 200
      receiver.requests.push({ stream, path, headers: req.headers, status })
      if (receiver.mode !== 'down') {
        const at = Date.now()
        for (const event of parse(path, Buffer.concat(chunks).toString('utf8')))
          receiver.received.push({ stream, event, at })
      }
      if (status === 0) return // held: no answer, ever (the sender times out or goes away)
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(status === 200 ? '{"ok":true}' : '{"error":"receiver unavailable"}')
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return receiver
}
