// The reconciler: every RECONCILER_INTERVAL_SECONDS it settles what webhooks and the console
// did not tell (installs without webhooks, lost deliveries) and re-authorizes live
// impersonations. For each unsettled impersonation, oldest first, within a budget of Clerk calls
// per run (RECONCILER_MAX_CLERK_CALLS; a row is only started when its worst case still fits):
// - `issued`: every page of `GET /v1/sessions?user_id=…`; a session whose
//   `actor.impersonation_id` is this one → signed in (or ended, if that session is no longer
//   active); none and the ticket past its expiry → `ended` (`ticket_expired_unused`, status
//   `expired`);
// - `signed_in` past its cap → ended `expired_at_cap` (sessions revoked in Clerk);
// - `signed_in` otherwise: the policy's continuous moment (policy.ts: the actor and the target
//   read fresh, 4 calls) → ended with the rule's cause; else its session, read by id: no longer
//   active → ended (`signed_out`, `expired_at_cap` or `expired_inactivity` from Clerk's status).
// Every append goes through lifecycle.ts, so a race with a webhook or a staff member is a no-op.
import type { Logger } from 'pino'
import type { ImpersonationRow } from '../audit/schema.js'
import type { AuditStore } from '../audit/store.js'
import type { UserDirectory } from '../directory/user-directory.js'
import { capOf, sessionOf } from './lifecycle.js'
import type { ImpersonationLifecycle } from './lifecycle.js'
import type { ImpersonationPolicy } from './policy-facts.js'

export interface ReconcilerOptions {
  audit: AuditStore
  directory: UserDirectory
  lifecycle: ImpersonationLifecycle
  now: () => Date
  logger: Pick<Logger, 'info' | 'warn' | 'error'>
  /** The judge of continuous re-authorization. */
  policy: Pick<ImpersonationPolicy, 'continuousCause'>
  /** Clerk calls one run may make at most. */
  maxClerkCalls: number
  /** Rows read per run at most. */
  maxRows?: number
}

export interface ReconcileReport {
  examined: number
  settled: number
  clerkCalls: number
  /** Rows left for the next run because the budget ran out. */
  deferred: number
}

/** Worst-case Clerk calls for one row: 4 reads + a sessions read + revoking a session. */
const WORST_CASE_CALLS = 7

/** Counts the Clerk calls made through it. */
function counting(directory: UserDirectory, counter: { calls: number }): UserDirectory {
  return new Proxy(directory, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        counter.calls++
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}

export class Reconciler {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<ReconcileReport> | null = null

  constructor(private readonly o: ReconcilerOptions) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.run().catch(() => undefined), intervalMs)
    this.timer.unref()
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.running?.catch(() => undefined)
  }

  /** One run (a run already under way is joined, not doubled). */
  run(): Promise<ReconcileReport> {
    this.running ??= this.runOnce().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async runOnce(): Promise<ReconcileReport> {
    const counter = { calls: 0 }
    const directory = counting(this.o.directory, counter)
    const rows = await this.o.audit.listOpen(this.o.maxRows ?? 500)
    const report: ReconcileReport = { examined: 0, settled: 0, clerkCalls: 0, deferred: 0 }
    for (const row of rows) {
      if (row.status === 'pending') continue
      if (counter.calls + WORST_CASE_CALLS > this.o.maxClerkCalls) {
        report.deferred++
        continue
      }
      report.examined++
      try {
        if (await this.settle(row, directory)) report.settled++
      } catch (error) {
        this.o.logger.warn(
          { err: error, impersonationId: row.id },
          'reconciler: row left for later',
        )
      }
    }
    report.clerkCalls = counter.calls
    if (report.settled > 0 || report.deferred > 0) this.o.logger.info(report, 'reconciler run')
    return report
  }

  /** Settles one row if it can; true when an event was appended. */
  private async settle(found: ImpersonationRow, directory: UserDirectory): Promise<boolean> {
    const now = this.o.now()
    const lifecycle = this.o.lifecycle
    let row = found
    let changed = false
    if (row.status === 'issued') {
      const sessions = (await directory.listSessions(row.userId)).filter((s) => sessionOf(s, row))
      const session = sessions[0]
      if (session) {
        const outcome = await lifecycle.onSession(
          session,
          session.status === 'active' ? 'created' : 'ended',
          { readFromClerk: true },
        )
        changed = !outcome.startsWith('unchanged')
        // Signed in: go on with the checks of a live one (its cap, policy) in this same run.
        row = (await this.o.audit.get(row.id)) ?? row
        if (row.status !== 'signed_in') return changed
      } else if (row.expiresAt && now >= row.expiresAt) {
        const ended = await lifecycle.terminate(
          row,
          { cause: 'ticket_expired_unused', by: 'system' },
          directory,
        )
        return ended.appended
      }
      if (row.status === 'issued') return false
    }
    if (row.status !== 'signed_in') return changed
    const cap = capOf(row)
    if (cap && now >= cap) {
      const ended = await lifecycle.terminate(
        row,
        { cause: 'expired_at_cap', by: 'system' },
        directory,
      )
      return ended.appended || changed
    }
    const cause = await this.o.policy.continuousCause(row, directory)
    if (cause)
      return (
        (await lifecycle.terminate(row, { cause, by: 'system' }, directory)).appended || changed
      )
    const session = row.clerkSessionId ? await directory.getSession(row.clerkSessionId) : null
    if (session && session.status !== 'active') {
      const outcome = await lifecycle.onSession(session, 'ended', {
        readFromClerk: true,
        policyAllows: true,
      })
      return !outcome.startsWith('unchanged') || changed
    }
    return changed
  }

  /**
   * Continuous re-authorization, triggered by a webhook about `userId` (user updated or deleted,
   * membership changed): its live impersonations, as actor or as target, end when policy says so.
   */
  async reauthorize(userId: string): Promise<number> {
    const [asActor, asTarget] = await Promise.all([
      this.live({ actorId: userId }),
      this.live({ userId }),
    ])
    let ended = 0
    for (const row of [...asActor, ...asTarget]) {
      const cause = await this.o.policy.continuousCause(row)
      if (cause && (await this.o.lifecycle.terminate(row, { cause, by: 'system' })).appended)
        ended++
    }
    return ended
  }

  /** Every live impersonation of an actor or of a target (every page). */
  private async live(
    filter: { actorId: string } | { userId: string },
  ): Promise<ImpersonationRow[]> {
    const rows: ImpersonationRow[] = []
    for (let cursor: string | undefined; ;) {
      const page = await this.o.audit.list({
        ...filter,
        status: 'signed_in',
        limit: 100,
        ...(cursor ? { cursor } : {}),
      })
      rows.push(...page.rows)
      if (!page.next) return rows
      cursor = page.next
    }
  }
}
