// Sends the outbox's messages to the host application's endpoints, signed per the Standard
// Webhooks spec by the `standardwebhooks` library (`webhook-id`, `webhook-timestamp`,
// `webhook-signature`).
//
// Every instance runs one: on an interval, and at once after a transaction wrote messages. A run
// claims due rows in one statement (`FOR UPDATE SKIP LOCKED`, so two instances never claim the
// same row) and leases them (next_attempt_at = now + timeout + margin, attempts + 1) before any
// request, so no transaction stays open while an endpoint answers; a process that dies mid-send
// leaves the row to be claimed again when the lease ends (at least once, same `webhook-id`).
// Each attempt has a timeout; a non-2xx answer, a timeout or a connection error schedules the
// next attempt after base × 2^(n−1) with jitter (at most max), and after `maxAttempts` failures
// the delivery is dead-lettered: the audit page shows it and staff may retry it. Nothing here
// runs in an impersonation's request, so an endpoint that is down never blocks or fails one; a
// database fault makes a run fail (logged), and the next run starts over.
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Webhook } from 'standardwebhooks'
import { and, eq, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { AuditDatabase } from '../audit/db.js'
import { webhookOutbox } from '../audit/schema.js'
import type { WebhookOutboxRow } from '../audit/schema.js'
import { displayEndpoint } from './outbox.js'

export interface WebhookEndpoint {
  url: string
  /** `whsec_…`: never logged, never stored. */
  secret: string
}

export interface WebhookDispatcherOptions {
  endpoints: readonly WebhookEndpoint[]
  logger: Logger
  /** Failed attempts after which a delivery is dead-lettered. */
  maxAttempts: number
  /** Per attempt (ms). */
  timeoutMs: number
  retryBaseMs: number
  retryMaxMs: number
  /** Period of the look for due rows (ms). */
  intervalMs: number
  /** Rows claimed per run (default 20). */
  batchSize?: number
  clock?: () => Date
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number
}

/** The wait after the n-th failed attempt: base × 2^(n−1), at most max, the upper half jittered. */
export function backoffMs(
  attempts: number,
  o: { retryBaseMs: number; retryMaxMs: number },
  random: () => number = Math.random,
): number {
  const full = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** Math.max(0, attempts - 1))
  return Math.round(full / 2 + (random() * full) / 2)
}

/** How long a claimed row stays out of other runs' reach beyond the attempt's timeout. */
const LEASE_MARGIN_MS = 30_000

type Outcome =
  { ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string }

class AttemptTimeout extends Error {}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof AttemptTimeout) return `no answer within ${timeoutMs} ms`
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (typeof code === 'string') return `connection failed (${code})`
  return 'request failed'
}

/**
 * One POST with node:http(s) (not the global fetch, which a test environment may replace):
 * resolves with the status code once the answer's head arrived (its body is discarded; redirects
 * are not followed), rejects on a connection error or after `timeoutMs` in all.
 */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(body)
    const target = new URL(url)
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      { method: 'POST', headers: { ...headers, 'content-length': String(payload.length) } },
      (response) => {
        clearTimeout(timer)
        response.resume()
        response.on('error', () => undefined)
        resolve(response.statusCode ?? 0)
      },
    )
    const timer = setTimeout(() => {
      request.destroy(new AttemptTimeout())
    }, timeoutMs)
    request.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    request.end(payload)
  })
}

export class WebhookDispatcher {
  private readonly signers = new Map<string, Webhook>()
  private readonly clock: () => Date
  private readonly random: () => number
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private closed = false
  private lastFault: string | null = null

  constructor(
    private readonly db: AuditDatabase,
    private readonly o: WebhookDispatcherOptions,
  ) {
    for (const e of o.endpoints) this.signers.set(e.url, new Webhook(e.secret))
    this.clock = o.clock ?? (() => new Date())
    this.random = o.random ?? Math.random
  }

  start(): void {
    if (this.timer || this.closed) return
    this.timer = setInterval(() => this.wake(), this.o.intervalMs)
    this.timer.unref()
    this.wake()
  }

  /** Runs soon (now, or right after the run in progress). Never throws. */
  wake(): void {
    if (this.closed) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = (async () => {
      try {
        do {
          this.again = false
          // A full batch means more may be due: go on at once.
          while (!this.closed && (await this.runOnce()) === (this.o.batchSize ?? 20));
        } while (this.again && !this.closed)
      } finally {
        this.running = undefined
      }
    })()
  }

