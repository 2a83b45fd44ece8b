// The audit log's read queries, by name, exactly as the store builds them, and their plans:
// used by the audit bench (1,000,000 events) and the query plan test.
import type { AuditDatabase } from '../src/audit/db.js'
import { monthStart } from '../src/impersonation/service.js'
import type { AuditStore } from '../src/audit/store.js'
import type { SeedSummary } from './audit-data.js'

interface Runnable {
  toSQL(): { sql: string; params: unknown[] }
}

export function auditQueries(
  store: AuditStore,
  sample: SeedSummary,
  now: Date,
  cursor: string,
): Array<{ name: string; query: Runnable }> {
  const weekAgo = new Date(now.getTime() - 7 * 24 * 3600_000).toISOString()
  return [
    { name: 'list: first page', query: store.listQuery({ limit: 50 }) },
    { name: 'list: next page (cursor)', query: store.listQuery({ limit: 50, cursor }) },
    { name: 'list: by user', query: store.listQuery({ limit: 50, userId: sample.userId }) },
    { name: 'list: by actor', query: store.listQuery({ limit: 50, actorId: sample.actorId }) },
    { name: 'list: by status', query: store.listQuery({ limit: 50, status: 'denied' }) },
    {
      name: 'list: by actor and status',
      query: store.listQuery({ limit: 50, actorId: sample.actorId, status: 'revoked' }),
    },
    { name: 'list: last 7 days', query: store.listQuery({ limit: 50, from: weekAgo }) },
    { name: 'count: all', query: store.countQuery({}) },
    { name: 'count: by status', query: store.countQuery({ status: 'denied' }) },
    { name: 'count: last 7 days', query: store.countQuery({ from: weekAgo }) },
    {
      name: 'count: a month, by status',
      query: store.countQuery({
        status: 'ended',
        from: new Date(now.getTime() - 45 * 86_400_000).toISOString(),
        to: new Date(now.getTime() - 15 * 86_400_000).toISOString(),
      }),
    },
    { name: 'count: by user', query: store.countQuery({ userId: sample.userId }) },
    { name: 'count: by actor', query: store.countQuery({ actorId: sample.actorId }) },
    { name: 'quota: issued this month', query: store.countIssuedQuery(monthStart(now)) },
    { name: 'get: timeline', query: store.eventsQuery(sample.impersonationId) },
    { name: 'open impersonations', query: store.openQuery(500) },
    {
      name: 'sessions.revoked: first settled in the lookback',
      query: store.firstSettledSinceQuery(new Date(now.getTime() - 2 * 3600_000)),
    },
    {
      name: 'sessions.revoked: a page after a cursor',
      query: store.settledAfterQuery(Math.floor(sample.events / 2), 501),
    },
  ]
}

interface Client {
  query(text: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>
}

/** The driver under drizzle (PGlite or a pg Pool): both answer `query(text, params)`. */
export function clientOf(db: AuditDatabase): Client {
  return (db as unknown as { $client: Client }).$client
}

/** `EXPLAIN (ANALYZE)` of a query: its plan lines. */
export async function explain(db: AuditDatabase, query: Runnable): Promise<string[]> {
  const { sql, params } = query.toSQL()
  const result = await clientOf(db).query(`explain (analyze, costs off) ${sql}`, params)
  return result.rows.map((r) => String(Object.values(r)[0]))
}

/**
 * The lines of a plan that read a whole table, or sort more than a handful of rows (a sort of the
 * few rows one user's index entries point at is fine; sorting a table's worth is what an index
 * in the ORDER BY's direction avoids).
 */
export function scansOrSorts(plan: string[], maxSortedRows = 1000): string[] {
  return plan.filter((line) => {
    // audit_counts holds a row per day and key (≈ 3,300 a year), whatever the number of events:
    // reading it whole is the cheap way to add a long range up.
    if (/Seq Scan on audit_counts/.test(line)) return false
    if (/Seq Scan/.test(line)) return true
    const sort =
      /(?:^|->)\s*(?:Incremental )?Sort \(actual time=[\d.]+\.\.[\d.]+ rows=([\d.]+)/.exec(
        line.trim(),
      )
    return sort !== null && Number(sort[1]) > maxSortedRows
  })
}
