// The audit log's queries. Domain-shaped: the impersonation use cases never see SQL.
//
// Model: one `impersonations` row per attempt (who, whom, why, how long, request metadata) and
// an append-only, hash-chained `audit_events` timeline per row. Everything that happens to an
// impersonation is `appendEvent(id, event)`: under the chain head's lock it checks the
// transition (lifecycle.ts), appends the event with its hash, moves the head, and writes the
// row's derived status and projection in the same transaction. Every text is cleaned and capped
// first (clean.ts), so no input can make the write fail.
import type { KeyObject } from 'node:crypto'
import { and, asc, count, desc, eq, getTableColumns, gte, inArray, lt, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import type {
  EndCause,
  ImpersonationEvent,
  ImpersonationMode,
  ImpersonationEventType,
  ImpersonationRecord,
  ImpersonationStatus,
} from '@actas/contracts'
import { IMPERSONATION_STATUSES, OPEN_IMPERSONATION_STATUSES } from '@actas/contracts'
import { canonicalData, eventHash, GENESIS_HASH, signCheckpoint, verifyChain } from './chain.js'
import type { AuditSigner, ChainReport, EventData, EventDataValue, StoredEvent } from './chain.js'
import { cleanOptional, cleanText, TEXT_LIMITS } from './clean.js'
import type { AuditDatabase } from './db.js'
import type { WebhookOutbox } from '../webhooks/outbox.js'
import { encodeCursor, olderThan } from './keyset.js'
import { nextStatus } from './lifecycle.js'
import {
  auditChainHead,
  auditCheckpoints,
  auditCounts,
  auditEvents,
  auditReads,
  impersonationActions,
  impersonations,
  webhookOutbox,
} from './schema.js'
import type {
  AuditCheckpointRow,
  ImpersonationActionRow,
  AuditEventRow,
  AuditReadRow,
  ImpersonationRow,
  NewAuditReadRow,
  NewImpersonationRow,
} from './schema.js'

/**
 * The events that settle an impersonation for good (what `sessions.revoked` reports), written
 * exactly as the partial indexes' predicate (schema.ts) so the planner matches them.
 */
const SETTLING = sql`${auditEvents.type} in ('ended', 'ticket_revoked', 'failed')`

/** One event to append. `at` defaults to the store's clock. */
export interface EventInput {
  type: ImpersonationEventType
  /** Required for `ended`: why it ended. */
  cause?: EndCause | null
  /** Who made it happen: a user id, a machine id, or `system`. Null: ActAs itself, answering a request. */
  by?: string | null
  /** A person's words (e.g. the kill switch's reason). */
  reason?: string | null
  /** The Clerk session (`sess_…`) the event is about (`signed_in`, `ended`). */
  clerkSessionId?: string | null
  /**
   * Details, flat and scalar. Known keys the row projects: `code`, `message` (denied, failed),
   * `clerkActorTokenId`, `expiresAt`, `sessionExpiresAt` (issued, ISO instants), `userEmail`,
   * `actorEmail` (any).
   */
  data?: Record<string, EventDataValue | undefined>
  at?: Date
}

export type AppendResult =
  | { appended: true; status: ImpersonationStatus; row: ImpersonationRow; event: AuditEventRow }
  /** The event cannot follow the current status (a duplicate, or after the end): nothing written. */
  | { appended: false; status: ImpersonationStatus; row: ImpersonationRow }

/** The row an attempt starts with; status and projection come from its events. */
export type NewImpersonation = Pick<
  NewImpersonationRow,
  | 'id'
  | 'actorId'
  | 'actorSessionId'
  | 'actorOrganizationId'
  | 'userId'
  | 'reason'
  | 'ticketUrl'
  | 'sessionMinutes'
  | 'mode'
  | 'requestId'
  | 'ip'
  | 'userAgent'
  | 'attempts'
> & {
  /**
   * SHA-256 (hex) of the console's return secret (impersonation.stop), carried in the
   * `requested` event's data; never the secret itself.
   */
  returnSecretHash?: string | null
  /**
   * The mode the caller asked for, carried in the `requested` event's data (absent: none asked;
   * `mode` is then the configured default until the `issued` event says which one was issued).
   */
  requestedMode?: ImpersonationMode | null
}

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

export { InvalidCursorError } from './keyset.js'

/** A driver (PGlite or a pg Pool) answering `query(text, params)`. */
interface JsonClient {
  query(text: string, params: unknown[]): Promise<{ rows: Array<{ rows?: string }> }>
}

/** The impersonations table's columns: property name → column (its SQL name and driver mapping). */
const IMPERSONATION_COLUMNS = Object.entries(getTableColumns(impersonations))

const DAY_MS = 86_400_000
/** The UTC day of an instant, `yyyy-mm-dd` (audit_counts' `day`). */
const utcDay = (d: Date) => d.toISOString().slice(0, 10)

export class ImpersonationNotFoundError extends Error {
  constructor(readonly impersonationId: string) {
    super(`No impersonation has the id ${impersonationId}.`)
  }
}

export interface AuditStoreOptions {
  now: () => Date
  /** Signs checkpoints; without it none are written. */
  signer?: AuditSigner | null
  /** A checkpoint every this many events (default 1000)… */
  checkpointEvery?: number
  /** …or, by `checkpointIfDue()`, when this many minutes passed with new events (default 10). */
  checkpointMinutes?: number
  /**
   * Webhooks to the host: the messages an event announces are written to the outbox in the
   * event's transaction (so one exists exactly when the other does).
   */
  outbox?: Pick<WebhookOutbox, 'rowsFor' | 'enqueued'> | null
}

type Tx = Parameters<Parameters<AuditDatabase['transaction']>[0]>[0]

/**
 * A timestamptz as Postgres writes it in JSON (`2026-11-29T10:00:00.123+00:00`). Stored instants
 * have millisecond precision; finer digits (someone wrote them by hand) make it no instant at
 * all, so the event no longer matches its hash.
 */
function storedInstant(text: string): Date {
  return /\.\d{4,}/.test(text) ? new Date(Number.NaN) : new Date(text)
}

export function toRecord(row: ImpersonationRow): ImpersonationRecord {
  return {
    id: row.id,
    actor: { id: row.actorId, email: row.actorEmail },
    user: { id: row.userId, email: row.userEmail },
    reason: row.reason,
    ticketUrl: row.ticketUrl,
    mode: row.mode,
    status: row.status,
    outcomeCode: row.outcomeCode,
    outcomeMessage: row.outcomeMessage,
    clerkActorTokenId: row.clerkActorTokenId,
    sessionMinutes: row.sessionMinutes,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    sessionExpiresAt: row.sessionExpiresAt?.toISOString() ?? null,
    clerkSessionId: row.clerkSessionId,
    signedInAt: row.signedInAt?.toISOString() ?? null,
    endedAt: row.endedAt?.toISOString() ?? null,
    endCause: (row.endCause as EndCause | null) ?? null,
    endedBy: row.endedBy,
    endReason: row.endReason,
    attempts: row.attempts,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    requestId: row.requestId,
    ip: row.ip,
    userAgent: row.userAgent,
  }
}

export function toEvent(row: AuditEventRow): ImpersonationEvent {
  return {
    seq: row.seq,
    type: row.type as ImpersonationEventType,
    cause: (row.cause as EndCause | null) ?? null,
    by: row.by,
    reason: row.reason,
    clerkSessionId: row.clerkSessionId,
    data: JSON.parse(row.data) as EventData,
    at: row.createdAt.toISOString(),
    prevHash: row.prevHash,
    hash: row.hash,
  }
}

function cleanData(data: Record<string, EventDataValue | undefined> = {}): EventData {
  const out: EventData = {}
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue
    const k = cleanText(key, 64)
    out[k] =
      typeof value === 'string'
        ? cleanText(value, TEXT_LIMITS.message)
        : typeof value === 'number' && !Number.isFinite(value)
          ? null
          : value
  }
  return out
}

