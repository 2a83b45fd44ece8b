// Every list, filter and count query of the audit model is answered from an index: no table
// scan, no sort of what an index already orders (issue 15: the list's ORDER BY did not match
// its index). At 40,000 events here; the bench runs the same check at 1,000,000.
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { IMPERSONATION_STATUSES } from '@actas/contracts'
import { and, count, eq, gte, lt } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedAuditLog } from '../bench/audit-data.js'
import type { SeedSummary } from '../bench/audit-data.js'
import { auditQueries, clientOf, explain, scansOrSorts } from '../bench/audit-plans.js'
import type { OpenedDatabase } from '../src/audit/db.js'
import { auditEvents, impersonations } from '../src/audit/schema.js'
import { AuditStore } from '../src/audit/store.js'
import { openTestDatabase } from './support/stack.js'

let db: OpenedDatabase
let store: AuditStore
let sample: SeedSummary
const now = new Date()

beforeAll(async () => {
  db = await openTestDatabase()
  store = new AuditStore(db.db, () => now)
  sample = await seedAuditLog(db.db, { events: 40_000, actors: 40, users: 3000, now })
  await clientOf(db.db).query('vacuum analyze')
}, 180_000)

afterAll(async () => {
  await db?.close()
})

describe('query plans', () => {
  it('the seeded log is a valid chain of the size asked for', async () => {
    expect(await store.verify()).toMatchObject({ ok: true, events: sample.events })
    expect(sample.events).toBeGreaterThanOrEqual(40_000)
  })

  it('no list, filter or count query scans a table or sorts more than a handful of rows', async () => {
    const first = await store.list({ limit: 50 })
    for (const { name, query } of auditQueries(store, sample, now, first.next!)) {
      const plan = await explain(db.db, query)
      expect(scansOrSorts(plan), `${name}:\n${plan.join('\n')}`).toEqual([])
    }
  })

  it('the monthly quota counts from the issued-events index', async () => {
    const plan = await explain(
      db.db,
      store.countIssuedQuery(new Date(now.getTime() - 30 * 86_400_000)),
    )
    expect(plan.join('\n')).toMatch(
      /Index Only Scan using audit_events_issued_idx|Bitmap Index Scan on audit_events_issued_idx/,
    )
  })
})

describe('counts', () => {
  /** The plain count the counters stand in for. */
  async function scanCount(q: { status?: string; from?: string; to?: string }) {
    const [row] = await db.db
      .select({ n: count() })
      .from(impersonations)
      .where(
        and(
          q.status ? eq(impersonations.status, q.status as never) : undefined,
          q.from ? gte(impersonations.createdAt, new Date(q.from)) : undefined,
          q.to ? lt(impersonations.createdAt, new Date(q.to)) : undefined,
        ),
      )
    return row?.n ?? 0
  }
  const span = 400 * 86_400_000
  const instant = fc
    .integer({ min: now.getTime() - span, max: now.getTime() + 86_400_000 })
    .map((t) => new Date(t).toISOString())
  const query = fc.record(
    {
      status: fc.constantFrom(...IMPERSONATION_STATUSES),
      from: instant,
      to: instant,
    },
    { requiredKeys: [] },
  )

  it('the counters add up to what a scan counts, for any status and range, after writes too', async () => {
    // Writes through the store move rows between statuses and add issued events.
    for (let i = 0; i < 5; i++) {
      const id = randomUUID()
      await store.createImpersonation({
        id,
        actorId: sample.actorId,
        userId: sample.userId,
        reason: 'Counting what the counters count',
        sessionMinutes: 10,
      })
      await store.appendEvent(id, { type: 'issued', data: {} })
      if (i % 2 === 0) await store.appendEvent(id, { type: 'ticket_revoked', by: 'user_x' })
    }
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        expect(await store.count(q)).toBe(await scanCount(q))
      }),
      { numRuns: 150 },
    )
    const since = fc.integer({ min: now.getTime() - span, max: now.getTime() })
    await fc.assert(
      fc.asyncProperty(since, async (t) => {
        const [row] = await db.db
          .select({ n: count() })
          .from(auditEvents)
          .where(and(eq(auditEvents.type, 'issued'), gte(auditEvents.createdAt, new Date(t))))
        expect(await store.countIssuedSince(new Date(t))).toBe(row?.n ?? 0)
      }),
      { numRuns: 60 },
    )
  }, 120_000)
})
