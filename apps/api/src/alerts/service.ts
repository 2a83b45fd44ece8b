// Alerts (issue 23): the rules (ALERT_*, config.ts) evaluated where their facts arise — after a
// start's outcome is recorded (that staff member's hour), and by a periodic check (every staff
// member's current hour, the chain's verification, the log streams' states). Counts come from the
// audit store, never from this process's memory, so every API instance judges the same data.
// Raising writes the alert's row and its `alert.raised` event in one chain transaction, with the
// host's webhook in the outbox; the row's unique key (rule, subject, window) makes a second
// raise — by this instance or another — write nothing. The log streams carry the event as they
// carry the chain.
import { randomUUID } from 'node:crypto'
import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type {
  Alert,
  AlertRule,
  AlertsPort,
  AlertsRecentOutput,
  AlertWebhook,
} from '@actas/contracts'
import type { AuditDatabase } from '../audit/db.js'
import { auditEvents, impersonations } from '../audit/schema.js'
import type { AuditStore } from '../audit/store.js'
import { logStreams } from '../log-streams/schema.js'
import type { AlertSettings } from './config.js'
import { withinHours } from './config.js'
import { alerts } from './schema.js'
import type { AlertRow } from './schema.js'

const HOUR_MS = 3_600_000
/** Starts refused by the judge or by Clerk. */
const REFUSED = ['denied', 'failed'] as const
/** Recent alerts on the Active now page. */
const RECENT = 20

/** The fixed hour a moment falls in: every instance computes the same window. */
export function hourOf(at: Date): { start: Date; end: Date } {
  const start = new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS)
  return { start, end: new Date(start.getTime() + HOUR_MS) }
}

/** What a rule found over its threshold. */
export interface Finding {
  rule: AlertRule
  subject: string
  count: number
  threshold: number
  windowStart: Date
  windowEnd: Date
  summary: string
}

export interface AlertServiceOptions {
  settings: AlertSettings
  audit: Pick<AuditStore, 'withChain' | 'verify'>
  logger: Logger
  now: () => Date
}

export function alertOf(row: AlertRow, seq: number): Alert {
  return {
    id: row.id,
    rule: row.rule,
    subject: row.subject,
    count: row.count,
    threshold: row.threshold,
    windowStart: row.windowStart.toISOString(),
    windowEnd: row.windowEnd.toISOString(),
    summary: row.summary,
    seq,
    raisedAt: row.createdAt.toISOString(),
  }
}

export class AlertService implements AlertsPort {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> = Promise.resolve()
  /** Evaluations after starts still running (close waits for them). */
  private readonly pending = new Set<Promise<unknown>>()

  constructor(
    private readonly db: AuditDatabase,
    private readonly o: AlertServiceOptions,
  ) {}

  get enabled(): boolean {
    const s = this.o.settings
    return (
      s.manyTargets > 0 || s.refusals > 0 || !!s.workingHours || s.chainCheck || s.streamFailing
    )
  }

  /** The periodic check, every ALERT_CHECK_INTERVAL_MS. */
  start(): void {
    if (this.timer || !this.enabled) return
    this.timer = setInterval(() => void this.check(), this.o.settings.checkIntervalMs)
    this.timer.unref()
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await Promise.all([this.running, ...this.pending])
  }

  /** `afterStart`, not awaited by the start (its answer never waits on the rules). */
  settled(actorId: string, impersonationId: string): void {
    const run = this.afterStart(actorId, impersonationId)
    this.pending.add(run)
    void run.finally(() => this.pending.delete(run))
  }

  /**
   * After a start's outcome is recorded (issued, denied or failed): the staff member's hour, and
   * whether the start was outside working hours. Never throws (a start's answer does not wait
   * on it failing).
   */
  async afterStart(actorId: string, impersonationId: string): Promise<Alert[]> {
    try {
      const at = this.o.now()
      const findings = [
        ...(await this.hourFindings(hourOf(at), actorId)),
        ...(await this.offHours(actorId, impersonationId)),
      ]
      return await this.raiseAll(findings)
    } catch (err) {
      this.o.logger.error({ err }, 'alert rules after a start failed')
      return []
    }
  }