  /** Waits for the run in progress, if any (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  /**
   * One run: claims the due rows and attempts each once. Returns how many were claimed. A
   * database fault is logged (once per streak) and answers 0.
   */
  async runOnce(): Promise<number> {
    let claimed: WebhookOutboxRow[]
    try {
      claimed = await this.claim()
    } catch (error) {
      this.fault(error)
      return 0
    }
    await Promise.all(claimed.map((row) => this.deliver(row)))
    return claimed.length
  }

  private fault(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error)
    if (this.lastFault !== message)
      this.o.logger.warn(
        { err: error },
        'webhook dispatcher: the outbox could not be read or written',
      )
    this.lastFault = message
  }

  private async claim(): Promise<WebhookOutboxRow[]> {
    const now = this.clock()
    const leaseEnd = new Date(now.getTime() + this.o.timeoutMs + LEASE_MARGIN_MS)
    const limit = this.o.batchSize ?? 20
    const rows = await this.db
      .update(webhookOutbox)
      .set({
        attempts: sql`${webhookOutbox.attempts} + 1`,
        nextAttemptAt: leaseEnd,
        updatedAt: now,
      })
      .where(
        sql`${webhookOutbox.id} in (select id from ${webhookOutbox} where ${webhookOutbox.status} = 'pending' and ${webhookOutbox.nextAttemptAt} <= ${now.toISOString()}::timestamptz order by ${webhookOutbox.nextAttemptAt} limit ${limit} for update skip locked)`,
      )
      .returning()
    this.lastFault = null
    return rows
  }

  private async deliver(row: WebhookOutboxRow): Promise<void> {
    const signer = this.signers.get(row.endpoint)
    const outcome: Outcome = signer
      ? await this.send(row, signer)
      : { ok: false, statusCode: null, error: 'the endpoint is no longer in WEBHOOK_ENDPOINTS' }
    try {
      await this.record(row, outcome, !signer)
    } catch (error) {
      // Not recorded: the lease ends and the row is sent again (same webhook-id).
      this.fault(error)
    }
  }

  private async send(row: WebhookOutboxRow, signer: Webhook): Promise<Outcome> {
    const at = this.clock()
    try {
      const statusCode = await post(
        row.endpoint,
        {
          'content-type': 'application/json',
          'user-agent': 'ActAs-Webhooks/1',
          'webhook-id': row.messageId,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signer.sign(row.messageId, at, row.body),
        },
        row.body,
        this.o.timeoutMs,
      )
      if (statusCode >= 200 && statusCode < 300) return { ok: true, statusCode }
      return { ok: false, statusCode, error: `HTTP ${statusCode}` }
    } catch (error) {
      return { ok: false, statusCode: null, error: describeFailure(error, this.o.timeoutMs) }
    }
  }

  private async record(row: WebhookOutboxRow, outcome: Outcome, unknownEndpoint: boolean) {
    const now = this.clock()
    // Only the attempt this run claimed (a staff retry or another claim may have moved on).
    const mine = and(
      eq(webhookOutbox.id, row.id),
      eq(webhookOutbox.attempts, row.attempts),
      eq(webhookOutbox.status, 'pending'),
    )
    const log = {
      deliveryId: row.id,
      messageId: row.messageId,
      type: row.type,
      endpoint: displayEndpoint(row.endpoint),
      attempt: row.attempts,
    }
    if (outcome.ok) {
      await this.db
        .update(webhookOutbox)
        .set({
          status: 'delivered',
          deliveredAt: now,
          nextAttemptAt: null,
          lastStatusCode: outcome.statusCode,
          updatedAt: now,
        })
        .where(mine)
      this.o.logger.debug(log, 'webhook delivered')
      return
    }
    const dead = unknownEndpoint || row.attempts >= this.o.maxAttempts
    const next = dead
      ? null
      : new Date(now.getTime() + backoffMs(row.attempts, this.o, this.random))
    await this.db
      .update(webhookOutbox)
      .set({
        status: dead ? 'dead' : 'pending',
        nextAttemptAt: next,
        deadAt: dead ? now : null,
        lastStatusCode: outcome.statusCode,
        lastError: outcome.error,
        updatedAt: now,
      })
      .where(mine)
    if (dead)
      this.o.logger.warn(
        { ...log, error: outcome.error },
        'webhook dead-lettered (retry it from the audit page)',
      )
    else
      this.o.logger.info(
        { ...log, error: outcome.error, nextAttemptAt: next?.toISOString() },
        'webhook attempt failed; retrying later',
      )
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.idle()
  }
}
