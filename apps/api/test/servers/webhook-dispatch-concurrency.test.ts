// Two API instances' webhook dispatchers on one Postgres server (two connection pools, one
// schema) drain one outbox at once: their claims (`FOR UPDATE SKIP LOCKED` with a lease) never
// overlap, so each message reaches the endpoint exactly once, and every one is delivered.
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import pg from 'pg'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/audit/db.js'
import type { OpenedDatabase } from '../../src/audit/db.js'
import { AuditStore } from '../../src/audit/store.js'
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js'
import { WebhookOutbox } from '../../src/webhooks/outbox.js'

const url = process.env['DATABASE_URL']!
const schema = `actas_test_${randomBytes(6).toString('hex')}`
const SECRET = `whsec_${randomBytes(32).toString('base64')}`
const MESSAGES = 60

let receiver: Server
let endpoint = ''
const seen = new Map<string, number>()
const databases: OpenedDatabase[] = []
const dispatchers: WebhookDispatcher[] = []

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume()
    const id = String(req.headers['webhook-id'])
    seen.set(id, (seen.get(id) ?? 0) + 1)
    // A slow endpoint, so that both instances have claims in flight at the same time.
    setTimeout(() => res.writeHead(204).end(), 15)
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`
  for (let i = 0; i < 2; i++)
    databases.push(
      await openDatabase({ kind: 'postgres', url, schema, statementTimeoutMs: 10_000 }),
    )
})

afterAll(async () => {
  await Promise.all(dispatchers.map((d) => d.close()))
  for (const d of databases) await d.close()
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`drop schema if exists "${schema}" cascade`)
  await client.end()
  await new Promise((resolve) => receiver.close(resolve))
})

describe('two dispatchers, one outbox', () => {
  it('deliver every message exactly once', async () => {
    const logger = pino({ level: 'silent' })
    const outbox = new WebhookOutbox(databases[0]!.db, { endpoints: [endpoint], logger })
    const audit = new AuditStore(databases[0]!.db, { now: () => new Date(), outbox })
    // Written before either dispatcher runs: both find a full queue.
    for (let i = 0; i < MESSAGES; i++) {
      const id = randomUUID()
      await audit.createImpersonation({
        id,
        actorId: 'user_staff',
        userId: `user_c${i}`,
        reason: 'Two instances share the outbox',
        sessionMinutes: 10,
      })
      await audit.appendEvent(id, { type: 'issued', data: {} })
    }
    for (const database of databases) {
      const dispatcher = new WebhookDispatcher(database.db, {
        endpoints: [{ url: endpoint, secret: SECRET }],
        logger,
        maxAttempts: 5,
        timeoutMs: 5000,
        retryBaseMs: 50,
        retryMaxMs: 200,
        intervalMs: 20,
        batchSize: 4,
      })
      dispatchers.push(dispatcher)
    }
    for (const d of dispatchers) d.start()
    const deadline = Date.now() + 60_000
    while (seen.size < MESSAGES && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    await Promise.all(dispatchers.map((d) => d.idle()))

    expect(seen.size).toBe(MESSAGES)
    expect([...seen.values()].filter((n) => n !== 1)).toEqual([])
    const { items } = await outbox.deliveries(null, { status: 'delivered', limit: 100 })
    expect(items).toHaveLength(MESSAGES)
    expect(items.every((d) => d.attempts === 1)).toBe(true)
  })
})