const str = (v: EventDataValue | undefined) => (typeof v === 'string' ? v : undefined)
const mode = (v: EventDataValue | undefined): ImpersonationMode | undefined =>
  v === 'read_only' || v === 'full' ? v : undefined
const instant = (v: EventDataValue | undefined) => {
  if (typeof v !== 'string') return undefined
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** The row's columns an event sets (besides status and updated_at). */
function projection(
  type: ImpersonationEventType,
  e: {
    cause: string | null
    by: string | null
    reason: string | null
    clerkSessionId: string | null
  },
  data: EventData,
  at: Date,
): Partial<NewImpersonationRow> {
  const emails: Partial<NewImpersonationRow> = {
    ...(str(data['userEmail']) !== undefined ? { userEmail: str(data['userEmail']) } : {}),
    ...(str(data['actorEmail']) !== undefined ? { actorEmail: str(data['actorEmail']) } : {}),
  }
  switch (type) {
    case 'requested':
      return emails
    case 'denied':
    case 'failed':
      return {
        ...emails,
        outcomeCode: str(data['code']) ?? null,
        outcomeMessage: str(data['message']) ?? null,
        endedAt: at,
      }
    case 'issued':
      return {
        ...emails,
        // The mode the ticket was issued with (the policy may make a default read-only).
        ...(mode(data['mode']) ? { mode: mode(data['mode']) } : {}),
        clerkActorTokenId: str(data['clerkActorTokenId']) ?? null,
        expiresAt: instant(data['expiresAt']) ?? null,
        sessionExpiresAt: instant(data['sessionExpiresAt']) ?? null,
      }
    case 'signed_in':
      return { ...emails, clerkSessionId: e.clerkSessionId, signedInAt: at }
    case 'ticket_revoked':
      return { ...emails, revokedBy: e.by, endedAt: at, endedBy: e.by, endReason: e.reason }
    case 'ended':
      return {
        ...emails,
        endedAt: at,
        endCause: e.cause,
        endedBy: e.by,
        endReason: e.reason,
        ...(e.clerkSessionId ? { clerkSessionId: e.clerkSessionId } : {}),
      }
  }
}

export class AuditStore {
  private readonly now: () => Date
  private readonly signer: AuditSigner | null
  private readonly checkpointEvery: number
  private readonly checkpointMs: number
  private readonly outbox: AuditStoreOptions['outbox']

  constructor(
    private readonly db: AuditDatabase,
    options: AuditStoreOptions | (() => Date),
  ) {
    const o = typeof options === 'function' ? { now: options } : options
    this.now = o.now
    this.signer = o.signer ?? null
    this.checkpointEvery = o.checkpointEvery ?? 1000
    this.checkpointMs = (o.checkpointMinutes ?? 10) * 60_000
    this.outbox = o.outbox ?? null
  }

  /** The public key checkpoints are signed with (SPKI PEM), or null without a signing key. */
  get publicKeyPem(): string | null {
    return this.signer?.publicKeyPem ?? null
  }

  /**
   * Writes a new attempt: the row and its `requested` event (which carries the row's who, whom,
   * why and request metadata into the chain), then `events` (e.g. a `denied`), all in one
   * transaction. Texts are cleaned and capped.
   */
  async createImpersonation(
    input: NewImpersonation,
    events: EventInput[] = [],
  ): Promise<ImpersonationRow> {
    const at = this.now()
    const row = {
      id: input.id,
      actorId: cleanText(input.actorId, TEXT_LIMITS.id),
      actorSessionId: cleanOptional(input.actorSessionId, TEXT_LIMITS.id),
      actorOrganizationId: cleanOptional(input.actorOrganizationId, TEXT_LIMITS.id),
      userId: cleanText(input.userId, TEXT_LIMITS.userId),
      reason: cleanText(input.reason, TEXT_LIMITS.reason),
      ticketUrl: cleanOptional(input.ticketUrl, TEXT_LIMITS.ticketUrl),
      sessionMinutes: input.sessionMinutes,
      mode: input.mode ?? 'full',
      requestId: cleanOptional(input.requestId, TEXT_LIMITS.requestId),
      ip: cleanOptional(input.ip, TEXT_LIMITS.ip),
      userAgent: cleanOptional(input.userAgent, TEXT_LIMITS.userAgent),
      attempts: Math.max(1, input.attempts ?? 1),
    }
    const requested: EventInput = {
      type: 'requested',
      by: row.actorId,
      reason: row.reason,
      data: {
        userId: row.userId,
        ticketUrl: row.ticketUrl,
        sessionMinutes: row.sessionMinutes,
        ...(input.requestedMode ? { mode: input.requestedMode } : {}),
        actorSessionId: row.actorSessionId,
        actorOrganizationId: row.actorOrganizationId,
        requestId: row.requestId,
        ip: row.ip,
        userAgent: row.userAgent,
        ...(row.attempts > 1 ? { attempts: row.attempts } : {}),
        ...(input.returnSecretHash ? { returnSecretHash: input.returnSecretHash } : {}),
      },
      at,
    }
    // One head lock, one multi-row insert of the events, one row insert with the derived status.
    let announced = 0
    const created = await this.db.transaction(async (tx) => {
      const head = await this.lockHead(tx)
      const { status, patch, chained, froms } = this.chain(head, row.id, null, [
        requested,
        ...events,
      ])
      const last = chained.at(-1)!
      const [inserted] = await tx
        .insert(impersonations)
        .values({ ...row, ...patch, status: status!, createdAt: at, updatedAt: last.createdAt })
        .returning()
      await tx.insert(auditEvents).values(chained)
      await this.moveHead(tx, head, last)
      if (!inserted) throw new Error('audit insert returned no row')
      announced = await this.announce(
        tx,
        inserted,
        chained.map((event, i) => ({ event, from: froms[i] ?? null })),
      )
      return inserted
    })
    if (announced > 0) this.outbox?.enqueued()
    return created
  }

  /** Writes the outbox rows the events announce (webhooks to the host), in the caller's transaction. */
  private async announce(
    tx: Tx,
    row: ImpersonationRow,
    events: Parameters<WebhookOutbox['rowsFor']>[1],
  ): Promise<number> {
    const rows = this.outbox?.rowsFor(row, events) ?? []
    if (rows.length > 0) await tx.insert(webhookOutbox).values(rows)
    return rows.length
  }

  /**
   * Appends one event to an impersonation's timeline, if it can happen now (lifecycle.ts):
   * `{ appended: false }` for a duplicate or a late event, nothing written. Throws
   * ImpersonationNotFoundError for an unknown id. Safe to call from several API instances at once:
   * the chain head is taken FOR UPDATE, so appends are serialised into one linear chain.
   *
   * ```ts
   * await audit.appendEvent(id, { type: 'signed_in', clerkSessionId: 'sess_…' })
   * await audit.appendEvent(id, { type: 'ended', cause: 'ended_by_staff', by: staffId, reason })
   * ```
   */
  async appendEvent(impersonationId: string, event: EventInput): Promise<AppendResult> {
    if (event.type === 'requested')
      throw new Error('`requested` starts a timeline: use createImpersonation')
    let announced = 0
    const result = await this.db.transaction(async (tx) => {
      const appended = await this.appendIn(tx, impersonationId, event)
      if (appended.appended)
        announced = await this.announce(tx, appended.row, [
          { event: appended.event, from: appended.from },
        ])
      return appended
    })
    if (announced > 0) this.outbox?.enqueued()
    if (!result.appended) return result
    const { from: _from, ...appended } = result
    return appended
  }

  private async lockHead(tx: Tx) {
    const [head] = await tx
      .select()
      .from(auditChainHead)
      .where(eq(auditChainHead.id, 1))
      .for('update')
    if (!head) throw new Error('audit_chain_head is missing (migration 0002 not applied?)')
    return head
  }

  /**
   * The events `inputs` that can happen from `status`, in order, chained after `head`, and the
   * status and row projection they lead to. Pure: nothing written.
   */
  private chain(
    head: { seq: number; hash: string },
    impersonationId: string,
    from: ImpersonationStatus | null,
    inputs: EventInput[],
  ) {
    let status = from
    let prevHash = head.hash
    let seq = head.seq
    let patch: Partial<NewImpersonationRow> = {}
    const chained: Array<
      typeof auditEvents.$inferInsert & { seq: number; hash: string; createdAt: Date }
    > = []
    /** The status before each chained event. */
    const froms: Array<ImpersonationStatus | null> = []
    for (const input of inputs) {
      const next = nextStatus(status, input)
      if (next === null) continue
      const at = input.at ?? this.now()
      const fields = {
        cause: cleanOptional(input.cause, 64),
        by: cleanOptional(input.by, TEXT_LIMITS.id),
        reason: cleanOptional(input.reason, TEXT_LIMITS.reason),
        clerkSessionId: cleanOptional(input.clerkSessionId, TEXT_LIMITS.id),
      }
      const data = cleanData(input.data)
      seq += 1
      const event = {
        seq,
        impersonationId,
        type: input.type,
        ...fields,
        data: canonicalData(data),
        createdAt: at,
      }
      const hash = eventHash(prevHash, event)
      chained.push({ ...event, prevHash, hash })
      froms.push(status)
      prevHash = hash
      status = next
      patch = { ...patch, ...projection(input.type, fields, data, at) }
    }
    return { status, patch, chained, froms }
  }

  /** Moves the head to `last`, signing a checkpoint there when one is due by count. */
  private async moveHead(
    tx: Tx,
    head: { checkpointSeq: number },
    last: { seq: number; hash: string; createdAt: Date },
  ): Promise<void> {
    const checkpoint =
      this.signer !== null && last.seq - head.checkpointSeq >= this.checkpointEvery
        ? await this.writeCheckpoint(tx, last.seq, last.hash, last.createdAt)
        : null
    await tx
      .update(auditChainHead)
      .set({
        seq: last.seq,
        hash: last.hash,
        updatedAt: last.createdAt,
        ...(checkpoint ? { checkpointSeq: last.seq, checkpointAt: checkpoint } : {}),
      })
      .where(eq(auditChainHead.id, 1))
  }

  private async appendIn(
    tx: Tx,
    impersonationId: string,
    input: EventInput,
  ): Promise<
    | (Extract<AppendResult, { appended: true }> & { from: ImpersonationStatus })
    | Extract<AppendResult, { appended: false }>
  > {
    const head = await this.lockHead(tx)
    const [row] = await tx
      .select()
      .from(impersonations)
      .where(eq(impersonations.id, impersonationId))
      .for('update')
    if (!row) throw new ImpersonationNotFoundError(impersonationId)
    const { status, patch, chained } = this.chain(head, impersonationId, row.status, [input])
    const last = chained[0]
    if (!last || status === null) return { appended: false, status: row.status, row }
    const [event] = await tx.insert(auditEvents).values(last).returning()
    if (!event) throw new Error('audit event insert returned no row')
    await this.moveHead(tx, head, last)
    const [updated] = await tx
      .update(impersonations)
      .set({ ...patch, status, updatedAt: last.createdAt })
      .where(eq(impersonations.id, impersonationId))
      .returning()
    if (!updated) throw new Error(`audit row ${impersonationId} vanished`)
    return { appended: true, status, row: updated, event, from: row.status }
  }

  private async writeCheckpoint(tx: Tx, seq: number, hash: string, at: Date): Promise<Date> {
    const signer = this.signer
    if (!signer) throw new Error('no signing key')
    await tx.insert(auditCheckpoints).values({
      seq,
      hash,
      signedAt: at,
      keyId: signer.keyId,
      signature: signCheckpoint(signer, seq, hash, at),
    })
    return at
  }

  /**
   * Signs the head when it moved since the last checkpoint and `checkpointMinutes` passed (or
   * `force`). Returns the checkpoint's seq, or null when none was due. Call it on a timer.
   */
  async checkpointIfDue(force = false): Promise<number | null> {
    if (!this.signer) return null
    return this.db.transaction(async (tx) => {
      const [head] = await tx
        .select()
        .from(auditChainHead)
        .where(eq(auditChainHead.id, 1))
        .for('update')
      if (!head || head.seq === 0 || head.seq === head.checkpointSeq) return null
      const at = this.now()
      if (
        !force &&
        head.checkpointAt &&
        at.getTime() - head.checkpointAt.getTime() < this.checkpointMs
      )
        return null
      await this.writeCheckpoint(tx, head.seq, head.hash, at)
      await tx
        .update(auditChainHead)
        .set({ checkpointSeq: head.seq, checkpointAt: at })
        .where(eq(auditChainHead.id, 1))
      return head.seq
    })
  }

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
    return raw.map((r) => {
      const row: Record<string, unknown> = {}
      for (const [key, column] of IMPERSONATION_COLUMNS) {
        const value = r[column.name]
        row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
      }
      return row as ImpersonationRow
    })
  }

  /** How many records match a list query's filters (every page). */
  async count(query: Omit<ListQuery, 'cursor' | 'limit'>): Promise<number> {
    const [row] = await this.countQuery(query)
    return row?.n ?? 0
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

  /** The filters of a list query (not its cursor or limit). */
  private filters(query: Omit<ListQuery, 'cursor' | 'limit'>): SQL[] {
    const where: SQL[] = []
    if (query.actorId) where.push(eq(impersonations.actorId, query.actorId))
    if (query.userId) where.push(eq(impersonations.userId, query.userId))
    if (query.status) where.push(eq(impersonations.status, query.status))
    if (query.from) where.push(gte(impersonations.createdAt, new Date(query.from)))
    if (query.to) where.push(lt(impersonations.createdAt, new Date(query.to)))
    return where
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
        .where(and(...this.filters(query)))
    const keys = (query.status ? [query.status] : IMPERSONATION_STATUSES).map((s) => `status:${s}`)
    const rows = (from: Date | null, to: Date | null) =>
      sql`(select count(*) from ${impersonations} where ${and(
        query.status ? eq(impersonations.status, query.status) : undefined,
        from ? gte(impersonations.createdAt, from) : undefined,
        to ? lt(impersonations.createdAt, to) : undefined,
      )})`
    return this.countByDays(keys, query.from, query.to, rows)
  }

  /**
   * `counters(keys, whole days of [from, to))` + `edge(from, first whole day)` + `edge(last whole
   * day, to)` as one statement answering `[{ n }]`. A range shorter than a day is one edge.
   */
  private countByDays(
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
    return this.db
      .select({ n: sql<number>`(${n})::bigint`.mapWith(Number) })
      .from(sql`(select 1) as one`)
  }

  listQuery(query: ListQuery) {
    const where = this.filters(query)
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

  /** Appends a guard's batch to an impersonation's action trail. */
  async insertActions(
    rows: Array<Omit<ImpersonationActionRow, 'id' | 'receivedAt'>>,
  ): Promise<number> {
    if (rows.length === 0) return 0
    const receivedAt = this.now()
    const inserted = await this.db
      .insert(impersonationActions)
      .values(rows.map((r) => ({ ...r, receivedAt })))
      .returning({ id: impersonationActions.id })
    return inserted.length
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

  /** `issued` events since `since`: counters for whole days, the partial index for the first. */
  countIssuedQuery(since: Date) {
    return this.countByDays(
      ['event:issued'],
      since.toISOString(),
      undefined,
      (from, to) =>
        sql`(select count(*) from ${auditEvents} where ${and(
          eq(auditEvents.type, 'issued'),
          from ? gte(auditEvents.createdAt, from) : undefined,
          to ? lt(auditEvents.createdAt, to) : undefined,
        )})`,
    )
  }

  /** Records a read of the audit log by a machine. */
  async insertAuditRead(row: Omit<NewAuditReadRow, 'createdAt' | 'kind'>): Promise<AuditReadRow> {
    const [inserted] = await this.db
      .insert(auditReads)
      .values({
        ...row,
        requestId: cleanOptional(row.requestId, TEXT_LIMITS.requestId),
        ip: cleanOptional(row.ip, TEXT_LIMITS.ip),
        userAgent: cleanOptional(row.userAgent, TEXT_LIMITS.userAgent),
        kind: 'audit_read',
        createdAt: this.now(),
      })
      .returning()
    if (!inserted) throw new Error('audit read insert returned no row')
    return inserted
  }

  /** Audit reads, oldest first (optionally by one machine). */
  async listAuditReads(machineId?: string): Promise<AuditReadRow[]> {
    return this.db
      .select()
      .from(auditReads)
      .where(machineId ? eq(auditReads.machineId, machineId) : undefined)
      .orderBy(asc(auditReads.createdAt), asc(auditReads.id))
  }

  /**
   * Actor tokens Clerk issued since `since` (revoked ones were issued too, and count against the
   * plan): `issued` events, counted from their partial index (index-only, never a table scan).
   */
  async countIssuedSince(since: Date): Promise<number> {
    const [row] = await this.countIssuedQuery(since)
    return row?.n ?? 0
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const [head] = await this.db.select().from(auditChainHead).where(eq(auditChainHead.id, 1))
    return head ? { seq: head.seq, hash: head.hash } : { seq: 0, hash: GENESIS_HASH }
  }

  async checkpoints(): Promise<AuditCheckpointRow[]> {
    return this.db.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq))
  }

  /** Every event in chain order, `pageSize` at a time (keyset on seq). */
  async *eventPages(pageSize = 10_000): AsyncGenerator<StoredEvent[]> {
    // One JSON text per page (json_agg), parsed in one go: decoding 10,000 rows field by field
    // costs PGlite several times more than the query itself.
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
    const fetchPage = async (after: number): Promise<Raw[]> => {
      const result: unknown = await this.db.execute(sql`
        select coalesce(json_agg(json_build_array(seq, impersonation_id, type, cause, "by", reason,
          clerk_session_id, data, created_at, prev_hash, hash) order by seq), '[]')::text as page
        from (select * from audit_events where seq > ${after} order by seq limit ${pageSize}) e`)
      const [first] = (result as { rows: Array<{ page: string }> }).rows
      return JSON.parse(first?.page ?? '[]') as Raw[]
    }
    // The next page is asked for before this one is checked (a server works meanwhile).
    let pending = fetchPage(0)
    for (;;) {
      const raw = await pending
      if (raw.length === 0) return
      pending = fetchPage(raw[raw.length - 1]![0])
      yield raw.map((r) => ({
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
  }

  /**
   * Walks the whole chain (chain.ts `verifyChain`): every link, the stored head, and every
   * checkpoint's signature against the configured key (or `publicKey`).
   */
  async verify(options: { publicKey?: KeyObject | null } = {}): Promise<ChainReport> {
    const [head, checkpoints] = await Promise.all([this.head(), this.checkpoints()])
    return verifyChain(this.eventPages(), {
      head,
      checkpoints,
      publicKey: options.publicKey ?? this.signer?.publicKey ?? null,
    })
  }
}
