// Which impersonated sessions ActAs has ended, known to every API instance within a second or so.
//
// A Clerk session token stays cryptographically valid until its `exp` (≤ 60 s) after Clerk
// revoked the session, and the API verifies tokens without asking Clerk. So every instance keeps
// the impersonations that reached a terminal status (and their Clerk session ids) in memory and
// refuses tokens that name one (`act.impersonation_id`, or the session id). It learns them:
// - from its own appends (`ended()`), at once;
// - from the other instances through Postgres `LISTEN/NOTIFY` on a Postgres server (a NOTIFY per
//   end; the listener then reads the new events), in milliseconds;
// - from a periodic read of the events appended since the last one (`refreshMs`, default 1 s):
//   the backstop for a lost notification or a reconnecting listener, and all that PGlite (one
//   process) needs.
// The read is a range of the event chain's primary key (`seq > last`), so it costs the same at
// any size of the log. At start the terminal impersonations of the last REVOKED_LOOKBACK_MINUTES are loaded (an
// impersonated session lives at most the ticket's 10 min + 30 min; older ones have no valid
// token left), from the `(status, created_at)` index.
import {
  REVOKED_LOOKBACK_MINUTES,
  SETTLED_IMPERSONATION_STATUSES,
  SETTLING_EVENT_TYPES,
} from '@actas/contracts'
import { and, gt, inArray, sql } from 'drizzle-orm'
import type { Client as PgClient } from 'pg'
import type { Logger } from 'pino'
import type { AuditDatabase } from '../audit/db.js'
import { auditChainHead, auditEvents, impersonations } from '../audit/schema.js'
import type { ImpersonationRow } from '../audit/schema.js'
import { observeRevocationLag } from '../metrics/metrics.js'

/** What a refused token is told: how and by whom its impersonation ended. */
export interface EndedImpersonation {
  impersonationId: string
  clerkSessionId: string | null
  status: string
  cause: string | null
  endedBy: string | null
  endReason: string | null
  /** When it was learnt (ms), for pruning. */
  learntAt: number
}

export interface RevocationRegistryOptions {
  db: AuditDatabase
  logger: Pick<Logger, 'warn' | 'error' | 'info'>
  /** Period of the backstop read (default 1000 ms). */
  refreshMs?: number
  /** A Postgres server to LISTEN on (other instances' NOTIFY); absent on PGlite. */
  listen?: { url: string; channel: string } | null
  now?: () => number
}

/** How long an ended impersonation is remembered: as long as `sessions.revoked` looks back. */
const KEEP_MS = REVOKED_LOOKBACK_MINUTES * 60_000

/** The NOTIFY channel for one database schema (≤ 63 bytes, Postgres' identifier limit). */
export function revocationChannel(schema: string): string {
  return `actas_ended_${schema}`.slice(0, 63)
}

export class RevocationRegistry {
  private readonly byImpersonation = new Map<string, EndedImpersonation>()
  private readonly bySession = new Map<string, EndedImpersonation>()
  private lastSeq = 0
  private timer: NodeJS.Timeout | null = null
  private refreshing: Promise<void> | null = null
  private again = false
  private listener: PgClient | null = null
  private closed = false
  private readonly now: () => number
  private readonly listeners = new Set<(ended: EndedImpersonation) => void>()

  constructor(private readonly o: RevocationRegistryOptions) {
    this.now = o.now ?? Date.now
  }

  /** Loads the recent terminal impersonations, then starts the periodic read and the listener. */
  async start(): Promise<void> {
    const [head] = await this.o.db
      .select({ seq: auditChainHead.seq })
      .from(auditChainHead)
      .where(sql`${auditChainHead.id} = 1`)
    const rows = await this.o.db
      .select()
      .from(impersonations)
      .where(
        and(
          inArray(impersonations.status, [...SETTLED_IMPERSONATION_STATUSES]),
          gt(impersonations.createdAt, new Date(this.now() - KEEP_MS)),
        ),
      )
    for (const row of rows) this.remember(row)
    this.lastSeq = head?.seq ?? 0
    this.timer = setInterval(() => void this.refresh(), this.o.refreshMs ?? 1000)
    this.timer.unref()
    if (this.o.listen) await this.listen(this.o.listen)
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    await this.refreshing?.catch(() => undefined)
    const listener = this.listener
    this.listener = null
    await listener?.end().catch(() => undefined)
  }

