// Issue 23, item 5: alerts. Rules with thresholds from the configuration, counted from the audit
// store (real, on PGlite or the server at DATABASE_URL): a rule that fires raises one
// `alert.raised` event in the chain (audit verify passes), a webhook the host's receiver verifies
// (standardwebhooks) and parses (AlertWebhookSchema), and a log-stream event that validates as an
// OCSF Detection Finding; a second instance on the same database does not raise it again, and
// below the threshold nothing fires. Waits are bounded, never timed assertions.
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AlertWebhookSchema } from '@actas/contracts'
import type { AlertWebhook } from '@actas/contracts'
import pino from 'pino'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertsEnvShape, alertSettings } from '../../src/alerts/config.js'
import type { AlertSettings } from '../../src/alerts/config.js'
import { AlertService } from '../../src/alerts/service.js'
import type { OpenedDatabase } from '../../src/audit/db.js'
import { AuditStore } from '../../src/audit/store.js'
import { loadConfig } from '../../src/config.js'
import { LogStreamsEnvSchema } from '../../src/log-streams/config.js'
import { LogStreamDispatcher } from '../../src/log-streams/dispatcher.js'
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js'
import { WebhookOutbox } from '../../src/webhooks/outbox.js'
import { startReceiver } from '../log-streams/receiver.js'
import type { Receiver } from '../log-streams/receiver.js'
import { ocsfErrors } from '../ocsf/validate.js'
import { openTestDatabase } from '../support/stack.js'
import { sql } from 'drizzle-orm'
import { z } from 'zod'

const SECRET = `whsec_${randomBytes(32).toString('base64')}`
const logger = pino({ level: 'silent' })

