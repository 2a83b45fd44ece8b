// The record is the chain (issue 19, items 7–9), against a real Postgres engine (PGlite, or the
// server at DATABASE_URL): the impersonations row is a projection only the event append writes,
// `verify` recomputes it from the events and names a row that disagrees, checkpoints are expected
// at their cadence, the incremental walk starts at the last signed checkpoint while the full walk
// starts at the first event, and retention prunes the tables outside the chain, never the chain.
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BILLED_IMPERSONATION_STATUSES,
  END_CAUSES,
  IMPERSONATION_EVENT_TYPES,
  OPEN_IMPERSONATION_STATUSES,
  SETTLED_IMPERSONATION_STATUSES,
  SETTLING_EVENT_TYPES,
  TERMINAL_IMPERSONATION_STATUSES,
} from '@actas/contracts'
import type { ImpersonationStatus } from '@actas/contracts'
import { parseSigningKey } from '../src/audit/chain.js'
import type { OpenedDatabase } from '../src/audit/db.js'
import { decodeCursor, InvalidCursorError } from '../src/audit/keyset.js'
import { nextStatus } from '../src/audit/lifecycle.js'
import { AuditStore } from '../src/audit/store.js'
import { openTestDatabase } from './support/stack.js'

const SEED = Buffer.alloc(32, 11).toString('base64url')

let db: OpenedDatabase
/** The stores' clock, moved by hand. */
let clock = Date.parse('2026-12-01T09:00:00.000Z')
const now = () => new Date(clock)

const store = (options: { checkpointEvery?: number; signed?: boolean } = {}) =>
  new AuditStore(db.db, {
    now,
    signer: options.signed === false ? null : parseSigningKey(SEED),
    checkpointEvery: options.checkpointEvery ?? 5,
    checkpointMinutes: 10,
  })

async function started(audit: AuditStore, reason = 'Checking the invoice page, ticket 19') {
  const id = randomUUID()
  await audit.createImpersonation({
    id,
    actorId: 'user_staff1',
    actorSessionId: 'sess_staff',
    actorOrganizationId: 'org_support',
    userId: 'user_cust1',
    reason,
    ticketUrl: 'https://support.example.com/t/19',
    sessionMinutes: 15,
    mode: 'read_only',
    requestId: 'req-19',
    ip: '127.0.0.1',
    userAgent: 'vitest',
  })
  await audit.appendEvent(id, {
    type: 'issued',
    data: { clerkActorTokenId: `act_${id.slice(0, 8)}`, mode: 'read_only' },
  })
  return id
}

/** The database's own message when `work` (a statement, a transaction) is refused. */
const refusal = (work: Promise<unknown>) =>
  work.then(
    () => 'accepted',
    (error: Error & { cause?: Error }) => error.cause?.message ?? error.message,
  )

async function withTriggersOff(table: string, change: () => Promise<unknown>) {
  await db.db.execute(sql.raw(`alter table ${table} disable trigger user`))
  try {
    await change()
  } finally {
    await db.db.execute(sql.raw(`alter table ${table} enable trigger user`))
  }
}

beforeAll(async () => {
  db = await openTestDatabase()
}, 60_000)

afterAll(async () => {
  await db?.close()
})

