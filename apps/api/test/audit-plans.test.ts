// Every list, filter and count query of the audit model is answered from an index: no table
// scan, no sort of what an index already orders (issue 15: the list's ORDER BY did not match
// its index). At 40,000 events here; the bench runs the same check at 1,000,000.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedAuditLog } from '../bench/audit-data.js'
import type { SeedSummary } from '../bench/audit-data.js'
import { auditQueries, clientOf, explain, scansOrSorts } from '../bench/audit-plans.js'
import type { OpenedDatabase } from '../src/audit/db.js'
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
