import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { verifyWebhook as verifyWithBackend } from '@clerk/backend/webhooks'
import { verifyWebhook as verifyWithFastify } from '@clerk/fastify/webhooks'
import Fastify from 'fastify'

// Two webhook consumers as an application writes them: a Fastify route that keeps the raw body
// for @clerk/backend's `verifyWebhook`, and a bare node:http server with @clerk/backend's `verifyWebhook` on a
// web Request. Each records every request (raw headers and body) and what verification said,
// and can be told to answer 500 to the first attempts of a message.

export interface Received {
  svixId: string
  headers: Record<string, string>
  body: string
  /** The verified event, or undefined when verification failed. */
  event?: { type: string; data: Record<string, unknown>; object: string; timestamp: number }
  error?: string
  /** What the receiver answered. */
  status: number
  /** Fastify receiver only: whether @clerk/fastify's `verifyWebhook` (re-serializing) accepted it. */
  reserializedVerifies?: boolean
}

export interface Receiver {
  url: string
  received: Received[]
  /** Answer 500 to the next `times` attempts of messages of `type`. */
  failNext(type: string, times: number): void
  verified(type?: string): Received[]
  close(): Promise<void>
}

function eventTypeOf(body: string): string {
  try {
    return (JSON.parse(body) as { type?: string }).type ?? ''
  } catch {
    return ''
  }
}

function collect(received: Received[], failures: Map<string, number>) {
  return {
    received,
    failNext(type: string, times: number) {
      failures.set(type, (failures.get(type) ?? 0) + times)
    },
    verified: (type?: string) =>
      received.filter((r) => r.event && r.status === 200 && (!type || r.event.type === type)),
  }
}

function answerFor(failures: Map<string, number>, body: string): number {
  const type = eventTypeOf(body)
  const left = failures.get(type) ?? 0
  if (left <= 0) return 200
  failures.set(type, left - 1)
  return 500
}

/**
 * A Fastify route as an application should write it: a content-type parser keeps the raw bytes,
 * and @clerk/backend's `verifyWebhook` checks them on a web Request built from that buffer. It
 * also records whether @clerk/fastify's own `verifyWebhook` (which re-serializes the parsed body
 * with `JSON.stringify`, see docs/wire-details.md) would have accepted the same request.
 */
export async function startFastifyReceiver(signingSecret: string): Promise<Receiver> {
  const received: Received[] = []
  const failures = new Map<string, number>()
  const app = Fastify()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    ;(req as unknown as { rawBody: Buffer }).rawBody = body as Buffer
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
  app.post('/clerk', async (req, reply) => {
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([, v]) => typeof v === 'string'),
    ) as Record<string, string>
    const raw = (req as unknown as { rawBody: Buffer }).rawBody
    const body = raw.toString('utf8')
    const entry: Received = { svixId: headers['svix-id'] ?? '', headers, body, status: 400 }
    received.push(entry)
    entry.reserializedVerifies = await verifyWithFastify(req, { signingSecret }).then(
      () => true,
      () => false,
    )
    try {
      entry.event = (await verifyWithBackend(
        new Request('http://127.0.0.1/clerk', { method: 'POST', headers, body: raw }),
        { signingSecret },
      )) as unknown as Received['event']
    } catch (error) {
      entry.error = error instanceof Error ? error.message : String(error)
      return reply.code(400).send({ error: 'unverified' })
    }
    entry.status = answerFor(failures, body)
    return reply.code(entry.status).send({ ok: entry.status === 200 })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/clerk`,
    ...collect(received, failures),
    close: () => app.close(),
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** @clerk/backend's verifyWebhook on a web Request built from a node:http request. */
export async function startNodeReceiver(signingSecret: string | (() => string)): Promise<Receiver> {
  const received: Received[] = []
  const failures = new Map<string, number>()
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([, v]) => typeof v === 'string'),
      ) as Record<string, string>
      const entry: Received = { svixId: headers['svix-id'] ?? '', headers, body, status: 400 }
      received.push(entry)
      try {
        entry.event = (await verifyWithBackend(
          new Request('http://127.0.0.1/hook', { method: 'POST', headers, body }),
          { signingSecret: typeof signingSecret === 'string' ? signingSecret : signingSecret() },
        )) as unknown as Received['event']
        entry.status = answerFor(failures, body)
      } catch (error) {
        entry.error = error instanceof Error ? error.message : String(error)
      }
      res.writeHead(entry.status, { 'content-type': 'application/json' })
      res.end('{}')
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    ...collect(received, failures),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}
