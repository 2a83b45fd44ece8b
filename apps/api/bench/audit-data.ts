// A synthetic audit log of any size, valid chain included, for the audit bench and the query
// plan test: impersonations spread over `months` up to `now`, by `actors` staff members on
// `users` customers, with the mix of outcomes a busy support team would leave. Deterministic
// (seeded PRNG). Written in multi-row inserts straight to the tables, then the chain head: a bulk
// load as the tables' owner would restore one, with the projection triggers (migration 0008) off
// meanwhile; each row is what its events project to (projection.ts), so `verify` holds.
import { randomUUID } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { canonicalData, eventHash } from '../src/audit/chain.js'
import { projectTimeline } from '../src/audit/projection.js'
import type { ProjectedEvent } from '../src/audit/projection.js'
import type { AuditDatabase } from '../src/audit/db.js'
import { auditChainHead } from '../src/audit/schema.js'
import type { NewImpersonationRow, auditEvents } from '../src/audit/schema.js'

export interface SeedOptions {
  /** Events to write (about 3.3 per impersonation). */
  events: number
  actors?: number
  users?: number
  months?: number
  now?: Date
  seed?: number
  /** Called after each batch with the events written so far. */
  progress?: (events: number) => void
}

export interface SeedSummary {
  impersonations: number
  events: number
  /** An actor and a user with a typical number of rows, for filtered reads. */
  actorId: string
  userId: string
  impersonationId: string
}

function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Outcome = 'ended' | 'expired' | 'revoked' | 'issued' | 'signed_in' | 'denied' | 'failed'
const MIX: Array<[Outcome, number]> = [
  ['ended', 0.6],
  ['denied', 0.15],
  ['expired', 0.09],
  ['revoked', 0.05],
  ['failed', 0.05],
  ['issued', 0.03],
  ['signed_in', 0.03],
]
const CAUSES = ['stopped_by_actor', 'expired_at_cap', 'ended_by_staff', 'signed_out'] as const

