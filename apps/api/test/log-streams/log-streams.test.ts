// Issue 23, item 4: log streams. Three receivers' shapes (JSON Lines over HTTP, Splunk HEC,
// Datadog logs intake) on a local receiver get every event of the audit chain, in chain order,
// exactly once after de-duplication by id, across a receiver outage (the stream shows retrying,
// then failing, and its cursor stays), a batch accepted but answered 500 (sent again), and a
// dispatcher closed and a new one started on the same database (it resumes at the stored cursor;
// in-process: the real process killed and started again is restart.test.ts). Real audit store on
// PGlite (or the server at DATABASE_URL); waits are bounded, never timed assertions.
import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OpenedDatabase } from '../../src/audit/db.js'
import { AuditStore } from '../../src/audit/store.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { LogStreamsEnvSchema } from '../../src/log-streams/config.js'
import type { LogStreamConfig } from '../../src/log-streams/config.js'
import { LogStreamDispatcher } from '../../src/log-streams/dispatcher.js'
import { openTestDatabase } from '../support/stack.js'
import { ocsfErrors } from '../ocsf/validate.js'
import { startReceiver } from './receiver.js'
import type { Receiver } from './receiver.js'

const TOKEN = 'stream-secret-token-0123456789'
let db: OpenedDatabase
let audit: AuditStore
let receiver: Receiver
let streams: LogStreamConfig[]
const logger = pino({ level: 'silent' })