describe('the impersonations row is a projection only the event append writes', () => {
  it('refuses a raw edit; verify names the row edited with the triggers off', async () => {
    const audit = store()
    const id = await started(audit)
    await audit.appendEvent(id, { type: 'signed_in', clerkSessionId: 'sess_imp1' })
    await audit.appendEvent(id, {
      type: 'ended',
      cause: 'ended_by_staff',
      by: 'user_staff2',
      reason: 'Kill switch',
      clerkSessionId: 'sess_imp1',
    })
    const edit = sql`update impersonations set actor_id = 'user_mallory', reason = 'Routine', ended_by = 'system' where id = ${id}`
    expect(await refusal(db.db.execute(edit))).toMatch(/projection of audit_events: UPDATE refused/)
    expect(
      await refusal(
        db.db.execute(
          sql`insert into impersonations select * from impersonations where id = ${id}`,
        ),
      ),
    ).toMatch(/projection of audit_events: INSERT refused/)
    // Even inside a transaction marked as the append's, a row must say what its events say.
    const marked = await refusal(
      db.db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('actas.audit_append', 'on', true)`)
        await tx.execute(
          sql`update impersonations set ended_by = 'system', end_reason = null where id = ${id}`,
        )
      }),
    )
    expect(marked).toMatch(/the row disagrees with its events/)
    expect(await audit.get(id)).toMatchObject({
      actorId: 'user_staff1',
      reason: 'Checking the invoice page, ticket 19',
      endedBy: 'user_staff2',
    })
    expect((await audit.verify({ full: true })).ok).toBe(true)

    await withTriggersOff('impersonations', () => db.db.execute(edit))
    const report = await audit.verify({ full: true })
    expect(report.ok).toBe(false)
    expect(report.firstBroken?.reason).toBe(
      `the impersonations row ${id} disagrees with its events (actor_id, reason, ended_by): it was changed outside the event append`,
    )
    await withTriggersOff('impersonations', () =>
      db.db.execute(
        sql`update impersonations set actor_id = 'user_staff1', reason = 'Checking the invoice page, ticket 19', ended_by = 'user_staff2' where id = ${id}`,
      ),
    )
    expect((await audit.verify({ full: true })).ok).toBe(true)
  })

  it('carries every immutable fact in the requested event, and the row is what the events say', async () => {
    const audit = store()
    const id = await started(audit)
    const [requested] = await audit.events(id)
    expect(requested).toMatchObject({ type: 'requested', by: 'user_staff1' })
    expect(requested!.reason).toBe('Checking the invoice page, ticket 19')
    expect(JSON.parse(requested!.data)).toMatchObject({
      userId: 'user_cust1',
      sessionMinutes: 15,
      defaultMode: 'read_only',
      ticketUrl: 'https://support.example.com/t/19',
      actorSessionId: 'sess_staff',
      actorOrganizationId: 'org_support',
      requestId: 'req-19',
      ip: '127.0.0.1',
      userAgent: 'vitest',
    })
    expect(await audit.get(id)).toMatchObject({
      mode: 'read_only',
      status: 'issued',
      sessionMinutes: 15,
      ticketUrl: 'https://support.example.com/t/19',
    })
  })
})

describe('checkpoints at their cadence', () => {
  it('a chain whose signed checkpoints stop early (by count) fails verify', async () => {
    const audit = store({ checkpointEvery: 5 })
    for (let i = 0; i < 4; i++) await started(audit)
    expect((await audit.verify({ full: true })).ok).toBe(true)
    // Events appended past the last checkpoint by someone without the key.
    const unsigned = store({ signed: false })
    for (let i = 0; i < 4; i++) await started(unsigned)
    const report = await audit.verify({ full: true })
    expect(report.ok).toBe(false)
    expect(report.firstBroken?.reason).toMatch(
      /^the signed checkpoints stop at event \d+, \d+ events before the head \(\d+\); one is due every 5 events$/,
    )
    // Signed again (the time-based checkpoint), the chain verifies.
    expect(await audit.checkpointIfDue(true)).not.toBeNull()
    expect((await audit.verify({ full: true })).ok).toBe(true)
  })

  it('and by time: events going on for long after a checkpoint was due', async () => {
    const audit = store({ checkpointEvery: 1_000_000 })
    await started(audit)
    clock += 60_000
    await started(audit)
    expect((await audit.verify({ full: true })).ok).toBe(true)
    // Half an hour of events, and no time-based checkpoint (its timer stopped).
    for (let i = 0; i < 3; i++) {
      clock += 10 * 60_000
      await started(audit)
    }
    const report = await audit.verify({ full: true })
    expect(report.ok).toBe(false)
    expect(report.firstBroken?.reason).toMatch(
      /^the signed checkpoints stop at event \d+: one was due by .+, and events went on until .+ without one$/,
    )
    expect(await audit.checkpointIfDue()).not.toBeNull()
    expect((await audit.verify({ full: true })).ok).toBe(true)
  })
})

describe('verify: incremental by default, full on request', () => {
  it('starts at the last signed checkpoint; only the full walk sees an edit before it', async () => {
    const audit = store({ checkpointEvery: 5 })
    for (let i = 0; i < 6; i++) await started(audit)
    await audit.checkpointIfDue(true)
    const head = await audit.head()
    const full = await audit.verify({ full: true })
    expect(full).toMatchObject({ ok: true, full: true, from: 0, events: head.seq })
    const fresh = store({ checkpointEvery: 5 })
    // A fresh instance (nothing verified yet): from the last checkpoint, which signs the head.
    expect(await fresh.verify()).toMatchObject({ ok: true, full: false, from: head.seq, events: 0 })
    await started(audit)
    const incremental = await fresh.verify()
    expect(incremental).toMatchObject({ ok: true, full: false, from: head.seq, events: 2, rows: 1 })

    // An event after the last checkpoint changed: both walks see it.
    const after = (await audit.head()).seq
    await withTriggersOff('audit_events', () =>
      db.db.execute(sql`update audit_events set reason = 'changed' where seq = ${after}`),
    )
    expect((await store().verify()).firstBroken?.seq).toBe(after)
    expect((await store().verify({ full: true })).firstBroken?.seq).toBe(after)
    await withTriggersOff('audit_events', () =>
      db.db.execute(sql`update audit_events set reason = null where seq = ${after}`),
    )
    expect((await store().verify()).ok).toBe(true)

    // An event long before it: the incremental walk trusts the signed checkpoint, the full one
    // (the CLI, staff's `full: true`) finds it.
    await withTriggersOff('audit_events', () =>
      db.db.execute(sql`update audit_events set by = 'user_mallory' where seq = 2`),
    )
    expect((await store().verify()).ok).toBe(true)
    expect((await store().verify({ full: true })).firstBroken?.seq).toBe(2)
    await withTriggersOff('audit_events', () =>
      db.db.execute(sql`update audit_events set by = null where seq = 2`),
    )
    expect((await store().verify({ full: true })).ok).toBe(true)
  })
})

describe('retention', () => {
  it('prunes delivered outbox rows, delivery de-duplication and audit reads past the window, never the chain', async () => {
    const audit = store()
    const id = await started(audit)
    const day = 86_400_000
    const old = new Date(clock - 100 * day)
    const recent = new Date(clock - 10 * day)
    const { seq } = await audit.head()
    for (const [i, at, status] of [
      [1, old, 'delivered'],
      [2, recent, 'delivered'],
      [3, old, 'dead'],
      [4, old, 'pending'],
    ] as const) {
      await db.db.execute(sql`insert into webhook_outbox (id, message_id, endpoint, type,
        impersonation_id, event_seq, body, status, attempts, created_at, updated_at, delivered_at)
        values (${randomUUID()}, ${`msg_${i}`}, 'https://host.test/hook', 'impersonation.issued',
        ${id}, ${seq}, '{}', ${status}, 1, ${at.toISOString()}, ${at.toISOString()},
        ${status === 'delivered' ? at.toISOString() : null})`)
    }
    for (const [svix, at] of [
      ['msg_old', old],
      ['msg_recent', recent],
    ] as const)
      await db.db.execute(
        sql`insert into webhook_deliveries (svix_id, type, received_at) values (${svix}, 'user.updated', ${at.toISOString()})`,
      )
    for (const at of [old, recent]) {
      clock = at.getTime()
      await audit.insertAuditRead({
        id: randomUUID(),
        machineId: 'mch_retention',
        tokenId: null,
        procedure: 'impersonation.list',
        params: {},
        rowCount: 1,
        requestId: null,
        ip: null,
        userAgent: null,
      })
    }
    clock = recent.getTime() + 10 * day
    // Outside retention, audit reads stay append-only.
    expect(await refusal(db.db.execute(sql`delete from audit_reads`))).toMatch(
      /append-only: DELETE/,
    )
    const events = (await audit.head()).seq

    const report = await audit.prune(90)
    expect(report).toMatchObject({ outbox: 1, deliveries: 1, auditReads: 1 })
    const left = async (table: string) => {
      const result: unknown = await db.db.execute(
        sql.raw(`select count(*)::int as n from ${table}`),
      )
      return (result as { rows: Array<{ n: number }> }).rows[0]!.n
    }
    // The recent delivered row, and the dead and pending ones (not delivered) are kept.
    expect(await left('webhook_outbox')).toBe(3)
    expect(await left('webhook_deliveries')).toBe(1)
    expect(await audit.listAuditReads('mch_retention')).toHaveLength(1)
    // The chain: every event, and it still verifies.
    expect(await left('audit_events')).toBe(events)
    expect((await audit.verify({ full: true })).ok).toBe(true)
    expect(await audit.prune(90)).toMatchObject({ outbox: 0, deliveries: 0, auditReads: 0 })
  })
})

describe('cursors', () => {
  it('a cursor outside the years Postgres stores is refused, not passed to the query', () => {
    const forged = (createdAt: string) =>
      Buffer.from(JSON.stringify([createdAt, randomUUID()])).toString('base64url')
    expect(() => decodeCursor(forged('0000-01-01T00:00:00.000Z'), 'impersonation.list')).toThrow(
      InvalidCursorError,
    )
    expect(decodeCursor(forged('0001-01-01T00:00:00.000Z'), 'impersonation.list').createdAt).toBe(
      '0001-01-01T00:00:00.000Z',
    )
  })
})

describe('the status sets (contracts) say what the lifecycle does', () => {
  /** Every (status, event) step the lifecycle allows, from `requested` on. */
  function steps() {
    const out: Array<{ from: ImpersonationStatus; type: string; to: ImpersonationStatus }> = []
    const seen = new Set<ImpersonationStatus>(['pending'])
    const queue: ImpersonationStatus[] = ['pending']
    while (queue.length > 0) {
      const from = queue.shift()!
      for (const type of IMPERSONATION_EVENT_TYPES)
        for (const cause of [null, ...END_CAUSES]) {
          const to = nextStatus(from, { type, cause })
          if (!to) continue
          out.push({ from, type, to })
          if (!seen.has(to)) {
            seen.add(to)
            queue.push(to)
          }
        }
    }
    return out
  }
  const sorted = (list: readonly string[]) => [...new Set(list)].sort()

  it('open statuses are left by some event, terminal ones by none', () => {
    const left = steps().map((s) => s.from)
    expect(sorted(left)).toEqual(sorted(OPEN_IMPERSONATION_STATUSES))
    for (const s of TERMINAL_IMPERSONATION_STATUSES) expect(left).not.toContain(s)
  })

  it('settled statuses are what settling events lead to; billed ones only follow `issued`', () => {
    const all = steps()
    expect(
      sorted(
        all
          .filter((s) => (SETTLING_EVENT_TYPES as readonly string[]).includes(s.type))
          .map((s) => s.to),
      ),
    ).toEqual(sorted(SETTLED_IMPERSONATION_STATUSES))
    // Reached from `issued` or from a billed status, never from `pending` but by `issued`.
    const billed = new Set<string>(BILLED_IMPERSONATION_STATUSES)
    for (const { from, type, to } of all) {
      if (billed.has(to) && from === 'pending') expect(type).toBe('issued')
      if (billed.has(from)) expect(billed.has(to) || to === 'failed').toBe(true)
    }
    expect(billed.has('issued')).toBe(true)
  })
})
