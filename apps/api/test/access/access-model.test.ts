// The access model (src/access/model.ts) as a state machine, property-tested, and its store
// against a real Postgres engine (PGlite, or the server at DATABASE_URL): every transition an
// event of the hash chain, the projection written only by the append (migration 0009's
// triggers), and `verify` recomputing every row from its events.
import { randomUUID } from 'node:crypto'
import { ACCESS_EVENT_TYPES, SETTLED_ACCESS_STATUSES } from '@actas/contracts'
import type { AccessEventType } from '@actas/contracts'
import { sql } from 'drizzle-orm'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyAccessEvent, liveGrant, projectAccess } from '../../src/access/model.js'
import type { AccessEvent, AccessProjection } from '../../src/access/model.js'
import { AccessStore } from '../../src/access/store.js'
import type { OpenedDatabase } from '../../src/audit/db.js'
import { AuditStore } from '../../src/audit/store.js'
import { openTestDatabase } from '../support/stack.js'

const STAFF = ['user_staffA', 'user_staffB']
const CUSTOMER = 'user_customer1'
const T0 = Date.parse('2026-12-01T10:00:00.000Z')

/** The database's own words for a refused statement (drizzle wraps them). */
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'not refused',
    (e: unknown) => String((e as { cause?: { message?: string } }).cause?.message ?? e),
  )

const settled: ReadonlySet<string> = new Set(SETTLED_ACCESS_STATUSES)

/** Any event anyone might try, in any order: the model decides what may happen. */
const anyEvent = fc.record({
  type: fc.constantFrom<AccessEventType>(...ACCESS_EVENT_TYPES),
  by: fc.constantFrom<string | null>(CUSTOMER, ...STAFF, 'system', null),
  approver: fc.constantFrom<string | undefined>('customer', 'staff', undefined),
  cause: fc.constantFrom<string | null>('undecided', 'window_ended', null),
  mode: fc.constantFrom('read_only', 'full'),
})

type AnyEvent = typeof anyEvent extends fc.Arbitrary<infer T> ? T : never

function toEvent(e: AnyEvent, i: number): AccessEvent {
  return {
    type: e.type,
    by: e.by,
    cause: e.cause,
    reason: 'Because the customer asked on ticket 7',
    data: {
      userId: CUSTOMER,
      mode: e.mode,
      minutes: 60,
      needsConsent: true,
      needsApproval: true,
      decideBy: new Date(T0 + 14 * 86_400_000).toISOString(),
      endsAt: new Date(T0 + 3_600_000).toISOString(),
      ...(e.approver ? { approver: e.approver } : {}),
    },
    createdAt: new Date(T0 + i * 1000),
  }
}

describe('the access state machine', () => {
  it('every request ends in at most one settled state, reached once and never left', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 40 }), (raw) => {
        let row: AccessProjection | null = null
        let settledAt: number | null = null
        raw.forEach((e, i) => {
          const next = applyAccessEvent(row, toEvent(e, i))
          if (!next) return
          if (row && settled.has(row.status)) {
            // Only a refusal is recorded on a settled request, and it changes no status.
            expect(e.type).toBe('access.refused')
            expect(next.status).toBe(row.status)
          }
          if (settled.has(next.status) && settledAt === null) settledAt = i
          row = next
        })
        const final = row as AccessProjection | null
        if (final && settled.has(final.status)) {
          expect(final.settledAt).not.toBeNull()
          expect(settledAt).not.toBeNull()
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('a grant exists only with every approval it needs (consent by the user, approval by another staff member)', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 40 }), (raw) => {
        const row = projectAccess(raw.map(toEvent))
        if (!row || row.grantedAt === null) return
        if (row.requestedBy === null) {
          // Unasked: the customer's own grant.
          expect(row.consentedBy).toBe(CUSTOMER)
          return
        }
        if (row.needsConsent) expect(row.consentedBy).toBe(CUSTOMER)
        if (row.needsApproval) {
          expect(row.approvedBy).not.toBeNull()
          expect(row.approvedBy).not.toBe(row.requestedBy)
        }
        if (row.mode === 'read_only') expect(row.grantMode).toBe('read_only')
      }),
      { numRuns: 2000 },
    )
  })

  it('an undecided request eventually settles: expiry ends any pending one, a window any grant', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 30 }), (raw) => {
        const events = raw.map(toEvent)
        const row = projectAccess(events)
        if (!row || settled.has(row.status)) return
        const cause = row.status === 'pending' ? 'undecided' : 'window_ended'
        const end = applyAccessEvent(row, {
          type: 'access.expired',
          cause,
          by: 'system',
          data: {},
          createdAt: new Date(T0 + 10 ** 9),
        })
        expect(end?.status).toBe('expired')
      }),
    )
  })

  it('a grant is live only while granted and within its window', () => {
    const until = new Date(T0 + 60_000)
    expect(liveGrant({ status: 'granted', grantEndsAt: until }, new Date(T0))).toBe(true)
    expect(liveGrant({ status: 'granted', grantEndsAt: until }, until)).toBe(false)
    expect(liveGrant({ status: 'revoked', grantEndsAt: until }, new Date(T0))).toBe(false)
  })
})

