// ActAs's own webhooks to the host application (WEBHOOK_ENDPOINTS), end to end: real
// impersonations on the local Clerk server, the API in-process, the outbox on PGlite (or the
// Postgres server of the servers run), and a real HTTP receiver (Fastify on a free port) that
// verifies every message with the `standardwebhooks` library and parses it with contracts'
// ActAsWebhookSchema, as the host application would.
import { randomBytes } from 'node:crypto'
import { ActAsWebhookSchema } from '@actas/contracts'
import type { ActAsWebhook } from '@actas/contracts'
import { getActAsError } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clientOf } from '../bench/audit-plans.js'
import { backoffMs } from '../src/webhooks/dispatcher.js'
import { startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

const SECRET = `whsec_${randomBytes(32).toString('base64')}`
const MAX_ATTEMPTS = 3

/** What the receiver saw: every attempt (even the ones it refused) and the verified messages. */
interface Attempt {
  id: string
  body: string
  verified: boolean
}

class Receiver {
  app: FastifyInstance | undefined
  port = 0
  /** `up`: 200; `failing`: 503 (the attempt is still recorded). */
  mode: 'up' | 'failing' = 'up'
  readonly attempts: Attempt[] = []
  readonly messages: Array<{ id: string; event: ActAsWebhook }> = []
  private readonly verifier = new Webhook(SECRET)

  async start(): Promise<string> {
    const app = Fastify()
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    )
    app.post('/hooks/actas', async (req, reply) => {
      const body = req.body as string
      const id = String(req.headers['webhook-id'])
      let verified = false
      let event: ActAsWebhook | undefined
      try {
        event = ActAsWebhookSchema.parse(
          this.verifier.verify(body, req.headers as Record<string, string>),
        )
        verified = true
      } catch {
        verified = false
      }
      this.attempts.push({ id, body, verified })
      if (!verified) return reply.code(400).send({ error: 'bad signature' })
      if (this.mode === 'failing') return reply.code(503).send({ error: 'down for maintenance' })
      if (event && !this.messages.some((m) => m.id === id)) this.messages.push({ id, event })
      return reply.code(204).send()
    })
    const address = await app.listen({ host: '127.0.0.1', port: this.port })
    this.port = Number(new URL(address).port)
    this.app = app
    return `${address}/hooks/actas`
  }

  /** Really down: the port refuses connections. */
  async stop(): Promise<void> {
    await this.app?.close()
    this.app = undefined
  }
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

let receiver: Receiver
let stack: Stack
let admin: SignedIn
let api: ActAsClient
let customerCursor = 0

function nextCustomer() {
  const user = stack.customers()[customerCursor++]
  if (!user) throw new Error('out of customers')
  return user
}

async function start(mode?: 'read_only' | 'full') {
  const user = nextCustomer()
  const started = await api.impersonation.start.mutate({
    userId: user.id,
    reason: 'Customer reports a broken invoice page',
    ...(mode ? { mode } : {}),
  })
  return { user, started, id: started.impersonationId }
}

const messagesOf = (impersonationId: string) =>
  receiver.messages.filter((m) => m.event.data.impersonationId === impersonationId)

beforeAll(async () => {
  receiver = new Receiver()
  const url = await receiver.start()
  stack = await startStack({
    env: {
      RATE_LIMIT_START_PER_MINUTE: '1000',
      WEBHOOK_ENDPOINTS: JSON.stringify([{ url, secret: SECRET }]),
      WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_RETRY_MAX_MS: '200',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      WEBHOOK_TIMEOUT_MS: '5000',
    },
  })
  admin = await stack.signIn('admin')
  api = stack.client(() => admin.token())
}, 60_000)

afterAll(async () => {
  await stack?.close()
  await receiver?.stop()
})

describe('webhooks to the host application', () => {
  it('sends started, signed_in and ended, each signed and verifying, with who, whom, why and how it ended', async () => {
    const { id, user, started } = await start()
    const session = await stack.signInWithTicket(started.ticket)
    const client = stack.client(() => session.token())
    await client.impersonation.signedIn.mutate({ sessionToken: await session.token() })
    await api.impersonation.end.mutate({ impersonationId: id, reason: 'Done helping' })

    const messages = await until(
      'three messages',
      () => messagesOf(id).length >= 3 && messagesOf(id),
    )
    const byType = Object.fromEntries(messages.map((m) => [m.event.type, m]))
    const admin = stack.account('admin')
    for (const m of messages) {
      expect(m.event.data).toMatchObject({
        impersonationId: id,
        actor: { id: admin.userId, email: 'ada@support.actas.test' },
        user: { id: user.id },
        reason: 'Customer reports a broken invoice page',
        mode: 'full',
      })
    }
    expect(byType['impersonation.started']?.event.data).toMatchObject({
      sessionExpiresAt: started.sessionExpiresAt,
      ticketExpiresAt: started.expiresAt,
    })
    expect(byType['impersonation.signed_in']?.event.data).toMatchObject({
      clerkSessionId: session.sessionId,
    })
    expect(byType['impersonation.ended']?.event.data).toMatchObject({
      status: 'ended',
      cause: 'ended_by_staff',
      endedBy: admin.userId,
      clerkSessionId: session.sessionId,
    })
    // One message per event, each with its own id; `seq` is the audit event's place in the chain.
    expect(new Set(messages.map((m) => m.id)).size).toBe(3)
    const timeline = await api.impersonation.get.query({ impersonationId: id })
    const seqOf = (type: string) => timeline.events.find((e) => e.type === type)?.seq
    expect(byType['impersonation.started']?.event.data.seq).toBe(seqOf('issued'))
    expect(byType['impersonation.signed_in']?.event.data.seq).toBe(seqOf('signed_in'))
    expect(byType['impersonation.ended']?.event.data.seq).toBe(seqOf('ended'))
    // Every attempt the receiver saw verified; a forged body would not.
    expect(receiver.attempts.every((a) => a.verified)).toBe(true)
    const res = await fetch(`http://127.0.0.1:${receiver.port}/hooks/actas`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': messages[0]!.id,
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64'),
      },
      body: JSON.stringify(messages[0]!.event),
    })
    expect(res.status).toBe(400)
  })

  it('announces a revoked read-only ticket as ended (revoked), with its mode, and refusals not at all', async () => {
    const { id } = await start('read_only')
    await api.impersonation.revoke.mutate({ impersonationId: id })
    const ended = await until('the ended message', () =>
      messagesOf(id).find((m) => m.event.type === 'impersonation.ended'),
    )
    expect(ended.event.data).toMatchObject({ status: 'revoked', cause: null, mode: 'read_only' })
    expect(
      messagesOf(id).find((m) => m.event.type === 'impersonation.started')?.event.data,
    ).toMatchObject({ mode: 'read_only' })
    // A refused start (staff target) changes nothing in a customer's account: no message.
    const denied = await api.impersonation.start
      .mutate({ userId: stack.account('agent').userId, reason: 'Trying to impersonate staff' })
      .catch((e: unknown) => getActAsError(e))
    expect(denied).toMatchObject({ code: 'POLICY_DENIED' })
    const { items } = await api.impersonation.list.query({ status: 'denied', limit: 1 })
    const rows = await clientOf(stack.deps.database.db).query(
      'select count(*)::int as n from webhook_outbox where impersonation_id = $1',
      [items[0]!.id],
    )
    expect(rows.rows[0]?.['n']).toBe(0)
  })

  it('keeps messages while the endpoint is down, retries with backoff, and delivers them when it is back, same webhook-id', async () => {
    await receiver.stop()
    const attemptsBefore = receiver.attempts.length
    // The endpoint being down neither blocks nor fails the impersonation.
    const { id } = await start()
    const pending = await until('two failed attempts', async () => {
      const { items } = await api.webhooks.deliveries.query({ status: 'pending' })
      const row = items.find((d) => d.impersonationId === id)
      return row && row.attempts >= 2 && row
    })
    expect(pending.lastError).toBe('connection refused')
    expect(pending.lastStatusCode).toBeNull()
    expect(receiver.attempts.length).toBe(attemptsBefore)

    await receiver.start()
    const delivered = await until('the delivery', async () => {
      const { items } = await api.webhooks.deliveries.query({ status: 'delivered' })
      return items.find((d) => d.id === pending.id)
    })
    expect(delivered.messageId).toBe(pending.messageId)
    expect(messagesOf(id).map((m) => m.id)).toEqual([pending.messageId])
  })

  it(`dead-letters a delivery after ${MAX_ATTEMPTS} failures, shows it to staff, and a staff retry delivers it with the same webhook-id and body`, async () => {
    receiver.mode = 'failing'
    const { id } = await start()
    const dead = await until('a dead letter', async () => {
      const { items } = await api.webhooks.deliveries.query({ status: 'dead' })
      return items.find((d) => d.impersonationId === id)
    })
    expect(dead).toMatchObject({
      type: 'impersonation.started',
      status: 'dead',
      attempts: MAX_ATTEMPTS,
      lastStatusCode: 503,
      lastError: 'HTTP 503',
      nextAttemptAt: null,
    })
    expect(dead.endpoint).toBe(`http://127.0.0.1:${receiver.port}/hooks/actas`)
    const refused = receiver.attempts.filter((a) => a.id === dead.messageId)
    expect(refused).toHaveLength(MAX_ATTEMPTS)
    expect(messagesOf(id)).toHaveLength(0)

    // Only a dead letter can be retried; junk ids are a 400.
    const notDead = await api.webhooks.retry
      .mutate({ deliveryId: '00000000-0000-4000-8000-000000000000' })
      .catch((e: unknown) => getActAsError(e))
    expect(notDead).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'No webhook delivery has this id.',
    })

    receiver.mode = 'up'
    const retried = await api.webhooks.retry.mutate({ deliveryId: dead.id })
    expect(retried).toMatchObject({ status: 'pending', attempts: 0, deadAt: null })
    const message = await until('the retried message', () => messagesOf(id)[0])
    expect(message.id).toBe(dead.messageId)
    const bodies = new Set(
      receiver.attempts.filter((a) => a.id === dead.messageId).map((a) => a.body),
    )
    expect(bodies.size).toBe(1)
    const { items } = await api.webhooks.deliveries.query({ status: 'delivered' })
    expect(items.find((d) => d.id === dead.id)).toMatchObject({ status: 'delivered', attempts: 1 })
    const again = await api.webhooks.retry
      .mutate({ deliveryId: dead.id })
      .catch((e: unknown) => getActAsError(e))
    expect(again).toMatchObject({ code: 'INVALID_INPUT' })
  })

  it('pages the outbox newest first, and is for staff only', async () => {
    const first = await api.webhooks.deliveries.query({ limit: 2 })
    expect(first.enabled).toBe(true)
    expect(first.items).toHaveLength(2)
    const second = await api.webhooks.deliveries.query({ limit: 2, cursor: first.next! })
    expect(second.items[0]!.createdAt <= first.items[1]!.createdAt).toBe(true)
    expect(second.items.map((i) => i.id)).not.toContain(first.items[0]!.id)
    const agent = await stack.signIn('agent')
    const refused = await stack
      .client(() => agent.token())
      .webhooks.deliveries.query({})
      .catch((e: unknown) => getActAsError(e))
    expect(refused).toMatchObject({ code: 'FORBIDDEN' })
  })
})

