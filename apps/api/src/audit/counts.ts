// How many: list totals and the monthly quota, from the per-day counters the database keeps
// (audit_counts, migration 0005) for whole UTC days plus the partial days at a range's edges
// from the indexes, so no count reads more than two days of rows.
import { and, count, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import type { ImpersonationStatus } from '@actas/contracts'
import { BILLING_EVENT_TYPE, IMPERSONATION_STATUSES } from '@actas/contracts'
import { auditCounts, auditEvents, impersonations } from './schema.js'
import { AuditStoreBase } from './store-base.js'
import type { Queryable } from './store-base.js'

export interface ListQuery {
  actorId?: string | undefined
  userId?: string | undefined
  status?: ImpersonationStatus | undefined
  /** ISO instant: rows created at or after it. */
  from?: string | undefined
  /** ISO instant: rows created before it. */
  to?: string | undefined
  cursor?: string | undefined
  limit: number
}

const DAY_MS = 86_400_000
/** The UTC day of an instant, `yyyy-mm-dd` (audit_counts' `day`). */
const utcDay = (d: Date) => d.toISOString().slice(0, 10)

/** The filters of a list query (not its cursor or limit). */
export function listFilters(query: Omit<ListQuery, 'cursor' | 'limit'>): SQL[] {
  const where: SQL[] = []
  if (query.actorId) where.push(eq(impersonations.actorId, query.actorId))
  if (query.userId) where.push(eq(impersonations.userId, query.userId))
  if (query.status) where.push(eq(impersonations.status, query.status))
  if (query.from) where.push(gte(impersonations.createdAt, new Date(query.from)))
  if (query.to) where.push(lt(impersonations.createdAt, new Date(query.to)))
  return where
}

/**
 * `counters(keys, whole days of [from, to))` + `edge(from, first whole day)` + `edge(last whole
 * day, to)` as one statement answering `[{ n }]`. A range shorter than a day is one edge.
 */
function countByDays(
  db: Queryable,
  keys: readonly string[],
  fromIso: string | undefined,
  toIso: string | undefined,
  edge: (from: Date | null, to: Date | null) => SQL,
) {
  const from = fromIso ? new Date(fromIso) : null
  const to = toIso ? new Date(toIso) : null
  const firstDay = from ? new Date(Math.ceil(from.getTime() / DAY_MS) * DAY_MS) : null
  const endDay = to ? new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS) : null
  let n: SQL
  if (firstDay && endDay && firstDay > endDay) {
    n = edge(from, to)
  } else {
    const days = and(
      inArray(auditCounts.key, [...keys]),
      firstDay ? gte(auditCounts.day, utcDay(firstDay)) : undefined,
      endDay ? lt(auditCounts.day, utcDay(endDay)) : undefined,
    )
    n = sql`coalesce((select sum(${auditCounts.n}) from ${auditCounts} where ${days}), 0)`
    if (from && firstDay && from < firstDay) n = sql`${n} + ${edge(from, firstDay)}`
    if (to && endDay && endDay < to) n = sql`${n} + ${edge(endDay, to)}`
  }
  return db.select({ n: sql<number>`(${n})::bigint`.mapWith(Number) }).from(sql`(select 1) as one`)
}

/**
 * Tickets Clerk billed since `since`: the `issued` events (BILLING_EVENT_TYPE), whatever happened
 * to each ticket after (signed in, ended, expired, revoked, a failed sign-in). Counters for whole
 * days, the event type's partial index for the first. The one count of the monthly quota: `quota`
 * reports it and the block-mode gate (quota.ts) refuses past it, in its own transaction.
 */
export function billedSinceQuery(db: Queryable, since: Date) {
  return countByDays(
    db,
    [`event:${BILLING_EVENT_TYPE}`],
    since.toISOString(),
    undefined,
    (from, to) =>
      sql`(select count(*) from ${auditEvents} where ${and(
        eq(auditEvents.type, BILLING_EVENT_TYPE),
        from ? gte(auditEvents.createdAt, from) : undefined,
        to ? lt(auditEvents.createdAt, to) : undefined,
      )})`,
  )
}

export class AuditCounts extends AuditStoreBase {
  /** How many records match a list query's filters (every page). */
  async count(query: Omit<ListQuery, 'cursor' | 'limit'>): Promise<number> {
    const [row] = await this.countQuery(query)
    return row?.n ?? 0
  }

  /**
   * How many rows match: from the per-day counters (audit_counts, kept by triggers) for whole UTC
   * days, plus the rows of the partial days at the range's edges from the indexes; with a person
   * filter (an actor's or a user's rows: an index range of that person), from the index alone.
   */
  countQuery(query: Omit<ListQuery, 'cursor' | 'limit'>) {
    if (query.actorId || query.userId)
      return this.db
        .select({ n: count() })
        .from(impersonations)
        .where(and(...listFilters(query)))
    const keys = (query.status ? [query.status] : IMPERSONATION_STATUSES).map((s) => `status:${s}`)
    const rows = (from: Date | null, to: Date | null) =>
      sql`(select count(*) from ${impersonations} where ${and(
        query.status ? eq(impersonations.status, query.status) : undefined,
        from ? gte(impersonations.createdAt, from) : undefined,
        to ? lt(impersonations.createdAt, to) : undefined,
      )})`
    return countByDays(this.db, keys, query.from, query.to, rows)
  }

  /** `issued` events since `since` (billedSinceQuery). */
  countIssuedQuery(since: Date) {
    return billedSinceQuery(this.db, since)
  }

  /**
   * Actor tokens Clerk issued (and billed) since `since`: what `quota` reports and the
   * block-mode gate counts (billedSinceQuery).
   */
  async countIssuedSince(since: Date): Promise<number> {
    const [row] = await this.countIssuedQuery(since)
    return row?.n ?? 0
  }
}
