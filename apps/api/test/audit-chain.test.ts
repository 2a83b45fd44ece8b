// The audit model against a real Postgres engine (PGlite, or the server at DATABASE_URL): the
// event timeline and its derived status, the append-only trigger, the hash chain and what
// tampering it detects, signed checkpoints checked with only the public key, and the migration
// of rows written before events existed.
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  END_CAUSES,
  IMPERSONATION_EVENT_TYPES,
  TERMINAL_IMPERSONATION_STATUSES,
} from '@actas/contracts'
import { sql } from 'drizzle-orm'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  canonicalEvent,
  parseSigningKey,
  verifyChain,
  type StoredCheckpoint,
  type StoredEvent,
} from '../src/audit/chain.js'
import type { OpenedDatabase } from '../src/audit/db.js'
import { deriveStatus, isTerminal, nextStatus } from '../src/audit/lifecycle.js'
import { AuditStore } from '../src/audit/store.js'
import type { EventInput } from '../src/audit/store.js'
import { openTestDatabase } from './support/stack.js'

const SEED = Buffer.alloc(32, 7).toString('base64url')

let db: OpenedDatabase
let store: AuditStore

beforeAll(async () => {
  db = await openTestDatabase()
  store = new AuditStore(db.db, {
    now: () => new Date(),
    signer: parseSigningKey(SEED),
    checkpointEvery: 5,
  })
}, 60_000)

afterAll(async () => {
  await db?.close()
})

function attempt(overrides: Partial<Parameters<AuditStore['createImpersonation']>[0]> = {}) {
  return {
    id: randomUUID(),
    actorId: 'user_staff1',
    actorSessionId: 'sess_staff',
    actorOrganizationId: 'org_support',
    userId: 'user_cust1',
    reason: 'Checking the billing page for ticket 42',
    ticketUrl: null,
    sessionMinutes: 15,
    requestId: 'req-1',
    ip: '127.0.0.1',
    userAgent: 'vitest',
    ...overrides,
  }
}

const issued: EventInput = {
  type: 'issued',
  data: {
    clerkActorTokenId: 'act_1',
    expiresAt: '2026-11-29T10:05:00.000Z',
    sessionExpiresAt: '2026-11-29T10:20:00.000Z',
  },
}

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const result: unknown = await db.db.execute(query)
  return (result as { rows: T[] }).rows
}