/** The host's webhook receiver: verifies each message, keeps the alerts once by webhook-id. */
async function startHookReceiver() {
  const verifier = new Webhook(SECRET)
  const alerts = new Map<string, AlertWebhook>()
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      try {
        const payload = verifier.verify(body, req.headers as Record<string, string>) as {
          type: string
        }
        if (payload.type === 'alert.raised')
          alerts.set(String(req.headers['webhook-id']), AlertWebhookSchema.parse(payload))
        res.writeHead(204).end()
      } catch {
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    alerts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const settings = (over: Partial<AlertSettings>): AlertSettings => ({
  manyTargets: 0,
  refusals: 0,
  workingHours: null,
  chainCheck: false,
  streamFailing: false,
  checkIntervalMs: 60_000,
  ...over,
})

let db: OpenedDatabase
let hooks: Awaited<ReturnType<typeof startHookReceiver>>
let receiver: Receiver
let outbox: WebhookOutbox
let dispatcher: WebhookDispatcher
let streams: LogStreamDispatcher
/** Two API instances on the one database: each its own store and alert service. */
let one: { audit: AuditStore; alerts: AlertService }
let two: { audit: AuditStore; alerts: AlertService }

function instance(over: Partial<AlertSettings>) {
  const audit = new AuditStore(db.db, { now: () => new Date(), outbox })
  return {
    audit,
    alerts: new AlertService(db.db, {
      settings: settings(over),
      audit,
      logger,
      now: () => new Date(),
    }),
  }
}

async function start(audit: AuditStore, actorId: string, userId: string, refused = false) {
  const id = randomUUID()
  await audit.createImpersonation(
    { id, actorId, userId, reason: 'Alert rule test, ticket 23', sessionMinutes: 15 },
    refused ? [{ type: 'denied', data: { code: 'FORBIDDEN', message: 'not allowed' } }] : [],
  )
  if (!refused)
    await audit.appendEvent(id, { type: 'issued', data: { clerkActorTokenId: `act_${id}` } })
  return id
}

beforeAll(async () => {
  db = await openTestDatabase()
  hooks = await startHookReceiver()
  receiver = await startReceiver()
  outbox = new WebhookOutbox(db.db, { endpoints: [hooks.url], logger })
  dispatcher = new WebhookDispatcher(db.db, {
    endpoints: [{ url: hooks.url, secret: SECRET }],
    logger,
    maxAttempts: 5,
    timeoutMs: 5000,
    retryBaseMs: 20,
    retryMaxMs: 200,
    intervalMs: 50,
  })
  outbox.onEnqueued = () => dispatcher.wake()
  dispatcher.start()
  one = instance({ manyTargets: 3, refusals: 2 })
  two = instance({ manyTargets: 3, refusals: 2 })
  streams = new LogStreamDispatcher(db.db, {
    streams: LogStreamsEnvSchema.parse(
      JSON.stringify([
        { id: 'siem', kind: 'https', url: `${receiver.url}/ingest`, pollMs: 50, batchSize: 50 },
      ]),
    ),
    audit: one.audit,
    logger,
  })
  await streams.start()
}, 60_000)

afterAll(async () => {
  await one?.alerts.close()
  await two?.alerts.close()
  await streams?.close()
  await dispatcher?.close()
  await hooks?.close()
  await receiver?.close()
  await db?.close()
})

const streamed = () =>
  receiver
    .unique('siem', (e) => (e.metadata as { uid: string }).uid)
    .filter((e) => e.class_uid === 2004)

describe('alerts', () => {
  it('fire nothing below the threshold', async () => {
    await start(one.audit, 'user_staffA', 'user_c1')
    const id = await start(one.audit, 'user_staffA', 'user_c2')
    // The same user again is not another target.
    await start(one.audit, 'user_staffA', 'user_c2')
    expect(await one.alerts.afterStart('user_staffA', id)).toEqual([])
    expect(await two.alerts.check()).toEqual([])
    expect((await one.alerts.recent()).items).toEqual([])
  }, 60_000)

  it('raise many_targets once across two instances, in the chain, to the host webhook and the log stream as OCSF', async () => {
    const id = await start(two.audit, 'user_staffA', 'user_c3')
    // Both instances evaluate at once, after the start and periodically: one alert.
    const raised = (
      await Promise.all([
        one.alerts.afterStart('user_staffA', id),
        two.alerts.afterStart('user_staffA', id),
        two.alerts.check(),
      ])
    ).flat()
    expect(raised).toHaveLength(1)
    const [alert] = raised
    expect(alert).toMatchObject({
      rule: 'many_targets',
      subject: 'user_staffA',
      count: 3,
      threshold: 3,
    })
    // Again later: nothing new.
    expect(await one.alerts.check()).toEqual([])
    expect(await two.alerts.afterStart('user_staffA', id)).toEqual([])

    // In the chain, and the chain (with every row) verifies.
    const report = await one.audit.verify({ full: true })
    expect(report.ok, JSON.stringify(report.firstBroken)).toBe(true)
    const events: Array<{ seq: number; type: string }> = []
    for await (const page of one.audit.eventPages(1000)) events.push(...page)
    expect(events.filter((e) => e.type === 'alert.raised').map((e) => e.seq)).toEqual([alert!.seq])

    // The host's webhook receiver got it, verified.
    await until('the alert webhook', () => hooks.alerts.size === 1)
    expect([...hooks.alerts.values()][0]!.data).toEqual(alert)

    // The log stream carried it as an OCSF Detection Finding that validates.
    await until('the alert on the stream', () => streamed().length === 1)
    const finding = streamed()[0]!
    expect(ocsfErrors(finding)).toEqual([])
    expect(finding).toMatchObject({
      class_uid: 2004,
      activity_id: 1,
      is_alert: true,
      finding_info: { uid: alert!.id, analytic: { uid: 'many_targets' } },
      observables: [{ name: 'actor.user.uid', value: 'user_staffA' }],
      metadata: { sequence: alert!.seq },
    })

    // The Active now page's list.
    expect((await two.alerts.recent()).items).toEqual([alert])
  }, 90_000)

  it('raise refusal_burst once the refused starts reach the threshold', async () => {
    const first = await start(one.audit, 'user_staffB', 'user_c9', true)
    expect(await one.alerts.afterStart('user_staffB', first)).toEqual([])
    const second = await start(one.audit, 'user_staffB', 'user_c9', true)
    const raised = await one.alerts.afterStart('user_staffB', second)
    expect(raised.map((a) => [a.rule, a.subject, a.count])).toEqual([
      ['refusal_burst', 'user_staffB', 2],
    ])
    await until('the refusal alert webhook', () =>
      [...hooks.alerts.values()].some((h) => h.data.rule === 'refusal_burst'),
    )
    await until('the refusal alert on the stream', () => streamed().length === 2)
    for (const e of streamed()) expect(ocsfErrors(e)).toEqual([])
  }, 60_000)

  it('raise off_hours_start for a start outside the working hours (in their time zone), not inside', async () => {
    const h = new Date().getUTCHours()
    const other = (h + 2) % 22
    const pad = (n: number) => String(n).padStart(2, '0')
    const outside = loadHours(`${pad(other)}:00-${pad(other + 1)}:00 UTC`)
    const inside = loadHours('00:00-24:00 Etc/UTC')
    const day = instance({ workingHours: inside })
    const night = instance({ workingHours: outside })
    const id = await start(day.audit, 'user_staffC', 'user_c10')
    expect(await day.alerts.afterStart('user_staffC', id)).toEqual([])
    const raised = await night.alerts.afterStart('user_staffC', id)
    expect(raised.map((a) => [a.rule, a.subject])).toEqual([['off_hours_start', 'user_staffC']])
    expect(await night.alerts.afterStart('user_staffC', id)).toEqual([])
    expect((await one.audit.verify({ full: true })).ok).toBe(true)
  }, 60_000)

  it('raise stream_failing for a log stream that is failing', async () => {
    const down = new LogStreamDispatcher(db.db, {
      streams: LogStreamsEnvSchema.parse(
        JSON.stringify([
          {
            id: 'down',
            kind: 'https',
            url: 'http://127.0.0.1:9/ingest',
            pollMs: 50,
            retryBaseMs: 10,
            retryMaxMs: 20,
            failingAfter: 1,
          },
        ]),
      ),
      audit: one.audit,
      logger,
    })
    await down.start()
    try {
      await until('the failing stream', async () =>
        (await down.status()).every((s) => s.state === 'failing'),
      )
    } finally {
      await down.close()
    }
    const watcher = instance({ streamFailing: true })
    const raised = await watcher.alerts.check()
    expect(raised.map((a) => [a.rule, a.subject])).toEqual([['stream_failing', 'down']])
    expect(await instance({ streamFailing: true }).alerts.check()).toEqual([])
    await until('the stream alert webhook', () =>
      [...hooks.alerts.values()].some((h) => h.data.rule === 'stream_failing'),
    )
  }, 60_000)

  // Last: it breaks the chain.
  it('raise chain_unverified once when the chain does not verify', async () => {
    expect(await instance({ chainCheck: true }).alerts.check()).toEqual([])
    await db.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`)
    try {
      await db.db.execute(sql`update audit_events set reason = 'rewritten' where seq = 2`)
    } finally {
      await db.db.execute(sql`alter table audit_events enable trigger audit_events_append_only`)
    }
    const raised = (
      await Promise.all([
        instance({ chainCheck: true }).alerts.check(),
        instance({ chainCheck: true }).alerts.check(),
      ])
    ).flat()
    expect(raised.map((a) => [a.rule, a.subject, a.count])).toEqual([
      ['chain_unverified', 'chain', 2],
    ])
    await until('the chain alert webhook', () =>
      [...hooks.alerts.values()].some((h) => h.data.rule === 'chain_unverified'),
    )
  }, 60_000)

  it('read their thresholds from ALERT_* and refuse bad working hours', () => {
    const env = z.object(AlertsEnvShape)
    expect(
      alertSettings(
        env.parse({
          ALERT_MANY_TARGETS: '20',
          ALERT_REFUSALS: '5',
          ALERT_WORKING_HOURS: 'Mon-Fri 08:00-18:00 Europe/Berlin',
        }),
      ).alerts,
    ).toMatchObject({
      manyTargets: 20,
      refusals: 5,
      workingHours: {
        days: [1, 2, 3, 4, 5],
        fromMinute: 480,
        toMinute: 1080,
        timeZone: 'Europe/Berlin',
      },
      chainCheck: true,
    })
    for (const bad of [
      '8-18',
      '08:00-18:00 Mars/Olympus',
      '18:00-08:00 UTC',
      'Mon-Fri 08:00-18:00',
    ])
      expect(env.safeParse({ ALERT_WORKING_HOURS: bad }).success, bad).toBe(false)
    expect(env.safeParse({ ALERT_MANY_TARGETS: '-1' }).success).toBe(false)
    expect(() => loadConfig({ ALERT_WORKING_HOURS: 'whenever' })).toThrow(/ALERT_WORKING_HOURS/)
  })
})

function loadHours(text: string) {
  return alertSettings(z.object(AlertsEnvShape).parse({ ALERT_WORKING_HOURS: text })).alerts
    .workingHours!
}