describe('the access store, in the audit chain', () => {
  let db: OpenedDatabase
  let audit: AuditStore
  let store: AccessStore
  let clock = T0

  beforeAll(async () => {
    db = await openTestDatabase()
    audit = new AuditStore(db.db, { now: () => new Date(clock) })
    store = new AccessStore(db.db, audit, () => new Date(clock))
  }, 60_000)

  afterAll(async () => {
    await db?.close()
  })

  const request = () =>
    store.create({
      type: 'access.requested',
      by: STAFF[0],
      reason: 'Customer reports a broken invoice page',
      data: {
        userId: CUSTOMER,
        mode: 'full',
        minutes: 30,
        needsConsent: true,
        needsApproval: false,
        decideBy: new Date(clock + 86_400_000).toISOString(),
      },
    })

  it('request → consent → grant → revoke: each an event of the chain; verify recomputes the row', async () => {
    const row = await request()
    expect(row.status).toBe('pending')
    clock += 1000
    const approved = await store.appendEvents(row.id, [
      { type: 'access.approved', by: CUSTOMER, data: { approver: 'customer' } },
      {
        type: 'access.granted',
        by: CUSTOMER,
        data: { mode: 'read_only', endsAt: new Date(clock + 30 * 60_000).toISOString() },
      },
    ])
    expect(approved.appended && approved.row.status).toBe('granted')
    expect(approved.appended && approved.row.grantMode).toBe('read_only')
    clock += 1000
    const revoked = await store.appendEvents(row.id, [
      { type: 'access.revoked', by: CUSTOMER, reason: 'No longer needed' },
    ])
    expect(revoked.appended && revoked.row.status).toBe('revoked')
    // A decision after the end: nothing written.
    const late = await store.appendEvents(row.id, [
      { type: 'access.approved', by: CUSTOMER, data: { approver: 'customer' } },
    ])
    expect(late.appended).toBe(false)
    const events = await audit.events(row.id)
    expect(events.map((e) => e.type)).toEqual([
      'access.requested',
      'access.approved',
      'access.granted',
      'access.revoked',
    ])
    const report = await audit.verify({ full: true })
    expect(report.firstBroken).toBeNull()
    expect(report.ok).toBe(true)
  })

  it('the projection is written only by the append; a row changed by hand breaks verify', async () => {
    const row = await request()
    expect(
      await refusal(
        db.db.execute(sql`update access_requests set status = 'granted' where id = ${row.id}`),
      ),
    ).toMatch(/projection of audit_events/)
    expect(
      await refusal(db.db.execute(sql`delete from access_requests where id = ${row.id}`)),
    ).toMatch(/append-only/)
    // An event naming a subject that does not exist is refused (the foreign key's replacement).
    expect(
      await refusal(
        audit.withChain((_tx, chain) =>
          chain.append(randomUUID(), [{ type: 'access.revoked', by: CUSTOMER }]),
        ),
      ),
    ).toMatch(/does not exist/)
    // As a table owner could: the triggers off, a row changed.
    await db.db.transaction(async (tx) => {
      await tx.execute(sql`alter table access_requests disable trigger user`)
      await tx.execute(sql`update access_requests set status = 'granted' where id = ${row.id}`)
      await tx.execute(sql`alter table access_requests enable trigger user`)
    })
    const report = await audit.verify({ full: true })
    expect(report.ok).toBe(false)
    expect(report.firstBroken?.reason).toMatch(new RegExp(`access request ${row.id}.*status`))
  })
})
