// `verify`: the chain checked link by link (chain.ts `verifyChain`), the impersonations
// projection recomputed from the events (projection.ts) and compared row by row, and the signed
// checkpoints expected at their cadence. Incremental by default: from the last signed checkpoint
// whose signature and event hash hold (or the head this instance last verified) to the head, in
// pages that give the event loop a turn between them; `{ full: true }` walks from the first event
// (the CLI, and staff who ask for it).
import { and, asc, gt, inArray, not, sql } from 'drizzle-orm'
import { ACCESS_MODEL_EVENTS, verifyAccessProjection } from '../access/verify.js'
import { ALERT_EVENTS } from '../alerts/verify.js'
import { GENESIS_HASH, verifyChain, verifyCheckpoint } from './chain.js'
import type { TrustedKeys } from './chain.js'
import type { ChainBreak, ChainReport, EventData } from './chain.js'
import { projectionDiff, projectTimeline } from './projection.js'
import type { ProjectedEvent } from './projection.js'
import { rowFromJson } from './reads.js'
import { auditEvents, impersonations } from './schema.js'
import type { ImpersonationRow } from './schema.js'
import { AuditWrites } from './writes.js'

export interface VerifyOptions {
  /** The keys checkpoints are checked with (default: the signing key's and the previous ones). */
  publicKey?: TrustedKeys | null
  /** Walk the whole chain and every row, from the first event (default: incremental). */
  full?: boolean
}

export interface VerifyReport extends ChainReport {
  /** Whether the walk started at the first event. */
  full: boolean
  /** The seq the walk started after (0: the first event; else a checkpoint or a verified head). */
  from: number
  /** Impersonation rows recomputed from their events and compared. */
  rows: number
}

/**
 * Events per page of the incremental walk (≈ 10–20 ms of work between two turns of the loop).
 * Every page and every chunk of rows ends with a turn of the event loop (`setImmediate`): PGlite
 * runs in this thread and its queries resolve as microtasks, so without it a walk would hold the
 * loop from start to end.
 */
const CHUNK = 2_000
/** Events per page of the full walk (the CLI, staff's explicit flag: throughput first). */
const FULL_CHUNK = 10_000
/** Rows recomputed per query of the projection check. */
const ROWS_CHUNK = 500
/** A time-based checkpoint is signed within a minute of being due (deps' timer). */
const TIMER_SLACK_MS = 60_000

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

export class AuditVerification extends AuditWrites {
  /** The head the last successful verify reached (this instance). */
  private lastVerified: { seq: number; hash: string } | null = null

  /**
   * Verifies the audit log (see the file's header). `ok` is false at the first broken link, a
   * checkpoint that does not hold, a row that disagrees with its events, or checkpoints that
   * stopped early; `firstBroken` says where and why.
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    const full = options.full === true
    const publicKey = options.publicKey ?? this.trustedKeys
    const head = await this.chainHead()
    const start = full ? { seq: 0, hash: GENESIS_HASH } : await this.startingPoint(publicKey)
    const checkpoints = await this.checkpoints(start.seq + 1)
    const chain = await verifyChain(this.eventPages(full ? FULL_CHUNK : CHUNK, start.seq, true), {
      from: start,
      head: { seq: head.seq, hash: head.hash },
      checkpoints,
      publicKey,
    })
    let firstBroken: ChainBreak | null = chain.firstBroken
    let rows = 0
    if (!firstBroken) {
      const projection = await this.verifyProjection(full ? null : start.seq)
      rows = projection.rows
      firstBroken = projection.firstBroken
    }
    if (!firstBroken) {
      // The access model's rows (access requests, organizations' settings), likewise.
      const access = await verifyAccessProjection(this.db, full ? null : start.seq, (where) =>
        this.storedEvents(where),
      )
      rows += access.rows
      firstBroken = access.firstBroken
    }
    if (!firstBroken) firstBroken = await this.checkpointCadence(head, publicKey)
    const report: VerifyReport = {
      ...chain,
      ok: firstBroken === null,
      firstBroken,
      full,
      from: start.seq,
      rows,
    }
    if (report.ok) this.lastVerified = { seq: head.seq, hash: head.hash }
    return report
  }

  /**
   * Where an incremental walk starts: the later of the last checkpoint (its signature verifies
   * with `publicKey` and its event still has its hash) and the head this instance last verified
   * (its event still has that hash); the first event when neither holds.
   */
  private async startingPoint(
    publicKey: TrustedKeys | null,
  ): Promise<{ seq: number; hash: string }> {
    let start = { seq: 0, hash: GENESIS_HASH }
    const holds = async (p: { seq: number; hash: string }) =>
      (await this.eventAt(p.seq))?.hash === p.hash
    const checkpoint = publicKey ? await this.lastCheckpoint() : null
    if (checkpoint && verifyCheckpoint(publicKey!, checkpoint) && (await holds(checkpoint)))
      start = { seq: checkpoint.seq, hash: checkpoint.hash }
    const verified = this.lastVerified
    if (verified && verified.seq > start.seq && (await holds(verified))) start = verified
    return start
  }