async function impersonations(n: number) {
  for (let i = 0; i < n; i++) {
    const id = randomUUID()
    await audit.createImpersonation({
      id,
      actorId: 'user_staff1',
      userId: `user_cust${i}`,
      reason: 'Log stream test, ticket 23',
      sessionMinutes: 15,
      mode: 'read_only',
    })
    await audit.appendEvent(id, { type: 'issued', data: { clerkActorTokenId: `act_${i}` } })
    await audit.appendEvent(id, { type: 'ended', cause: 'ended_by_staff', by: 'user_staff2' })
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const uid = (e: Record<string, unknown>) => (e.metadata as { uid: string }).uid
const seqOf = (e: Record<string, unknown>) => (e.metadata as { sequence: number }).sequence

async function chain() {
  const out: Array<{ seq: number; hash: string }> = []
  for await (const page of audit.eventPages(1000)) out.push(...page)
  return out
}

async function everyStreamHasTheChain() {
  const events = await chain()
  return streams.every((s) => receiver.unique(s.id, uid).length === events.length)
}

beforeAll(async () => {
  db = await openTestDatabase()
  audit = new AuditStore(db.db, { now: () => new Date() })
  receiver = await startReceiver()
  streams = LogStreamsEnvSchema.parse(
    JSON.stringify(
      [
        { id: 'lines', kind: 'https', url: `${receiver.url}/ingest`, token: TOKEN },
        {
          id: 'splunk',
          kind: 'splunk_hec',
          url: `${receiver.url}/services/collector/event`,
          token: TOKEN,
        },
        { id: 'datadog', kind: 'datadog', url: `${receiver.url}/api/v2/logs`, token: TOKEN },
      ].map((s) => ({
        ...s,
        batchSize: 4,
        pollMs: 50,
        retryBaseMs: 20,
        retryMaxMs: 200,
        failingAfter: 3,
      })),
    ),
  )
}, 60_000)

afterAll(async () => {
  await receiver?.close()
  await db?.close()
})

describe('log streams', () => {
  it('deliver every event in chain order, exactly once after de-duplication, across an outage and a new dispatcher on the same database', async () => {
    await impersonations(3) // 9 events before the streams start: history is sent too
    const first = new LogStreamDispatcher(db.db, { streams, audit, logger })
    await first.start()
    await until('the first events', everyStreamHasTheChain)

    // The receiver goes down: the streams retry, then show failing; their cursors stay.
    receiver.mode = 'down'
    await impersonations(4)
    await until('failing streams', async () =>
      (await first.status()).every((s) => s.state === 'failing'),
    )
    const failing = await first.status()
    const head = (await audit.head()).seq
    for (const s of failing) {
      expect(s.cursorSeq).toBe(9)
      expect(s.headSeq).toBe(head)
      expect(s.lastStatusCode).toBe(503)
      expect(s.lastError).toContain('HTTP 503')
      expect(s.lastError).not.toContain(TOKEN)
      expect(s.attempts).toBeGreaterThanOrEqual(3)
    }

    // The dispatcher closes while the receiver is down; more events are appended meanwhile.
    await first.close()
    await impersonations(2)
    // The receiver takes the next batch of each stream but answers 500: it is sent again.
    receiver.mode = 'accept-then-fail'
    const second = new LogStreamDispatcher(db.db, { streams, audit, logger })
    await second.start()
    await until('a batch accepted but refused', () =>
      streams.every((s) => receiver.requests.some((r) => r.stream === s.id && r.status === 500)),
    )
    receiver.mode = 'up'
    await until('every event after the restart', everyStreamHasTheChain)
    // The cursor moves once the receiver's 200 is back.
    const end = (await audit.head()).seq
    await until('the cursors at the head', async () =>
      (await second.status()).every((s) => s.cursorSeq === end),
    )
    const status = await second.status()
    await second.close()

    const events = await chain()
    expect(events).toHaveLength(27)
    for (const s of streams) {
      const unique = receiver.unique(s.id, uid)
      // Every event, once, in chain order, with the chain's hash as its id.
      expect(unique.map((e) => [seqOf(e), uid(e)])).toEqual(events.map((e) => [e.seq, e.hash]))
      for (const e of unique) expect(ocsfErrors(e)).toEqual([])
      // At least once: the batch answered 500 came again (duplicates the receiver drops).
      const all = receiver.received.filter((r) => r.stream === s.id)
      expect(all.length).toBeGreaterThan(unique.length)
      // Each request's events are in chain order.
      expect(status.find((x) => x.id === s.id)).toMatchObject({
        state: 'active',
        cursorSeq: events.at(-1)!.seq,
        attempts: 0,
        lastError: null,
      })
    }
  }, 120_000)

  it('send each receiver its own shape and credential header', () => {
    const byStream = (id: string) =>
      receiver.requests.find((r) => r.stream === id && r.status === 200)
    expect(byStream('lines')?.headers).toMatchObject({
      'content-type': 'application/x-ndjson',
      authorization: `Bearer ${TOKEN}`,
    })
    expect(byStream('splunk')?.headers).toMatchObject({ authorization: `Splunk ${TOKEN}` })
    expect(byStream('datadog')?.headers).toMatchObject({ 'dd-api-key': TOKEN })
    expect(byStream('splunk')?.path).toBe('/services/collector/event')
    expect(byStream('datadog')?.path).toBe('/api/v2/logs')
  })

  it('refuse a bad LOG_STREAMS without echoing a token', () => {
    const bad = [
      'not json',
      JSON.stringify([{ id: 'x', kind: 'splunk_hec', url: 'https://s.example.com' }]),
      JSON.stringify([{ id: 'x', kind: 'kafka', url: 'https://s.example.com', token: TOKEN }]),
      JSON.stringify([{ id: 'x', kind: 'https', url: `https://u:${TOKEN}@s.example.com` }]),
      JSON.stringify([
        { id: 'x', kind: 'https', url: 'https://a.example.com' },
        { id: 'x', kind: 'https', url: 'https://b.example.com' },
      ]),
    ]
    for (const value of bad) {
      const result = LogStreamsEnvSchema.safeParse(value)
      expect(result.success, value).toBe(false)
      expect(JSON.stringify(result.error?.issues)).not.toContain(TOKEN)
    }
  })

  it('are read from LOG_STREAMS by the configuration, https only in production, tokens never in its errors', () => {
    const production = {
      NODE_ENV: 'production',
      CLERK_SECRET_KEY: 'sk_live_abc123',
      CLERK_PUBLISHABLE_KEY: `pk_live_${Buffer.from('clerk.example.com$').toString('base64')}`,
      AUTHORIZED_PARTIES: 'https://support.example.com',
      DATABASE_URL: 'postgres://actas@db.example.com/actas',
      STAFF_ORGANIZATIONS: 'org_2supportTeam',
    }
    const stream = { id: 'siem', kind: 'splunk_hec', token: TOKEN }
    const config = loadConfig({
      ...production,
      LOG_STREAMS: JSON.stringify([
        { ...stream, url: 'https://splunk.example.com:8088/services/collector/event' },
      ]),
    })
    expect(config.logStreams).toMatchObject([
      { id: 'siem', kind: 'splunk_hec', format: 'ocsf', batchSize: 100 },
    ])
    expect(loadConfig(production).logStreams).toEqual([])
    let refused: unknown
    try {
      loadConfig({
        ...production,
        LOG_STREAMS: JSON.stringify([{ ...stream, url: 'http://splunk.example.com' }]),
      })
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(ConfigError)
    expect((refused as Error).message).toContain('must use https in production')
    expect((refused as Error).message).not.toContain(TOKEN)
  })
})
