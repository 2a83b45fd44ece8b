// Writes of the audit log. Everything that happens to an impersonation is `appendEvent(id,
// event)`: under the chain head's lock it checks the transition (lifecycle.ts), appends the
// event with its hash, moves the head, and writes the row's projection (projection.ts) in the
// same transaction. That append is the only writer of the `impersonations` row: it marks its
// transaction (`actas.audit_append`), and migration 0008's triggers refuse any other insert,
// update or delete, and any row that disagrees with its events at commit. Every text is cleaned
// and capped first (clean.ts), so no input can make the write fail.
import { and, eq, lt, sql } from 'drizzle-orm'
import type {
  AccessWebhook,
  AlertWebhook,
  ImpersonationEventType,
  ImpersonationMode,
  ImpersonationStatus,
} from '@actas/contracts'
import type { EndCause } from '@actas/contracts'
import { canonicalData, eventHash, signCheckpoint } from './chain.js'
import type { EventDataValue } from './chain.js'
import { cleanOptional, cleanText, TEXT_LIMITS } from './clean.js'
import type { WebhookOutbox } from '../webhooks/outbox.js'
import { nextStatus } from './lifecycle.js'
import { cleanData, projection, projectTimeline } from './projection.js'
import type { ProjectedEvent } from './projection.js'
import { AuditReads } from './reads.js'
import {
  auditChainHead,
  auditCheckpoints,
  auditEvents,
  auditReads,
  impersonationActions,
  impersonations,
  quotaReservations,
  webhookDeliveries,
  webhookOutbox,
} from './schema.js'
import type {
  AuditEventRow,
  AuditReadRow,
  ImpersonationActionRow,
  ImpersonationRow,
  NewAuditReadRow,
  NewImpersonationRow,
} from './schema.js'
import type { Tx } from './store-base.js'
import { observeSessionEnd } from '../metrics/metrics.js'

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
  /** The machine (`mch_…`) that asked on the actor's behalf, carried in the `requested` event's data. */
  via?: string | null
}

export class ImpersonationNotFoundError extends Error {
  constructor(readonly impersonationId: string) {
    super(`No impersonation has the id ${impersonationId}.`)
  }
}

/** Rows deleted by one retention statement (each stays well under the statement timeout). */
const PRUNE_BATCH = 5_000

export interface PruneReport {
  outbox: number
  deliveries: number
  auditReads: number
  quotaReservations: number
}

/** An event about a subject other than an impersonation (see `withChain`). */
export interface SubjectEventInput {
  type: string
  cause?: string | null
  by?: string | null
  reason?: string | null
  data?: Record<string, EventDataValue | undefined>
  at?: Date
}

type ChainedEvent = typeof auditEvents.$inferInsert & {
  seq: number
  hash: string
  createdAt: Date
}