  /** The periodic check: every staff member's current hour, the chain, the log streams. */
  check(): Promise<Alert[]> {
    const run = this.checkOnce().catch((err: unknown) => {
      this.o.logger.error({ err }, 'alert check failed')
      return [] as Alert[]
    })
    this.running = run.then(() => undefined)
    return run
  }

  private async checkOnce(): Promise<Alert[]> {
    const at = this.o.now()
    const findings = [
      ...(await this.hourFindings(hourOf(at), null)),
      ...(await this.chainFindings(at)),
      ...(await this.streamFindings(at)),
    ]
    return this.raiseAll(findings)
  }

  /** many_targets and refusal_burst in one hour, for one staff member or all of them. */
  private async hourFindings(
    hour: { start: Date; end: Date },
    actorId: string | null,
  ): Promise<Finding[]> {
    const s = this.o.settings
    if (s.manyTargets <= 0 && s.refusals <= 0) return []
    const inHour = and(
      gte(impersonations.createdAt, hour.start),
      lt(impersonations.createdAt, hour.end),
      actorId ? eq(impersonations.actorId, actorId) : undefined,
    )
    const refused = sql`${impersonations.status} in ('denied', 'failed')`
    const rows = await this.db
      .select({
        actorId: impersonations.actorId,
        targets:
          sql<number>`count(distinct ${impersonations.userId}) filter (where not (${refused}))`.mapWith(
            Number,
          ),
        refusals:
          sql<number>`coalesce(sum(${impersonations.attempts}) filter (where ${refused}), 0)`.mapWith(
            Number,
          ),
      })
      .from(impersonations)
      .where(inHour)
      .groupBy(impersonations.actorId)
    const findings: Finding[] = []
    const span = `${hour.start.toISOString()}–${hour.end.toISOString()}`
    for (const r of rows) {
      if (s.manyTargets > 0 && r.targets >= s.manyTargets)
        findings.push({
          rule: 'many_targets',
          subject: r.actorId,
          count: r.targets,
          threshold: s.manyTargets,
          windowStart: hour.start,
          windowEnd: hour.end,
          summary: `${r.actorId} started impersonations of ${r.targets} distinct users in the hour ${span} (threshold ${s.manyTargets})`,
        })
      if (s.refusals > 0 && r.refusals >= s.refusals)
        findings.push({
          rule: 'refusal_burst',
          subject: r.actorId,
          count: r.refusals,
          threshold: s.refusals,
          windowStart: hour.start,
          windowEnd: hour.end,
          summary: `${r.actorId} had ${r.refusals} refused starts (${REFUSED.join(', ')}) in the hour ${span} (threshold ${s.refusals})`,
        })
    }
    return findings
  }

  /** off_hours_start: the start was made outside the working hours (its recorded time). */
  private async offHours(actorId: string, impersonationId: string): Promise<Finding[]> {
    const hours = this.o.settings.workingHours
    if (!hours) return []
    const [row] = await this.db
      .select({ createdAt: impersonations.createdAt, status: impersonations.status })
      .from(impersonations)
      .where(and(eq(impersonations.id, impersonationId), eq(impersonations.actorId, actorId)))
    if (!row || withinHours(hours, row.createdAt)) return []
    const hour = hourOf(row.createdAt)
    const [{ n = 0 } = {}] = await this.db
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(impersonations)
      .where(
        and(
          eq(impersonations.actorId, actorId),
          gte(impersonations.createdAt, hour.start),
          lt(impersonations.createdAt, hour.end),
        ),
      )
    return [
      {
        rule: 'off_hours_start',
        subject: actorId,
        count: n,
        threshold: 1,
        windowStart: hour.start,
        windowEnd: hour.end,
        summary: `${actorId} started an impersonation at ${row.createdAt.toISOString()}, outside working hours (${hours.text})`,
      },
    ]
  }