/** Runs `change` with the append-only trigger off (as a table owner could), then restores it. */
async function tamper(change: () => Promise<void>): Promise<void> {
  await db.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`)
  try {
    await change()
  } finally {
    await db.db.execute(sql`alter table audit_events enable trigger audit_events_append_only`)
  }
}

describe('events and derived status', () => {
  it('keeps a timeline per impersonation and writes the status it derives', async () => {
    const a = attempt()
    const created = await store.createImpersonation(a)
    expect(created.status).toBe('pending')
    const afterIssue = await store.appendEvent(a.id, issued)
    expect(afterIssue).toMatchObject({ appended: true, status: 'issued' })
    const signedIn = await store.appendEvent(a.id, {
      type: 'signed_in',
      clerkSessionId: 'sess_imp1',
    })
    expect(signedIn.row).toMatchObject({ status: 'signed_in', clerkSessionId: 'sess_imp1' })
    const ended = await store.appendEvent(a.id, {
      type: 'ended',
      cause: 'ended_by_staff',
      by: 'user_staff2',
      reason: 'Customer asked us to stop',
    })
    expect(ended.row).toMatchObject({
      status: 'ended',
      endCause: 'ended_by_staff',
      endedBy: 'user_staff2',
      endReason: 'Customer asked us to stop',
      clerkActorTokenId: 'act_1',
    })
    const timeline = await store.events(a.id)
    expect(timeline.map((e) => e.type)).toEqual(['requested', 'issued', 'signed_in', 'ended'])
    // The requested event carries who, whom, why and the request into the chain.
    expect(JSON.parse(timeline[0]!.data)).toMatchObject({
      userId: 'user_cust1',
      sessionMinutes: 15,
      userAgent: 'vitest',
    })
    expect(timeline[0]).toMatchObject({ by: 'user_staff1', reason: a.reason })
    // Consecutive places in one chain.
    for (let i = 1; i < timeline.length; i++)
      expect(timeline[i]!.prevHash).toBe(timeline[i - 1]!.hash)
  })

  it('ignores what cannot happen now: duplicates, and anything after the end', async () => {
    const a = attempt()
    await store.createImpersonation(a)
    await store.appendEvent(a.id, issued)
    await store.appendEvent(a.id, { type: 'signed_in', clerkSessionId: 'sess_x' })
    expect(await store.appendEvent(a.id, { type: 'signed_in', clerkSessionId: 'sess_x' })).toEqual(
      expect.objectContaining({ appended: false, status: 'signed_in' }),
    )
    await store.appendEvent(a.id, { type: 'ended', cause: 'stopped_by_actor', by: 'user_staff1' })
    for (const late of [
      { type: 'ended', cause: 'expired_at_cap' },
      { type: 'ticket_revoked', by: 'user_staff2' },
      { type: 'signed_in', clerkSessionId: 'sess_y' },
    ] as EventInput[])
      expect((await store.appendEvent(a.id, late)).appended).toBe(false)
    expect((await store.get(a.id))?.endCause).toBe('stopped_by_actor')
    await expect(store.appendEvent(randomUUID(), issued)).rejects.toThrow(/No impersonation/)
  })

  it('an unused ticket that expires is `expired`, a revoked one `revoked`', async () => {
    const a = attempt()
    await store.createImpersonation(a)
    await store.appendEvent(a.id, issued)
    expect(
      (
        await store.appendEvent(a.id, {
          type: 'ended',
          cause: 'ticket_expired_unused',
          by: 'system',
        })
      ).status,
    ).toBe('expired')
    const b = attempt()
    await store.createImpersonation(b)
    await store.appendEvent(b.id, issued)
    const revoked = await store.appendEvent(b.id, { type: 'ticket_revoked', by: 'user_staff2' })
    expect(revoked.row).toMatchObject({ status: 'revoked', revokedBy: 'user_staff2' })
  })

  it('status derivation: a terminal status is reached at most once and never left', () => {
    const event = fc.record({
      type: fc.constantFrom(...IMPERSONATION_EVENT_TYPES),
      cause: fc.option(fc.constantFrom(...END_CAUSES), { nil: null }),
    })
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), (events) => {
        let status = nextStatus(null, { type: 'requested' })
        let terminalAt = -1
        events.forEach((e, i) => {
          const next = e.type === 'requested' ? null : nextStatus(status, e)
          if (status && isTerminal(status)) expect(next).toBeNull()
          if (next) {
            if (isTerminal(next)) terminalAt = i
            status = next
          }
        })
        expect(deriveStatus([{ type: 'requested' }, ...events])).toBe(status)
        if (terminalAt >= 0) expect(TERMINAL_IMPERSONATION_STATUSES).toContain(status)
      }),
      { numRuns: 2000 },
    )
  })

  it('every issued ticket reaches exactly one terminal state, whatever arrives and in what order', async () => {
    const ending = fc.oneof(
      fc.record({
        type: fc.constant<'signed_in'>('signed_in'),
        clerkSessionId: fc.constant('sess_p'),
      }),
      fc.record({
        type: fc.constant<'ticket_revoked'>('ticket_revoked'),
        by: fc.constant('user_s'),
      }),
      fc.record({ type: fc.constant<'failed'>('failed') }),
      fc.record({ type: fc.constant<'ended'>('ended'), cause: fc.constantFrom(...END_CAUSES) }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(ending, { maxLength: 6 }),
        fc.constantFrom(...END_CAUSES.filter((c) => c !== 'ticket_expired_unused')),
        async (events, finalCause) => {
          const a = attempt()
          await store.createImpersonation(a)
          await store.appendEvent(a.id, issued)
          // Whatever came first (duplicates, late webhooks), the backstop ends it for good.
          for (const e of events) await store.appendEvent(a.id, e)
          await store.appendEvent(a.id, { type: 'ended', cause: finalCause, by: 'system' })
          const row = await store.get(a.id)
          expect(TERMINAL_IMPERSONATION_STATUSES).toContain(row!.status)
          const types = (await store.events(a.id)).map((e) => e.type)
          const terminal = types.filter((t) => ['failed', 'ticket_revoked', 'ended'].includes(t))
          expect(terminal).toHaveLength(1)
          expect(deriveStatus((await store.events(a.id)).map(asLifecycle))).toBe(row!.status)
        },
      ),
      { numRuns: 25 },
    )
  }, 120_000)
})

const asLifecycle = (e: { type: string; cause: string | null }) =>
  ({ type: e.type, cause: e.cause }) as Parameters<typeof nextStatus>[1]

/** The database's own message for a refused statement (drizzle wraps it). */
async function refusal(statement: ReturnType<typeof sql>): Promise<string> {
  try {
    await db.db.execute(statement)
  } catch (error) {
    const e = error as Error & { cause?: Error }
    return e.cause?.message ?? e.message
  }
  return 'accepted'
}

describe('append-only', () => {
  it('the database refuses to update, delete or truncate events', async () => {
    expect(await refusal(sql`update audit_events set reason = 'x'`)).toMatch(
      /append-only: UPDATE on audit_events refused/,
    )
    expect(await refusal(sql`delete from audit_events`)).toMatch(/append-only: DELETE/)
    expect(await refusal(sql`truncate audit_events cascade`)).toMatch(/append-only: TRUNCATE/)
    expect(await refusal(sql`delete from impersonations`)).toMatch(/append-only/)
    expect(await refusal(sql`update audit_checkpoints set hash = 'x'`)).toMatch(/append-only/)
    expect((await store.verify()).ok).toBe(true)
  })
})

describe('hash chain', () => {
  it("the SQL canonical form (migration 0002) is chain.ts's, for any stored text", async () => {
    // Whatever the store keeps: well-formed text without NUL (the cleaner's guarantee).
    const text = fc
      .string({ unit: 'grapheme', maxLength: 40 })
      .map((s) => s.replaceAll('\u0000', ''))
    const ctrl = fc.string({
      unit: fc.integer({ min: 1, max: 0x9f }).map((c) => String.fromCharCode(c)),
      maxLength: 10,
    })
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.uuid(),
        fc.oneof(text, ctrl),
        fc.option(fc.oneof(text, ctrl), { nil: null }),
        fc.option(text, { nil: null }),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }),
        async (seq, id, type, cause, reason, at) => {
          const e = {
            seq,
            impersonationId: id,
            type,
            cause,
            by: reason,
            reason: cause,
            clerkSessionId: null,
            data: JSON.stringify({ message: type }),
            createdAt: at,
          }
          const [row] = await rows<{ c: string }>(
            sql`select actas_audit_canonical(${seq}, ${id}::uuid, ${type}, ${cause}, ${reason}, ${cause}, null, ${e.data}, ${at.toISOString()}::timestamptz) as c`,
          )
          expect(row!.c).toBe(canonicalEvent(e))
        },
      ),
      { numRuns: 300 },
    )
  }, 120_000)

  it('verifies, and finds one changed byte in any column of any event', async () => {
    expect((await store.verify({ full: true })).ok).toBe(true)
    const columns = [
      'type',
      'cause',
      'by',
      'reason',
      'clerk_session_id',
      'data',
      'prev_hash',
      'hash',
    ]
    const { seq: last } = await store.head()
    for (const column of columns) {
      const seq = 1 + Math.floor(Math.random() * last)
      const [before] = await rows<{ v: string | null }>(
        sql`select ${sql.identifier(column)}::text as v from audit_events where seq = ${seq}`,
      )
      const old = before!.v
      // One byte: flip the last character (or give an empty column one character).
      const changed = old ? old.slice(0, -1) + (old.endsWith('a') ? 'b' : 'a') : 'a'
      await tamper(() =>
        db.db
          .execute(
            sql`update audit_events set ${sql.identifier(column)} = ${changed} where seq = ${seq}`,
          )
          .then(() => undefined),
      )
      const report = await store.verify({ full: true })
      expect(report.ok, column).toBe(false)
      expect(report.firstBroken?.seq, column).toBe(seq)
      await tamper(() =>
        db.db
          .execute(
            sql`update audit_events set ${sql.identifier(column)} = ${old} where seq = ${seq}`,
          )
          .then(() => undefined),
      )
      expect((await store.verify({ full: true })).ok, `${column} restored`).toBe(true)
    }
    // The instant too (a millisecond later).
    await tamper(() =>
      db.db
        .execute(
          sql`update audit_events set created_at = created_at + interval '1 millisecond' where seq = 2`,
        )
        .then(() => undefined),
    )
    expect((await store.verify({ full: true })).firstBroken?.seq).toBe(2)
    await tamper(() =>
      db.db
        .execute(
          sql`update audit_events set created_at = created_at - interval '1 millisecond' where seq = 2`,
        )
        .then(() => undefined),
    )
    expect((await store.verify({ full: true })).ok).toBe(true)
  }, 120_000)

  it('finds a deleted event (in the middle, or the last one) and two events swapped', async () => {
    const { seq: last } = await store.head()
    const saved = await rows<Record<string, unknown>>(
      sql`select * from audit_events where seq in (3, 4, ${last}) order by seq`,
    )
    const restore = () =>
      tamper(async () => {
        await db.db.execute(sql`delete from audit_events where seq in (3, 4, ${last})`)
        for (const r of saved)
          await db.db.execute(
            sql`insert into audit_events select * from json_populate_record(null::audit_events, ${JSON.stringify(r)}::json)`,
          )
      })

    await tamper(() =>
      db.db.execute(sql`delete from audit_events where seq = 3`).then(() => undefined),
    )
    expect((await store.verify({ full: true })).firstBroken).toEqual({
      seq: 3,
      reason: 'event 3 is missing (the next stored event is 4)',
    })
    await restore()
    expect((await store.verify({ full: true })).ok).toBe(true)

    await tamper(() =>
      db.db.execute(sql`delete from audit_events where seq = ${last}`).then(() => undefined),
    )
    expect((await store.verify({ full: true })).firstBroken?.seq).toBe(last)
    await restore()

    // Swap the places of events 3 and 4 (their seq), keeping everything else.
    await tamper(async () => {
      await db.db.execute(sql`update audit_events set seq = -3 where seq = 3`)
      await db.db.execute(sql`update audit_events set seq = 3 where seq = 4`)
      await db.db.execute(sql`update audit_events set seq = 4 where seq = -3`)
    })
    expect((await store.verify({ full: true })).firstBroken?.seq).toBe(3)
    await restore()
    expect((await store.verify({ full: true })).ok).toBe(true)
  }, 120_000)

  it('signed checkpoints: an export verifies with only the public key; a rewritten chain does not', async () => {
    // One more event, written by a store that signs only on time, so the head has moved past
    // the last checkpoint; then the time-based one (forced) signs exactly the head.
    const timed = new AuditStore(db.db, {
      now: () => new Date(),
      signer: parseSigningKey(SEED),
      checkpointEvery: 1_000_000,
    })
    await timed.createImpersonation(attempt())
    expect(await timed.checkpointIfDue(true)).toBe((await store.head()).seq)
    expect(await store.checkpointIfDue(true)).toBeNull()
    const checkpoints = await store.checkpoints()
    expect(checkpoints.length).toBeGreaterThanOrEqual(2)

    // The export: events and checkpoints as JSON, and the public key's PEM. Nothing else.
    const events: StoredEvent[] = []
    for await (const page of store.eventPages(7)) events.push(...page)
    const exported = JSON.parse(JSON.stringify({ events, checkpoints })) as {
      events: Array<StoredEvent & { createdAt: string }>
      checkpoints: Array<StoredCheckpoint & { signedAt: string }>
    }
    const publicKeyPem = store.publicKeyPem!
    const { createPublicKey } = await import('node:crypto')
    const publicKey = createPublicKey(publicKeyPem)
    const load = (list: typeof exported.events) =>
      (async function* () {
        yield list.map((e) => ({ ...e, createdAt: new Date(e.createdAt) }))
      })()
    const cps = exported.checkpoints.map((c) => ({ ...c, signedAt: new Date(c.signedAt) }))
    const good = await verifyChain(load(exported.events), { checkpoints: cps, publicKey })
    expect(good).toMatchObject({ ok: true, checkpoints: { verified: cps.length } })

    // Another key does not vouch for it.
    const other = generateKeyPairSync('ed25519').publicKey
    expect(
      (await verifyChain(load(exported.events), { checkpoints: cps, publicKey: other })).ok,
    ).toBe(false)

    // Someone who rewrites an early event and recomputes every hash after it gets a chain that
    // links, but not the one the checkpoints signed.
    const { eventHash } = await import('../src/audit/chain.js')
    const rewritten = exported.events.map((e) => ({ ...e, createdAt: new Date(e.createdAt) }))
    rewritten[1] = { ...rewritten[1]!, reason: 'nothing to see here' }
    for (let i = 1; i < rewritten.length; i++) {
      const prevHash = rewritten[i - 1]!.hash
      rewritten[i] = { ...rewritten[i]!, prevHash, hash: eventHash(prevHash, rewritten[i]!) }
    }
    const forged = await verifyChain(
      (async function* () {
        yield rewritten
      })(),
      { checkpoints: cps, publicKey },
    )
    expect(forged.ok).toBe(false)
    expect(forged.firstBroken?.reason).toMatch(/not the one the signed checkpoint names/)

    // Cutting the tail off (events and head) is caught by a checkpoint past the end.
    const cut = await verifyChain(load(exported.events.slice(0, cps[0]!.seq - 1)), {
      checkpoints: cps,
      publicKey,
    })
    expect(cut.firstBroken?.reason).toMatch(/past the chain's end/)
  })
})

describe('migration 0002', () => {
  it('turns rows written before events into timelines, chained, with their status kept', async () => {
    // PGlite in either run: the migration's SQL is the same on a server, and this test needs a
    // database that starts from the old schema.
    const { PGlite } = await import('@electric-sql/pglite')
    const { drizzle } = await import('drizzle-orm/pglite')
    const { migrate } = await import('drizzle-orm/pglite/migrator')
    const folder = fileURLToPath(new URL('../drizzle', import.meta.url))
    const old = mkdtempSync(join(tmpdir(), 'actas-migrations-'))
    try {
      cpSync(folder, old, { recursive: true })
      const journal = JSON.parse(readFileSync(join(old, 'meta/_journal.json'), 'utf8')) as {
        entries: Array<{ idx: number }>
      }
      journal.entries = journal.entries.filter((e) => e.idx < 2)
      writeFileSync(join(old, 'meta/_journal.json'), JSON.stringify(journal))
      const client = await PGlite.create()
      const legacy = drizzle({ client })
      await migrate(legacy, { migrationsFolder: old })
      const t0 = '2026-11-01T09:00:00.000Z'
      const t1 = '2026-11-01T09:00:01.250Z'
      await client.exec(`
        insert into impersonations (id, actor_id, actor_email, user_id, user_email, reason, session_minutes, status,
          outcome_code, outcome_message, clerk_actor_token_id, expires_at, session_expires_at, revoked_by,
          request_id, ip, user_agent, created_at, updated_at) values
        ('00000000-0000-4000-8000-000000000001', 'user_a', 'a@x.test', 'user_c', 'c@x.test', 'Issued "quoted"\nreason', 30, 'issued',
          null, null, 'act_1', '${t1}', '2026-11-01T09:35:01.250Z', null, 'r1', '127.0.0.1', 'UA 1', '${t0}', '${t1}'),
        ('00000000-0000-4000-8000-000000000002', 'user_a', null, 'user_d', null, 'Denied one', 10, 'denied',
          'POLICY_DENIED', 'This user is banned.', null, null, null, null, 'r2', null, null, '${t0}', '${t1}'),
        ('00000000-0000-4000-8000-000000000003', 'user_a', null, 'user_e', null, 'Revoked one', 5, 'revoked',
          null, null, 'act_3', '${t1}', '${t1}', 'user_b', 'r3', null, null, '2026-11-02T09:00:00Z', '2026-11-02T09:01:00Z'),
        ('00000000-0000-4000-8000-000000000004', 'user_a', null, 'user_f', null, 'Pending one', 5, 'pending',
          null, null, null, null, null, null, null, null, null, '2026-11-03T09:00:00Z', '2026-11-03T09:00:00Z')`)
      await migrate(legacy, { migrationsFolder: folder })
      const migrated = new AuditStore(legacy as never, () => new Date())
      const report = await migrated.verify()
      expect(report).toMatchObject({ ok: true, events: 8, head: { seq: 8 } })
      const types = async (n: number) =>
        (await migrated.events(`00000000-0000-4000-8000-00000000000${n}`)).map((e) => e.type)
      expect(await types(1)).toEqual(['requested', 'issued'])
      expect(await types(2)).toEqual(['requested', 'denied'])
      expect(await types(3)).toEqual(['requested', 'issued', 'ticket_revoked'])
      expect(await types(4)).toEqual(['requested'])
      const revoked = await migrated.events('00000000-0000-4000-8000-000000000003')
      expect(revoked[2]).toMatchObject({ by: 'user_b' })
      const denied = await migrated.events('00000000-0000-4000-8000-000000000002')
      expect(JSON.parse(denied[1]!.data)).toEqual({
        code: 'POLICY_DENIED',
        message: 'This user is banned.',
      })
      // Old rows count against the quota as before, and new events chain on.
      expect(await migrated.countIssuedSince(new Date('2026-11-01T00:00:00Z'))).toBe(2)
      await migrated.appendEvent('00000000-0000-4000-8000-000000000001', {
        type: 'signed_in',
        clerkSessionId: 'sess_1',
      })
      expect(await migrated.verify({ full: true })).toMatchObject({ ok: true, events: 9 })
      await client.close()
    } finally {
      rmSync(old, { recursive: true, force: true })
    }
  }, 60_000)
})