  /**
   * Calls `listener` with every end this instance learns from now on (its own, at once; the other
   * instances', through NOTIFY or the periodic read), once per impersonation. Returns the
   * unsubscribe function. What the push of `GET /v1/sessions/ended` streams.
   */
  subscribe(listener: (ended: EndedImpersonation) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** The ended impersonation a session belongs to, or null when it may go on. */
  lookup(sessionId: string | null, impersonationId: string | null): EndedImpersonation | null {
    return (
      (impersonationId ? this.byImpersonation.get(impersonationId) : undefined) ??
      (sessionId ? this.bySession.get(sessionId) : undefined) ??
      null
    )
  }

  /** This instance settled `row`: refuse its session here at once, and tell the others. */
  async ended(row: ImpersonationRow): Promise<void> {
    this.remember(row)
    if (!this.o.listen) return
    try {
      await this.o.db.execute(sql`select pg_notify(${this.o.listen.channel}, ${row.id})`)
    } catch (error) {
      // The other instances' periodic read still finds it.
      this.o.logger.warn({ err: error, impersonationId: row.id }, 'revocation NOTIFY failed')
    }
  }

  /** Reads the settling events appended since the last read (one at a time; coalesced). */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true
      return this.refreshing
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false
          await this.readNewEvents()
        } while (this.again && !this.closed)
      } catch (error) {
        this.o.logger.warn({ err: error }, 'revocation refresh failed; retrying on the next tick')
      } finally {
        this.refreshing = null
      }
    })()
    return this.refreshing
  }

  private async readNewEvents(): Promise<void> {
    for (;;) {
      const rows = await this.o.db
        .select({ seq: auditEvents.seq, row: impersonations })
        .from(auditEvents)
        .innerJoin(impersonations, sql`${impersonations.id} = ${auditEvents.impersonationId}`)
        .where(
          and(
            gt(auditEvents.seq, this.lastSeq),
            inArray(auditEvents.type, [...SETTLING_EVENT_TYPES]),
          ),
        )
        .orderBy(auditEvents.seq)
        .limit(500)
      for (const { seq, row } of rows) {
        this.remember(row)
        this.lastSeq = Math.max(this.lastSeq, seq)
      }
      if (rows.length < 500) break
    }
    this.prune()
  }

  private remember(row: ImpersonationRow): void {
    const entry: EndedImpersonation = {
      impersonationId: row.id,
      clerkSessionId: row.clerkSessionId,
      status: row.status,
      cause: row.endCause,
      endedBy: row.endedBy,
      endReason: row.endReason,
      learntAt: this.now(),
    }
    const known = this.byImpersonation.has(row.id)
    this.byImpersonation.set(row.id, entry)
    if (row.clerkSessionId) this.bySession.set(row.clerkSessionId, entry)
    if (known) return
    // (Not the ends loaded at start: only those learnt while running.)
    if (this.timer) observeRevocationLag(this.now() - (row.endedAt ?? row.updatedAt).getTime())
    for (const listener of this.listeners) {
      try {
        listener(entry)
      } catch (error) {
        this.o.logger.warn({ err: error }, 'revocation listener failed')
      }
    }
  }

  private prune(): void {
    const cutoff = this.now() - KEEP_MS
    for (const [id, entry] of this.byImpersonation) {
      if (entry.learntAt >= cutoff) continue
      this.byImpersonation.delete(id)
      if (entry.clerkSessionId) this.bySession.delete(entry.clerkSessionId)
    }
  }

  private async listen(target: { url: string; channel: string }): Promise<void> {
    const { default: pg } = await import('pg')
    const connect = async (): Promise<void> => {
      if (this.closed) return
      const client = new pg.Client({
        connectionString: target.url,
        application_name: 'actas-api-listen',
      })
      let retried = false
      const retry = () => {
        if (retried || this.closed) return
        retried = true
        if (this.listener === client) this.listener = null
        client.end().catch(() => undefined)
        // Meanwhile the periodic read covers; read once more as soon as we are back.
        setTimeout(() => void connect().then(() => this.refresh()), 1000).unref()
      }
      client.on('error', (err) => {
        this.o.logger.warn(
          { err: { message: err.message } },
          'revocation listener lost; reconnecting',
        )
        retry()
      })
      client.on('end', retry)
      client.on('notification', () => void this.refresh())
      try {
        await client.connect()
        await client.query(`LISTEN "${target.channel}"`)
        this.listener = client
      } catch (err) {
        this.o.logger.warn(
          { err: { message: (err as Error).message } },
          'revocation listener could not connect; retrying',
        )
        retry()
      }
    }
    await connect()
  }
}
