// Reads of the audit log: rows, timelines, pages, the open ones, the settled ones, the chain.
// What they show is the projection the event append writes (projection.ts), which `verify`
// checks against the events.
import { and, asc, count, desc, eq, gt, gte, inArray, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { OPEN_IMPERSONATION_STATUSES, SETTLING_EVENT_TYPES } from '@actas/contracts'
import { GENESIS_HASH } from './chain.js'
import type { StoredEvent } from './chain.js'
import { AuditCounts, listFilters } from './counts.js'
import type { ListQuery } from './counts.js'
import { encodeCursor, olderThan } from './keyset.js'
import { IMPERSONATION_COLUMNS, storedInstant } from './projection.js'
import {
  auditChainHead,
  auditCheckpoints,
  auditEvents,
  auditReads,
  impersonationActions,
  impersonations,
  sqlList,
} from './schema.js'
import type {
  AuditCheckpointRow,
  AuditEventRow,
  AuditReadRow,
  ImpersonationActionRow,
  ImpersonationRow,
} from './schema.js'

/**
 * The events that settle an impersonation for good (what `sessions.revoked` reports), the same
 * predicate as the partial indexes' (schema.ts) so the planner matches them.
 */
const SETTLING = sql`${auditEvents.type} in (${sqlList(SETTLING_EVENT_TYPES)})`

/** A driver (PGlite or a pg Pool) answering `query(text, params)`. */
interface JsonClient {
  query(text: string, params: unknown[]): Promise<{ rows: Array<{ rows?: string }> }>
}

/** A row of a `json_agg` of impersonations, mapped as drizzle maps the columns. */
export function rowFromJson(r: Record<string, unknown>): ImpersonationRow {
  const row: Record<string, unknown> = {}
  for (const [key, column] of IMPERSONATION_COLUMNS) {
    const value = r[column.name]
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
  }
  return row as ImpersonationRow
}

export class AuditReads extends AuditCounts {
  async get(id: string): Promise<ImpersonationRow | null> {
    const [row] = await this.db
      .select()
      .from(impersonations)
      .where(eq(impersonations.id, id))
      .limit(1)
    return row ?? null
  }

  /** An impersonation's events, oldest first. */
  async events(impersonationId: string): Promise<AuditEventRow[]> {
    return this.eventsQuery(impersonationId)
  }

  async list(query: ListQuery): Promise<{ rows: ImpersonationRow[]; next: string | null }> {
    const rows = await this.pageAsJson(this.listQuery(query))
    const page = rows.slice(0, query.limit)
    const last = page.at(-1)
    return { rows: page, next: rows.length > query.limit && last ? encodeCursor(last) : null }
  }

  /**
   * Runs a list query (`listQuery`, ordered newest first) and answers its rows, read as one JSON
   * text (`json_agg`) instead of 29 columns × 51 rows field by field: the drivers' per-field
   * decoding (PGlite's wire-protocol reader, pg's type parsers) cost several times the query
   * itself (bench: PGlite ≈ 3.3 → ≈ 1.x ms of CPU per page at 1,000,000 events). Values go through
   * the columns' own driver mapping, so the rows are exactly what drizzle would return.
   */
  private async pageAsJson(query: { toSQL(): { sql: string; params: unknown[] } }) {
    const { sql: text, params } = query.toSQL()
    const client = (this.db as unknown as { $client: JsonClient }).$client
    const result = await client.query(
      `select coalesce(json_agg(page order by page.created_at desc, page.id desc), '[]')::text as rows from (${text}) as page`,
      params,
    )
    const raw = JSON.parse(result.rows[0]?.rows ?? '[]') as Array<Record<string, unknown>>
    return raw.map(rowFromJson)
  }

  /**
   * Impersonations not settled yet (pending, issued, signed in), oldest first: what the
   * lifecycle's reconciler and the live board look at (a small partial index).
   */
  async listOpen(limit = 500): Promise<ImpersonationRow[]> {
    return this.openQuery(limit)
  }

  /**
   * Each user's latest impersonation that signed in (when it was requested, when it signed in),
   * for the search rows' last sign-in (impersonation/last-sign-in.ts). One indexed query.
   */
  async latestImpersonatedSignIns(
    userIds: readonly string[],
  ): Promise<Map<string, { requestedAt: Date; signedInAt: Date }>> {
    if (userIds.length === 0) return new Map()
    const rows = await this.db
      .selectDistinctOn([impersonations.userId], {
        userId: impersonations.userId,
        requestedAt: impersonations.createdAt,
        signedInAt: impersonations.signedInAt,
      })
      .from(impersonations)
      .where(
        and(
          inArray(impersonations.userId, [...userIds]),
          sql`${impersonations.signedInAt} is not null`,
        ),
      )
      .orderBy(impersonations.userId, desc(impersonations.signedInAt))
    return new Map(
      rows.map((r) => [r.userId, { requestedAt: r.requestedAt, signedInAt: r.signedInAt! }]),
    )
  }

  /**
   * Impersonations that signed in, by the seq of their `signed_in` event after `afterSeq`, oldest
   * first, at most `limit` (the search rows' mirror pages through it: last-sign-in.ts).
   */
  async signedInSince(
    afterSeq: number,
    limit: number,
  ): Promise<{ seq: number; userId: string; requestedAt: Date; signedInAt: Date }[]> {
    const rows = await this.db
      .select({
        seq: auditEvents.seq,
        userId: impersonations.userId,
        requestedAt: impersonations.createdAt,
        signedInAt: impersonations.signedInAt,
      })
      .from(auditEvents)
      .innerJoin(impersonations, eq(impersonations.id, auditEvents.impersonationId))
      .where(and(eq(auditEvents.type, 'signed_in'), gt(auditEvents.seq, afterSeq)))
      .orderBy(asc(auditEvents.seq))
      .limit(limit)
    return rows.flatMap((r) => (r.signedInAt ? [{ ...r, signedInAt: r.signedInAt }] : []))
  }

  /** The impersonation a Clerk session (`sess_…`) belongs to, if it is one of ours. */
  async findByClerkSessionId(clerkSessionId: string): Promise<ImpersonationRow | null> {
    const [row] = await this.db
      .select()
      .from(impersonations)
      .where(eq(impersonations.clerkSessionId, clerkSessionId))
      .limit(1)
    return row ?? null
  }

  // The read queries unexecuted (drizzle builders: `.toSQL()`), so that tests and the bench
  // EXPLAIN exactly what runs.

  eventsQuery(impersonationId: string) {
    return this.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.impersonationId, impersonationId))
      .orderBy(asc(auditEvents.seq))
  }

  listQuery(query: ListQuery) {
    const where = listFilters(query)
    if (query.cursor)
      where.push(
        olderThan(impersonations.createdAt, impersonations.id, query.cursor, 'impersonation.list'),
      )
    return this.db
      .select()
      .from(impersonations)
      .where(and(...where))
      .orderBy(desc(impersonations.createdAt), desc(impersonations.id))
      .limit(query.limit + 1)
  }

  openQuery(limit: number) {
    return this.db
      .select()
      .from(impersonations)
      .where(inArray(impersonations.status, [...OPEN_IMPERSONATION_STATUSES]))
      .orderBy(asc(impersonations.createdAt))
      .limit(limit)
  }

  /** An impersonation's action trail, in time order, at most `limit` (the guard's reports). */
  actionsQuery(impersonationId: string, limit: number) {
    return this.db
      .select()
      .from(impersonationActions)
      .where(eq(impersonationActions.impersonationId, impersonationId))
      .orderBy(asc(impersonationActions.at), asc(impersonationActions.id))
      .limit(limit)
  }

  countActionsQuery(impersonationId: string) {
    return this.db
      .select({ n: count() })
      .from(impersonationActions)
      .where(eq(impersonationActions.impersonationId, impersonationId))
  }

  /**
   * Settling events (ended, ticket revoked, failed) after `afterSeq`, oldest first, with the
   * Clerk session of their impersonation: one range of a small partial index.
   */
  settledAfterQuery(afterSeq: number, limit: number) {
    return this.db
      .select({
        seq: auditEvents.seq,
        impersonationId: auditEvents.impersonationId,
        createdAt: auditEvents.createdAt,
        clerkSessionId: sql<
          string | null
        >`coalesce(${auditEvents.clerkSessionId}, ${impersonations.clerkSessionId})`,
      })
      .from(auditEvents)
      .innerJoin(impersonations, eq(impersonations.id, auditEvents.impersonationId))
      .where(and(SETTLING, sql`${auditEvents.seq} > ${afterSeq}`))
      .orderBy(asc(auditEvents.seq))
      .limit(limit)
  }

  /** The first settling event at or after `since` (by time): where a fresh guard starts. */
  firstSettledSinceQuery(since: Date) {
    return this.db
      .select({ seq: auditEvents.seq })
      .from(auditEvents)
      .where(and(SETTLING, gte(auditEvents.createdAt, since)))
      .orderBy(asc(auditEvents.createdAt), asc(auditEvents.seq))
      .limit(1)
  }

  /**
   * Impersonations that settled after the cursor `afterSeq` (a chain seq), or, without one,
   * since `lookbackFrom`; `next` is the cursor to pass next time.
   */
  async settledAfter(
    afterSeq: number | null,
    lookbackFrom: Date,
    limit: number,
  ): Promise<{
    items: Array<{ impersonationId: string; clerkSessionId: string | null; at: Date }>
    next: number
    more: boolean
  }> {
    let start = afterSeq
    if (start === null) {
      // Read the head first: whatever settles after this read has a larger seq.
      const { seq: head } = await this.head()
      const [first] = await this.firstSettledSinceQuery(lookbackFrom)
      start = first ? first.seq - 1 : head
    }
    const rows = await this.settledAfterQuery(start, limit + 1)
    const page = rows.slice(0, limit)
    return {
      items: page.map((r) => ({
        impersonationId: r.impersonationId,
        clerkSessionId: r.clerkSessionId,
        at: r.createdAt,
      })),
      next: page.at(-1)?.seq ?? start,
      more: rows.length > limit,
    }
  }

  /** An impersonation's actions in time order (at most `limit`) and how many there are in all. */
  async actions(
    impersonationId: string,
    limit: number,
  ): Promise<{ rows: ImpersonationActionRow[]; total: number }> {
    const rows = await this.actionsQuery(impersonationId, limit)
    if (rows.length < limit) return { rows, total: rows.length }
    const [counted] = await this.countActionsQuery(impersonationId)
    return { rows, total: counted?.n ?? rows.length }
  }

  /** Audit reads, oldest first (optionally by one machine). */
  async listAuditReads(machineId?: string): Promise<AuditReadRow[]> {
    return this.db
      .select()
      .from(auditReads)
      .where(machineId ? eq(auditReads.machineId, machineId) : undefined)
      .orderBy(asc(auditReads.createdAt), asc(auditReads.id))
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const { seq, hash } = await this.chainHead()
    return { seq, hash }
  }

  /** The head with the time of its event (null: no event yet). */
  async chainHead(): Promise<{ seq: number; hash: string; at: Date | null }> {
    const [head] = await this.db.select().from(auditChainHead).where(eq(auditChainHead.id, 1))
    return head && head.seq > 0
      ? { seq: head.seq, hash: head.hash, at: head.updatedAt }
      : { seq: 0, hash: GENESIS_HASH, at: null }
  }

  /** The signed checkpoints at or after `fromSeq` (default: all), in chain order. */
  async checkpoints(fromSeq = 0): Promise<AuditCheckpointRow[]> {
    return this.db
      .select()
      .from(auditCheckpoints)
      .where(gte(auditCheckpoints.seq, fromSeq))
      .orderBy(asc(auditCheckpoints.seq))
  }

  /** The last signed checkpoint, if any. */
  async lastCheckpoint(): Promise<AuditCheckpointRow | null> {
    const [row] = await this.db
      .select()
      .from(auditCheckpoints)
      .orderBy(desc(auditCheckpoints.seq))
      .limit(1)
    return row ?? null
  }

  /** The stored event at `seq` (hash and time), if any. */
  async eventAt(seq: number): Promise<{ seq: number; hash: string; createdAt: Date } | null> {
    const [row] = await this.db
      .select({ seq: auditEvents.seq, hash: auditEvents.hash, createdAt: auditEvents.createdAt })
      .from(auditEvents)
      .where(eq(auditEvents.seq, seq))
    return row ?? null
  }

  /**
   * Events matching `where`, in chain order (at most `limit`), read as one JSON text
   * (`json_agg`) and parsed in one go: decoding thousands of rows field by field costs PGlite
   * several times more than the query itself.
   */
  protected async storedEvents(where: SQL, limit?: number): Promise<StoredEvent[]> {
    type Raw = [
      number,
      string,
      string,
      string | null,
      string | null,
      string | null,
      string | null,
      string,
      string,
      string,
      string,
    ]
    const result: unknown = await this.db.execute(sql`
      select coalesce(json_agg(json_build_array(seq, impersonation_id, type, cause, "by", reason,
        clerk_session_id, data, created_at, prev_hash, hash) order by seq), '[]')::text as page
      from (select * from ${auditEvents} where ${where} order by seq
        ${limit === undefined ? sql`` : sql`limit ${limit}`}) e`)
    const [first] = (result as { rows: Array<{ page: string }> }).rows
    return (JSON.parse(first?.page ?? '[]') as Raw[]).map((r) => ({
      seq: r[0],
      impersonationId: r[1],
      type: r[2],
      cause: r[3],
      by: r[4],
      reason: r[5],
      clerkSessionId: r[6],
      data: r[7],
      createdAt: storedInstant(r[8]),
      prevHash: r[9],
      hash: r[10],
    }))
  }

  /**
   * Every event after `afterSeq` in chain order, `pageSize` at a time (keyset on seq). With
   * `yieldBetweenPages`, the event loop gets a turn between pages (PGlite's queries resolve as
   * microtasks: without it a walk would hold the loop from start to end).
   */
  async *eventPages(
    pageSize = 10_000,
    afterSeq = 0,
    yieldBetweenPages = false,
  ): AsyncGenerator<StoredEvent[]> {
    const fetchPage = (after: number) => this.storedEvents(gt(auditEvents.seq, after), pageSize)
    // The next page is asked for before this one is checked (a server works meanwhile).
    let pending = fetchPage(afterSeq)
    for (;;) {
      const page = await pending
      if (page.length === 0) return
      pending = fetchPage(page[page.length - 1]!.seq)
      yield page
      if (yieldBetweenPages) await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
}
