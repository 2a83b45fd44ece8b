// Log streams (issue 23): every event of the audit chain, in chain order, to each receiver the
// operator configured (LOG_STREAMS), at least once, in batches. Each stream has a cursor in the
// database (log_streams.cursor_seq, migration 0010): a batch is the events after it, and it moves
// only once the receiver answered 2xx, so a receiver that is down for a day, or an API restart
// meanwhile, loses nothing (what was sent but not acknowledged is sent again: receivers
// de-duplicate by the event's id). One batch per stream is in flight at a time, across API
// instances (a lease on the row). Failures back off (base × 2^(n−1), at most max) and are retried
// forever; the stream shows `retrying`, then `failing` after `failingAfter` failures in a row.
import type { Logger } from 'pino'
import { and, eq, isNull, lte, or, sql } from 'drizzle-orm'
import { cleanText } from '../audit/clean.js'
import type { AuditDatabase } from '../audit/db.js'
import type { AuditStore } from '../audit/store.js'
import { feedToEvent, feedToOcsf, readFeed } from '../ocsf/feed.js'
import type { FeedEvent } from '../ocsf/feed.js'
import type { LogStreamConfig } from './config.js'
import { logStreams } from './schema.js'
import type { LogStreamRow } from './schema.js'
import { streamRequest } from './shapes.js'
import type { StreamItem } from './shapes.js'

/** What one turn of a stream did. */
export type StreamTurn = 'delivered' | 'idle' | 'failed' | 'waiting'

export interface LogStreamStatus {
  id: string
  kind: LogStreamConfig['kind']
  /** The receiver's origin (never its path's secrets nor a token). */
  origin: string
  format: LogStreamConfig['format']
  state: LogStreamRow['state']
  cursorSeq: number
  headSeq: number
  deliveredEvents: number
  attempts: number
  lastDeliveredAt: Date | null
  lastAttemptAt: Date | null
  nextAttemptAt: Date | null
  lastStatusCode: number | null
  lastError: string | null
}

export interface LogStreamDispatcherOptions {
  streams: LogStreamConfig[]
  /** The chain's head (the streams' lag is measured against it). */
  audit: Pick<AuditStore, 'head'>
  logger: Logger
  now?: () => Date
  /**
   * How long one instance holds a stream while a batch is in flight (ms). Default: the stream's
   * request timeout plus LEASE_MARGIN_MS — a batch cannot be in flight longer, so an instance that
   * died mid-batch holds its streams only that long before another (or its restart) goes on.
   */
  leaseMs?: number
  /** Random spread of each backoff (0–1; default 0.2). */
  jitter?: number
  /** Called with each stream whose state changed (alerts: a failing stream). */
  onStateChange?: (stream: LogStreamConfig, state: LogStreamRow['state']) => void
}

const ERROR_MAX = 300

/** Beyond a stream's request timeout: reading the batch before and moving the cursor after. */
export const LEASE_MARGIN_MS = 10_000

export class LogStreamDispatcher {
  private readonly now: () => Date
  private readonly jitter: number
  private closed = false
  private readonly loops: Promise<void>[] = []
  private readonly wakers = new Map<string, () => void>()

  constructor(
    private readonly db: AuditDatabase,
    private readonly o: LogStreamDispatcherOptions,
  ) {
    this.now = o.now ?? (() => new Date())
    this.jitter = o.jitter ?? 0.2
  }

  get streams(): LogStreamConfig[] {
    return this.o.streams
  }

  /** Creates the rows of new streams (cursor 0: the whole chain is sent) and starts sending. */
  async start(): Promise<void> {
    await this.ensureRows()
    for (const stream of this.o.streams) this.loops.push(this.loop(stream))
  }

  /** Looks for new events at once (instead of at the next poll). */
  wake(): void {
    for (const wake of this.wakers.values()) wake()
  }

  /** Stops the loops; a batch in flight finishes (its cursor is written) first. */
  async close(): Promise<void> {
    this.closed = true
    this.wake()
    await Promise.all(this.loops)
  }

  async ensureRows(): Promise<void> {
    if (this.o.streams.length === 0) return
    const at = this.now()
    await this.db
      .insert(logStreams)
      .values(this.o.streams.map((s) => ({ id: s.id, createdAt: at, updatedAt: at })))
      .onConflictDoNothing()
  }