describe('the outbox and the audit log are written together', () => {
  it('a message exists exactly when the event it announces does', async () => {
    const db = clientOf(stack.deps.database.db)
    // Every announcing event has one outbox row per endpoint, and every row names its event.
    const orphans = await db.query(
      `select o.id from webhook_outbox o left join audit_events e on e.seq = o.event_seq
       where e.seq is null or e.impersonation_id <> o.impersonation_id`,
    )
    expect(orphans.rows).toEqual([])
    const unannounced = await db.query(
      `select e.seq, e.type from audit_events e
       where e.type in ('issued', 'signed_in', 'ended', 'ticket_revoked')
         and (select count(*) from webhook_outbox o where o.event_seq = e.seq) <> 1`,
    )
    expect(unannounced.rows).toEqual([])
  })

  it('when the outbox write fails, the event is not appended either (one transaction)', async () => {
    const { id } = await start()
    const db = clientOf(stack.deps.database.db)
    const before = await stack.deps.audit.head()
    await db.query(`create function actas_test_refuse() returns trigger language plpgsql as $$
      begin raise exception 'outbox refused (test)'; end $$`)
    await db.query(
      `create trigger actas_test_refuse before insert on webhook_outbox for each row execute function actas_test_refuse()`,
    )
    try {
      const error = (await stack.deps.audit
        .appendEvent(id, { type: 'ticket_revoked', by: 'user_test' })
        .then(
          () => null,
          (e: unknown) => e,
        )) as (Error & { cause?: Error }) | null
      // Drizzle wraps the database's error: the trigger's message is its cause.
      expect(error?.cause?.message ?? error?.message).toMatch(/outbox refused/)
    } finally {
      await db.query('drop trigger actas_test_refuse on webhook_outbox')
      await db.query('drop function actas_test_refuse()')
    }
    expect(await stack.deps.audit.head()).toEqual(before)
    expect((await stack.deps.audit.get(id))?.status).toBe('issued')
    expect((await stack.deps.audit.events(id)).map((e) => e.type)).toEqual(['requested', 'issued'])
    const rows = await db.query(
      `select type from webhook_outbox where impersonation_id = $1 order by event_seq`,
      [id],
    )
    expect(rows.rows.map((r) => r['type'])).toEqual(['impersonation.started'])

    // With the outbox writable again, both are written.
    const appended = await stack.deps.audit.appendEvent(id, {
      type: 'ticket_revoked',
      by: 'user_test',
    })
    expect(appended.appended).toBe(true)
    const after = await db.query(
      `select type, event_seq from webhook_outbox where impersonation_id = $1 order by event_seq`,
      [id],
    )
    expect(after.rows.map((r) => r['type'])).toEqual([
      'impersonation.started',
      'impersonation.ended',
    ])
    expect(Number(after.rows[1]?.['event_seq'])).toBe(appended.appended ? appended.event.seq : -1)
  })
})

describe('secrets and backoff', () => {
  it('never writes an endpoint secret to the logs or the database', async () => {
    const key = SECRET.slice('whsec_'.length)
    expect(stack.logs.join('\n')).not.toContain(key)
    const rows = await clientOf(stack.deps.database.db).query(
      `select count(*)::int as n from webhook_outbox where body like '%' || $1 || '%' or endpoint like '%' || $1 || '%'`,
      [key],
    )
    expect(rows.rows[0]?.['n']).toBe(0)
    expect(stack.logs.some((l) => l.includes('webhook dead-lettered'))).toBe(true)
  })

  it('backs off exponentially, jittered in the upper half, up to the maximum', () => {
    const o = { retryBaseMs: 1000, retryMaxMs: 60_000 }
    expect([1, 2, 3, 4].map((n) => backoffMs(n, o, () => 0))).toEqual([500, 1000, 2000, 4000])
    expect([1, 2, 3, 4].map((n) => backoffMs(n, o, () => 0.999999))).toEqual([
      1000, 2000, 4000, 8000,
    ])
    expect(backoffMs(20, o, () => 0.5)).toBe(45_000)
  })
})