  /** chain_unverified: an incremental verify of the chain and its rows. */
  private async chainFindings(at: Date): Promise<Finding[]> {
    if (!this.o.settings.chainCheck) return []
    const report = await this.o.audit.verify()
    if (report.ok || !report.firstBroken) return []
    const hour = hourOf(at)
    return [
      {
        rule: 'chain_unverified',
        subject: 'chain',
        count: report.firstBroken.seq,
        threshold: 0,
        windowStart: hour.start,
        windowEnd: hour.end,
        summary: `The audit chain does not verify at seq ${report.firstBroken.seq}: ${report.firstBroken.reason}`,
      },
    ]
  }

  /** stream_failing: a log stream whose state is `failing` (its row, shared by the instances). */
  private async streamFindings(at: Date): Promise<Finding[]> {
    if (!this.o.settings.streamFailing) return []
    const rows = await this.db.select().from(logStreams).where(eq(logStreams.state, 'failing'))
    const hour = hourOf(at)
    return rows.map((r) => ({
      rule: 'stream_failing' as const,
      subject: r.id,
      count: r.attempts,
      threshold: 0,
      windowStart: hour.start,
      windowEnd: hour.end,
      summary: `The log stream ${r.id} is failing: ${r.attempts} failed attempts in a row${r.lastError ? ` (${r.lastError})` : ''}`,
    }))
  }

  private async raiseAll(findings: Finding[]): Promise<Alert[]> {
    const raised: Alert[] = []
    for (const f of findings) {
      const alert = await this.raise(f)
      if (alert) raised.push(alert)
    }
    return raised
  }

  /**
   * The alert's row, its `alert.raised` event and the host's webhook, in one chain transaction;
   * null when this rule, subject and window already has its alert (any instance raised it).
   */
  async raise(f: Finding): Promise<Alert | null> {
    return this.o.audit.withChain(async (tx, chain) => {
      const [row] = await tx
        .insert(alerts)
        .values({ id: randomUUID(), ...f, createdAt: this.o.now() })
        .onConflictDoNothing({
          target: [alerts.rule, alerts.subject, alerts.windowStart],
        })
        .returning()
      if (!row) return null
      // The event carries the alert's figures (what alertOf shows, but its seq and time).
      const { id: _id, seq: _seq, raisedAt: _at, summary, ...figures } = alertOf(row, 1)
      const [event] = await chain.append(row.id, [
        {
          type: 'alert.raised',
          cause: row.rule,
          by: 'system',
          reason: summary,
          data: figures,
          at: row.createdAt,
        },
      ])
      if (!event) throw new Error('alert.raised was not appended')
      const alert = alertOf(row, event.seq)
      const message: AlertWebhook = {
        type: 'alert.raised',
        timestamp: this.o.now().toISOString(),
        data: alert,
      }
      chain.announce(row.id, event.seq, message)
      this.o.logger.warn({ rule: row.rule, subject: row.subject, seq: event.seq }, 'alert raised')
      return alert
    })
  }

  /** `alerts.recent`: the newest alerts with their events' seq. */
  async recent(): Promise<AlertsRecentOutput> {
    const rows = await this.db
      .select()
      .from(alerts)
      .orderBy(desc(alerts.createdAt), desc(alerts.id))
      .limit(RECENT)
    const seqs = await seqsOf(
      this.db,
      rows.map((r) => r.id),
    )
    return {
      items: rows.map((r) => {
        const seq = seqs.get(r.id)
        // Written in the row's transaction: never missing.
        if (seq === undefined) throw new Error(`alert ${r.id} has no alert.raised event`)
        return alertOf(r, seq)
      }),
      enabled: this.enabled,
    }
  }
}

async function seqsOf(db: AuditDatabase, ids: string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map()
  const rows = await db
    .select({ id: auditEvents.impersonationId, seq: auditEvents.seq })
    .from(auditEvents)
    .where(and(inArray(auditEvents.impersonationId, ids), eq(auditEvents.type, 'alert.raised')))
  return new Map(rows.map((r) => [r.id, r.seq]))
}