  private async loop(stream: LogStreamConfig): Promise<void> {
    while (!this.closed) {
      let turn: StreamTurn
      try {
        turn = await this.runOnce(stream)
      } catch (err) {
        // The database is down: try again at the next poll.
        this.o.logger.warn({ err, stream: stream.id }, 'log stream turn failed')
        turn = 'waiting'
      }
      if (turn === 'delivered' || this.closed) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, stream.pollMs)
        function done() {
          clearTimeout(timer)
          resolve()
        }
        this.wakers.set(stream.id, done)
      })
      this.wakers.delete(stream.id)
    }
  }

  /**
   * One turn of a stream: claims it (unless another instance holds it or its backoff is not
   * over), reads the next batch after its cursor, sends it, and moves the cursor on a 2xx.
   */
  async runOnce(stream: LogStreamConfig): Promise<StreamTurn> {
    const at = this.now()
    const [claimed] = await this.db
      .update(logStreams)
      .set({
        leaseUntil: new Date(at.getTime() + (this.o.leaseMs ?? stream.timeoutMs + LEASE_MARGIN_MS)),
        updatedAt: at,
      })
      .where(
        and(
          eq(logStreams.id, stream.id),
          or(isNull(logStreams.leaseUntil), lte(logStreams.leaseUntil, at)),
          or(isNull(logStreams.nextAttemptAt), lte(logStreams.nextAttemptAt, at)),
        ),
      )
      .returning()
    if (!claimed) return 'waiting'
    const release = () =>
      this.db.update(logStreams).set({ leaseUntil: null }).where(eq(logStreams.id, stream.id))
    let page: FeedEvent[]
    try {
      page = await readFeed(this.db, { afterSeq: claimed.cursorSeq, limit: stream.batchSize })
    } catch (error) {
      await release().catch(() => undefined)
      throw error
    }
    if (page.length === 0) {
      await release()
      return 'idle'
    }
    // `events` streams carry impersonations' events (ActAs's own shape); `ocsf` streams all.
    const items: StreamItem[] = page.flatMap((f): StreamItem[] =>
      stream.format === 'ocsf'
        ? [{ id: f.event.hash, time: Date.parse(f.event.at), body: feedToOcsf(f) }]
        : f.kind === 'impersonation'
          ? [{ id: f.event.hash, time: Date.parse(f.event.at), body: feedToEvent(f) }]
          : [],
    )
    const request = streamRequest(stream, items)
    let status: number | null = null
    let problem: string | null = null
    try {
      const res = await fetch(stream.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(stream.timeoutMs),
      })
      status = res.status
      const text = await res.text().catch(() => '')
      if (!res.ok) problem = `HTTP ${res.status}${text ? `: ${text.slice(0, 120)}` : ''}`
    } catch (error) {
      problem =
        error instanceof Error
          ? error.name === 'TimeoutError'
            ? `no answer within ${stream.timeoutMs} ms`
            : `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}`
          : 'request failed'
    }
    const done = this.now()
    const last = page[page.length - 1]!.event.seq
    if (problem === null) {
      await this.db
        .update(logStreams)
        .set({
          cursorSeq: last,
          state: 'active',
          attempts: 0,
          nextAttemptAt: null,
          leaseUntil: null,
          deliveredEvents: sql`${logStreams.deliveredEvents} + ${page.length}`,
          lastDeliveredAt: done,
          lastAttemptAt: done,
          lastStatusCode: status,
          lastError: null,
          updatedAt: done,
        })
        .where(and(eq(logStreams.id, stream.id), eq(logStreams.cursorSeq, claimed.cursorSeq)))
      if (claimed.state !== 'active') this.changed(stream, 'active')
      return 'delivered'
    }
    const attempts = claimed.attempts + 1
    const state = attempts >= stream.failingAfter ? 'failing' : 'retrying'
    const backoff = Math.min(stream.retryMaxMs, stream.retryBaseMs * 2 ** (attempts - 1))
    const wait = Math.round(backoff * (1 - this.jitter / 2 + Math.random() * this.jitter))
    await this.db
      .update(logStreams)
      .set({
        state,
        attempts,
        nextAttemptAt: new Date(done.getTime() + wait),
        leaseUntil: null,
        lastAttemptAt: done,
        lastStatusCode: status,
        lastError: redact(problem, stream.token),
        updatedAt: done,
      })
      .where(eq(logStreams.id, stream.id))
    this.o.logger.warn(
      { stream: stream.id, status, attempts, state, retryInMs: wait },
      'log stream delivery failed',
    )
    if (state !== claimed.state) this.changed(stream, state)
    return 'failed'
  }

  private changed(stream: LogStreamConfig, state: LogStreamRow['state']) {
    try {
      this.o.onStateChange?.(stream, state)
    } catch (err) {
      this.o.logger.error({ err, stream: stream.id }, 'log stream state listener failed')
    }
  }

  /** Every configured stream's state, cursor and last delivery (the console's panel). */
  async status(): Promise<LogStreamStatus[]> {
    const rows = await this.db.select().from(logStreams)
    const headSeq = (await this.o.audit.head()).seq
    const byId = new Map(rows.map((r) => [r.id, r]))
    return this.o.streams.map((s) => {
      const row = byId.get(s.id)
      return {
        id: s.id,
        kind: s.kind,
        origin: new URL(s.url).origin,
        format: s.format,
        state: row?.state ?? 'active',
        cursorSeq: row?.cursorSeq ?? 0,
        headSeq,
        deliveredEvents: row?.deliveredEvents ?? 0,
        attempts: row?.attempts ?? 0,
        lastDeliveredAt: row?.lastDeliveredAt ?? null,
        lastAttemptAt: row?.lastAttemptAt ?? null,
        nextAttemptAt: row?.nextAttemptAt ?? null,
        lastStatusCode: row?.lastStatusCode ?? null,
        lastError: row?.lastError ?? null,
      }
    })
  }
}

/** An error text as stored and shown: cleaned and capped (clean.ts), and never the stream's token. */
function redact(text: string, token: string | undefined): string {
  const capped = cleanText(text, ERROR_MAX)
  return token ? capped.replaceAll(token, '[token]') : capped
}