export async function seedAuditLog(db: AuditDatabase, o: SeedOptions): Promise<SeedSummary> {
  const random = mulberry32(o.seed ?? 1)
  const actors = o.actors ?? 50
  const users = o.users ?? 20_000
  const end = (o.now ?? new Date()).getTime() - 60 * 60_000
  const span = (o.months ?? 12) * 30 * 24 * 3600_000
  const [head] = await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1))
  if (!head) throw new Error('no chain head: migrate first')
  let seq = head.seq
  let prevHash = head.hash
  const estimate = Math.ceil(o.events / 3.3)
  const step = span / estimate
  let t = end - span
  let written = 0
  let count = 0
  let sample = ''

  const rows: NewImpersonationRow[] = []
  const events: Array<typeof auditEvents.$inferInsert> = []
  // `insert … select * from unnest($1::type[], …)`: one statement and one array per column,
  // far cheaper to build and parse than multi-row VALUES.
  const client = (
    db as unknown as { $client: { query(t: string, p: unknown[]): Promise<unknown> } }
  ).$client
  const bulk = async <T>(
    table: string,
    columns: Array<[string, string, (r: T) => unknown]>,
    list: T[],
  ) => {
    if (list.length === 0) return
    await client.query(
      `insert into ${table} (${columns.map(([c]) => `"${c}"`).join(', ')}) select * from unnest(${columns
        .map(([, type], i) => `$${i + 1}::${type}[]`)
        .join(', ')})`,
      columns.map(([, , get]) => list.map(get)),
    )
  }
  const iso = (d: Date | null | undefined) => d?.toISOString() ?? null
  const flush = async () => {
    await bulk<NewImpersonationRow>(
      'impersonations',
      [
        ['id', 'uuid', (r) => r.id],
        ['actor_id', 'text', (r) => r.actorId],
        ['user_id', 'text', (r) => r.userId],
        ['reason', 'text', (r) => r.reason],
        ['session_minutes', 'int', (r) => r.sessionMinutes],
        ['status', 'text', (r) => r.status],
        ['outcome_code', 'text', (r) => r.outcomeCode ?? null],
        ['outcome_message', 'text', (r) => r.outcomeMessage ?? null],
        ['clerk_actor_token_id', 'text', (r) => r.clerkActorTokenId ?? null],
        ['expires_at', 'timestamptz', (r) => iso(r.expiresAt)],
        ['session_expires_at', 'timestamptz', (r) => iso(r.sessionExpiresAt)],
        ['revoked_by', 'text', (r) => r.revokedBy ?? null],
        ['clerk_session_id', 'text', (r) => r.clerkSessionId ?? null],
        ['signed_in_at', 'timestamptz', (r) => iso(r.signedInAt)],
        ['ended_at', 'timestamptz', (r) => iso(r.endedAt)],
        ['end_cause', 'text', (r) => r.endCause ?? null],
        ['ended_by', 'text', (r) => r.endedBy ?? null],
        ['request_id', 'text', (r) => r.requestId ?? null],
        ['ip', 'text', (r) => r.ip ?? null],
        ['user_agent', 'text', (r) => r.userAgent ?? null],
        ['created_at', 'timestamptz', (r) => iso(r.createdAt)],
        ['updated_at', 'timestamptz', (r) => iso(r.updatedAt)],
      ],
      rows,
    )
    await bulk<typeof auditEvents.$inferInsert>(
      'audit_events',
      [
        ['seq', 'bigint', (e) => e.seq],
        ['impersonation_id', 'uuid', (e) => e.impersonationId],
        ['type', 'text', (e) => e.type],
        ['cause', 'text', (e) => e.cause ?? null],
        ['by', 'text', (e) => e.by ?? null],
        ['reason', 'text', (e) => e.reason ?? null],
        ['clerk_session_id', 'text', (e) => e.clerkSessionId ?? null],
        ['data', 'text', (e) => e.data],
        ['created_at', 'timestamptz', (e) => iso(e.createdAt)],
        ['prev_hash', 'text', (e) => e.prevHash],
        ['hash', 'text', (e) => e.hash],
      ],
      events,
    )
    written += events.length
    rows.length = 0
    events.length = 0
    o.progress?.(written)
  }

  const triggers = 'impersonations_projection_only, impersonations_match_events'
  const switchTriggers = async (on: boolean) => {
    for (const t of triggers.split(', '))
      await db.execute(
        sql.raw(`alter table impersonations ${on ? 'enable' : 'disable'} trigger ${t}`),
      )
  }
  await switchTriggers(false)
  try {
    while (seq - head.seq < o.events) {
      t += step * (0.5 + random())
      const created = new Date(Math.floor(t))
      const id = randomUUID()
      const actorId = `user_staff${Math.floor(random() * actors)}`
      const userId = `user_cust${Math.floor(random() * users)}`
      let r = random()
      let outcome: Outcome = 'ended'
      for (const [name, share] of MIX) {
        if (r < share) {
          outcome = name
          break
        }
        r -= share
      }
      const minutes = 5 + Math.floor(random() * 26)
      const reason = `Support ticket ${Math.floor(random() * 100_000)}: checking the account`
      const timeline: Array<{
        type: string
        cause?: string
        by?: string
        clerkSessionId?: string
        data?: Record<string, string | number | null>
        at: Date
      }> = [
        {
          type: 'requested',
          by: actorId,
          data: {
            userId,
            sessionMinutes: minutes,
            requestId: `req-${count}`,
            ip: '10.0.0.1',
            userAgent: 'Mozilla/5.0 (bench)',
          },
          at: created,
        },
      ]
      const later = (ms: number) => new Date(created.getTime() + ms)
      const row: NewImpersonationRow = {
        id,
        actorId,
        userId,
        reason,
        sessionMinutes: minutes,
        status: outcome,
        requestId: `req-${count}`,
        ip: '10.0.0.1',
        userAgent: 'Mozilla/5.0 (bench)',
        createdAt: created,
        updatedAt: created,
      }
      if (outcome === 'denied' || outcome === 'failed') {
        timeline.push({
          type: outcome,
          data: {
            code: outcome === 'denied' ? 'POLICY_DENIED' : 'SERVICE_UNAVAILABLE',
            message: 'x',
          },
          at: later(300),
        })
        row.outcomeCode = outcome === 'denied' ? 'POLICY_DENIED' : 'SERVICE_UNAVAILABLE'
        row.endedAt = later(300)
      } else {
        const expiresAt = later(300_000)
        timeline.push({
          type: 'issued',
          data: { clerkActorTokenId: `act_${count}`, expiresAt: expiresAt.toISOString() },
          at: later(400),
        })
        row.clerkActorTokenId = `act_${count}`
        row.expiresAt = expiresAt
        row.sessionExpiresAt = later(300_000 + minutes * 60_000)
        if (outcome === 'revoked') {
          timeline.push({ type: 'ticket_revoked', by: actorId, at: later(20_000) })
          row.revokedBy = actorId
          row.endedAt = later(20_000)
        } else if (outcome === 'expired') {
          timeline.push({
            type: 'ended',
            cause: 'ticket_expired_unused',
            by: 'system',
            at: later(300_000),
          })
          row.endCause = 'ticket_expired_unused'
          row.endedAt = later(300_000)
        } else if (outcome !== 'issued') {
          const session = `sess_${count}`
          timeline.push({ type: 'signed_in', clerkSessionId: session, at: later(5_000) })
          row.clerkSessionId = session
          row.signedInAt = later(5_000)
          if (outcome === 'ended') {
            const cause = CAUSES[Math.floor(random() * CAUSES.length)]!
            const endAt = later(5_000 + Math.floor(random() * minutes * 60_000))
            timeline.push({ type: 'ended', cause, by: actorId, clerkSessionId: session, at: endAt })
            row.endCause = cause
            row.endedAt = endAt
            row.endedBy = actorId
          }
        }
      }
      const projected: ProjectedEvent[] = []
      for (const e of timeline) {
        seq += 1
        const event = {
          seq,
          impersonationId: id,
          type: e.type,
          cause: e.cause ?? null,
          by: e.by ?? null,
          reason: e.type === 'requested' ? reason : null,
          clerkSessionId: e.clerkSessionId ?? null,
          data: canonicalData(e.data ?? {}),
          createdAt: e.at,
        }
        const hash = eventHash(prevHash, event)
        events.push({ ...event, prevHash, hash })
        projected.push({ ...event, data: e.data ?? {} })
        prevHash = hash
      }
      const projectedRow = projectTimeline(projected)!
      if (projectedRow.status !== row.status) throw new Error('bench timeline and outcome disagree')
      rows.push(projectedRow)
      count += 1
      if (count === Math.floor(estimate / 2)) sample = id
      if (events.length >= 20_000) await flush()
    }
    await flush()
  } finally {
    await switchTriggers(true)
  }
  await db
    .update(auditChainHead)
    .set({ seq, hash: prevHash, updatedAt: new Date() })
    .where(eq(auditChainHead.id, 1))
  return {
    impersonations: count,
    events: written,
    actorId: 'user_staff7',
    userId: `user_cust${Math.floor(users / 3)}`,
    impersonationId: sample,
  }
}