export class AuditWrites extends AuditReads {
  /**
   * Writes a new attempt: its `requested` event (which carries who, whom, why, the mode, the
   * length and the request metadata into the chain), then `events` (e.g. a `denied`), and the row
   * they project to, all in one transaction. Texts are cleaned and capped.
   */
  async createImpersonation(
    input: NewImpersonation,
    events: EventInput[] = [],
  ): Promise<ImpersonationRow> {
    const at = this.now()
    const mode = input.mode ?? 'full'
    const actorId = cleanText(input.actorId, TEXT_LIMITS.id)
    const attempts = Math.max(1, input.attempts ?? 1)
    const requested: EventInput = {
      type: 'requested',
      by: actorId,
      reason: cleanText(input.reason, TEXT_LIMITS.reason),
      data: {
        userId: cleanText(input.userId, TEXT_LIMITS.userId),
        ticketUrl: cleanOptional(input.ticketUrl, TEXT_LIMITS.ticketUrl),
        sessionMinutes: input.sessionMinutes,
        ...(input.requestedMode ? { mode: input.requestedMode } : {}),
        // The mode it starts with, when not the one asked (none asked: the configured default).
        ...(mode !== input.requestedMode ? { defaultMode: mode } : {}),
        actorSessionId: cleanOptional(input.actorSessionId, TEXT_LIMITS.id),
        actorOrganizationId: cleanOptional(input.actorOrganizationId, TEXT_LIMITS.id),
        requestId: cleanOptional(input.requestId, TEXT_LIMITS.requestId),
        ip: cleanOptional(input.ip, TEXT_LIMITS.ip),
        userAgent: cleanOptional(input.userAgent, TEXT_LIMITS.userAgent),
        ...(attempts > 1 ? { attempts } : {}),
        ...(input.returnSecretHash ? { returnSecretHash: input.returnSecretHash } : {}),
        // The machine that started it on the actor's behalf (`onBehalfOf`).
        ...(input.via ? { via: cleanText(input.via, TEXT_LIMITS.id) } : {}),
      },
      at,
    }
    // One head lock, one multi-row insert of the events, one row insert of their projection.
    let announced = 0
    const created = await this.db.transaction(async (tx) => {
      const head = await this.lockHead(tx)
      const { chained, projected, froms } = this.chain(head, input.id, null, [requested, ...events])
      const last = chained.at(-1)!
      const row = projectTimeline(projected)
      if (!row) throw new Error('an impersonation starts with its requested event')
      const [inserted] = await tx.insert(impersonations).values(row).returning()
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
    this.onAppended(event.type)
    if (result.event.type === 'ended') observeSessionEnd(result.row)
    const { from: _from, ...appended } = result
    return appended
  }

  /**
   * The chain for subjects other than impersonations (the access model, access/store.ts): one
   * transaction under the head's lock, in which `work` reads what it needs, writes its own
   * projection row (before its events: migration 0009 checks an event's subject exists), calls
   * `append` to chain events after the head, and `announce` for the host's webhooks (outbox rows
   * in the same transaction). The head moves to the last event appended.
   */
  async withChain<T>(
    work: (
      tx: Tx,
      chain: {
        append(subjectId: string, events: SubjectEventInput[]): Promise<AuditEventRow[]>
        announce(subjectId: string, seq: number, message: AccessWebhook | AlertWebhook): void
      },
    ) => Promise<T>,
  ): Promise<T> {
    let announced = 0
    const types: string[] = []
    const result = await this.db.transaction(async (tx) => {
      const head = await this.lockHead(tx)
      let last: { seq: number; hash: string; createdAt: Date } | null = null
      const messages: Array<{
        subjectId: string
        seq: number
        message: AccessWebhook | AlertWebhook
      }> = []
      const out = await work(tx, {
        append: async (subjectId, inputs) => {
          if (inputs.length === 0) return []
          let prevHash = last?.hash ?? head.hash
          let seq = last?.seq ?? head.seq
          const chained: ChainedEvent[] = []
          for (const input of inputs) {
            const event = {
              seq: (seq += 1),
              impersonationId: subjectId,
              type: input.type,
              cause: cleanOptional(input.cause, 64),
              by: cleanOptional(input.by, TEXT_LIMITS.id),
              reason: cleanOptional(input.reason, TEXT_LIMITS.reason),
              clerkSessionId: null,
              data: canonicalData(cleanData(input.data)),
              createdAt: input.at ?? this.now(),
            }
            const hash = eventHash(prevHash, event)
            chained.push({ ...event, prevHash, hash })
            prevHash = hash
          }
          const rows = await tx.insert(auditEvents).values(chained).returning()
          last = chained.at(-1)!
          types.push(...chained.map((e) => e.type))
          return rows
        },
        announce: (subjectId, seq, message) => messages.push({ subjectId, seq, message }),
      })
      if (last) await this.moveHead(tx, head, last)
      const rows = this.outbox?.messageRows(messages) ?? []
      if (rows.length > 0) await tx.insert(webhookOutbox).values(rows)
      announced = rows.length
      return out
    })
    if (announced > 0) this.outbox?.enqueued()
    for (const type of types) this.onAppended(type)
    return result
  }

  /**
   * Takes the chain head FOR UPDATE and marks the transaction as the event append's (the only
   * one migration 0008's triggers let write the impersonations projection).
   */
  private async lockHead(tx: Tx) {
    await tx.execute(sql`select set_config('actas.audit_append', 'on', true)`)
    const [head] = await tx
      .select()
      .from(auditChainHead)
      .where(eq(auditChainHead.id, 1))
      .for('update')
    if (!head) throw new Error('audit_chain_head is missing (migration 0002 not applied?)')
    return head
  }

  /**
   * The events `inputs` that can happen from `status`, in order, chained after `head`, with the
   * status before each and the events as the projection reads them. Pure: nothing written.
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
    const chained: ChainedEvent[] = []
    const projected: ProjectedEvent[] = []
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
      projected.push({ ...event, data })
      froms.push(status)
      prevHash = hash
      status = next
    }
    return { status, chained, projected, froms }
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
    const { status, chained, projected } = this.chain(head, impersonationId, row.status, [input])
    const last = chained[0]
    const seen = projected[0]
    if (!last || !seen || status === null) return { appended: false, status: row.status, row }
    const [event] = await tx.insert(auditEvents).values(last).returning()
    if (!event) throw new Error('audit event insert returned no row')
    await this.moveHead(tx, head, last)
    const [updated] = await tx
      .update(impersonations)
      .set({ ...projection(seen), status, updatedAt: last.createdAt })
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

  /**
   * Retention of the tables outside the chain: deletes delivered host-webhook outbox rows, Clerk
   * delivery de-duplication rows and machine audit reads older than `retentionDays`, and quota
   * reservations that expired. Never touches the chain (events, checkpoints, head) nor the
   * impersonations projection. Batches of PRUNE_BATCH rows, until none is left.
   */
  async prune(retentionDays: number): Promise<PruneReport> {
    const now = this.now()
    const cutoff = new Date(now.getTime() - retentionDays * 86_400_000)
    const report: PruneReport = { outbox: 0, deliveries: 0, auditReads: 0, quotaReservations: 0 }
    const drain = async (once: (tx: Tx) => Promise<number>) => {
      let total = 0
      for (;;) {
        const n = await this.db.transaction(once)
        total += n
        if (n < PRUNE_BATCH) return total
      }
    }
    report.outbox = await drain(async (tx) => {
      const oldest = tx
        .select({ id: webhookOutbox.id })
        .from(webhookOutbox)
        .where(and(eq(webhookOutbox.status, 'delivered'), lt(webhookOutbox.deliveredAt, cutoff)))
        .limit(PRUNE_BATCH)
      const deleted = await tx
        .delete(webhookOutbox)
        .where(sql`${webhookOutbox.id} in (${oldest})`)
        .returning({ id: webhookOutbox.id })
      return deleted.length
    })
    report.deliveries = await drain(async (tx) => {
      const oldest = tx
        .select({ id: webhookDeliveries.svixId })
        .from(webhookDeliveries)
        .where(lt(webhookDeliveries.receivedAt, cutoff))
        .limit(PRUNE_BATCH)
      const deleted = await tx
        .delete(webhookDeliveries)
        .where(sql`${webhookDeliveries.svixId} in (${oldest})`)
        .returning({ id: webhookDeliveries.svixId })
      return deleted.length
    })
    report.auditReads = await drain(async (tx) => {
      // audit_reads refuses deletes (migration 0002) but retention's, older than its cutoff
      // (migration 0008).
      await tx.execute(
        sql`select set_config('actas.retention_cutoff', ${cutoff.toISOString()}, true)`,
      )
      const oldest = tx
        .select({ id: auditReads.id })
        .from(auditReads)
        .where(lt(auditReads.createdAt, cutoff))
        .limit(PRUNE_BATCH)
      const deleted = await tx
        .delete(auditReads)
        .where(sql`${auditReads.id} in (${oldest})`)
        .returning({ id: auditReads.id })
      return deleted.length
    })
    report.quotaReservations = await drain(async (tx) => {
      const expired = tx
        .select({ id: quotaReservations.impersonationId })
        .from(quotaReservations)
        .where(lt(quotaReservations.expiresAt, now))
        .limit(PRUNE_BATCH)
      const deleted = await tx
        .delete(quotaReservations)
        .where(sql`${quotaReservations.impersonationId} in (${expired})`)
        .returning({ id: quotaReservations.impersonationId })
      return deleted.length
    })
    return report
  }
}