  /**
   * Recomputes rows from their events and compares every column: all rows (`afterSeq` null), or
   * those with an event after `afterSeq`. The first row that disagrees breaks the report, named.
   */
  private async verifyProjection(
    afterSeq: number | null,
  ): Promise<{ rows: number; firstBroken: ChainBreak | null }> {
    let rows = 0
    for await (const ids of this.rowIdPages(afterSeq)) {
      const [stored, timelines] = await Promise.all([this.rowsById(ids), this.timelines(ids)])
      for (const id of ids) {
        rows += 1
        const row = stored.get(id)
        const events = timelines.get(id) ?? []
        const projected = projectTimeline(events)
        const lastSeq = events.at(-1)?.seq ?? 0
        if (!row || !projected) {
          return {
            rows,
            firstBroken: {
              seq: lastSeq,
              reason: `the impersonations row ${id} has no timeline starting with its requested event`,
            },
          }
        }
        const columns = projectionDiff(row, projected)
        if (columns.length > 0)
          return {
            rows,
            firstBroken: {
              seq: lastSeq,
              reason: `the impersonations row ${id} disagrees with its events (${columns.join(', ')}): it was changed outside the event append`,
            },
          }
      }
      await turn()
    }
    return { rows, firstBroken: null }
  }

  /** Row ids to check, ROWS_CHUNK at a time: every row by id, or those with events after a seq. */
  private async *rowIdPages(afterSeq: number | null): AsyncGenerator<string[]> {
    if (afterSeq === null) {
      let after: string | null = null
      for (;;) {
        const page: Array<{ id: string }> = await this.db
          .select({ id: impersonations.id })
          .from(impersonations)
          .where(after ? gt(impersonations.id, after) : undefined)
          .orderBy(asc(impersonations.id))
          .limit(ROWS_CHUNK)
        if (page.length === 0) return
        yield page.map((r) => r.id)
        after = page[page.length - 1]!.id
      }
    }
    const touched = await this.db
      .selectDistinct({ id: auditEvents.impersonationId })
      .from(auditEvents)
      .where(and(gt(auditEvents.seq, afterSeq), not(ACCESS_MODEL_EVENTS), not(ALERT_EVENTS)))
    for (let i = 0; i < touched.length; i += ROWS_CHUNK)
      yield touched.slice(i, i + ROWS_CHUNK).map((r) => r.id)
  }

  private async rowsById(ids: string[]): Promise<Map<string, ImpersonationRow>> {
    const result: unknown = await this.db.execute(sql`
      select coalesce(json_agg(i), '[]')::text as rows
      from (select * from ${impersonations} where ${inArray(impersonations.id, ids)}) i`)
    const [first] = (result as { rows: Array<{ rows: string }> }).rows
    const raw = JSON.parse(first?.rows ?? '[]') as Array<Record<string, unknown>>
    return new Map(raw.map((r) => [r['id'] as string, rowFromJson(r)]))
  }

  /** The events of `ids`, each impersonation's oldest first. */
  private async timelines(
    ids: string[],
  ): Promise<Map<string, Array<ProjectedEvent & { seq: number }>>> {
    const out = new Map<string, Array<ProjectedEvent & { seq: number }>>()
    for (const e of await this.storedEvents(inArray(auditEvents.impersonationId, ids))) {
      const events = out.get(e.impersonationId) ?? []
      events.push({ ...e, data: JSON.parse(e.data) as EventData })
      out.set(e.impersonationId, events)
    }
    return out
  }

  /**
   * Checkpoints are expected at their cadence once there is a key (or any checkpoint): one at
   * least every `checkpointEvery` events, and one within `checkpointMinutes` (plus the timer's
   * minute) of the first event after the last one, while events keep coming. A chain whose
   * checkpoints stop early (they were deleted, or events were appended past them by someone
   * without the key) breaks here.
   */
  private async checkpointCadence(
    head: { seq: number; at: Date | null },
    publicKey: TrustedKeys | null,
  ): Promise<ChainBreak | null> {
    const last = await this.lastCheckpoint()
    if (!publicKey && !last) return null
    const lastSeq = last?.seq ?? 0
    if (head.seq <= lastSeq || !head.at) return null
    if (head.seq - lastSeq > this.checkpointEvery)
      return {
        seq: lastSeq + 1,
        reason: `the signed checkpoints stop at event ${lastSeq}, ${head.seq - lastSeq} events before the head (${head.seq}); one is due every ${this.checkpointEvery} events`,
      }
    const first = await this.eventAt(lastSeq + 1)
    if (!first) return null
    const due = Math.max(
      first.createdAt.getTime(),
      last ? last.signedAt.getTime() + this.checkpointMs : 0,
    )
    if (head.at.getTime() - due > this.checkpointMs + TIMER_SLACK_MS)
      return {
        seq: lastSeq + 1,
        reason: `the signed checkpoints stop at event ${lastSeq}: one was due by ${new Date(due).toISOString()}, and events went on until ${head.at.toISOString()} without one`,
      }
    return null
  }
}
