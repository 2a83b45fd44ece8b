// Prometheus metrics (prom-client) of one API process. The counters and histograms are moved by
// one-line calls where things happen (the start's outcome in impersonation/service.ts, Clerk calls
// in directory/clerk-directory.ts, refusals in rate-limit.ts, ends in audit/writes.ts and
// sessions/revocations.ts); the gauges that describe the shared database (live impersonations,
// the outbox, the audit head and its last signed checkpoint) are read from it when scraped, so
// every instance reports the same truth. Served by plugin.ts (METRICS_PORT or METRICS_TOKEN).
import { sql } from 'drizzle-orm'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import {
  BILLED_IMPERSONATION_STATUSES,
  OPEN_IMPERSONATION_STATUSES,
  WEBHOOK_DELIVERY_STATUSES,
} from '@actas/contracts'
import type { AuditDatabase } from '../audit/db.js'
import { sqlList } from '../audit/schema.js'

/** The live gauge's statuses: open with a ticket Clerk issued (unused yet) or a session signed in. */
const LIVE_STATUSES = OPEN_IMPERSONATION_STATUSES.filter((s) =>
  (BILLED_IMPERSONATION_STATUSES as readonly string[]).includes(s),
)
/** The outbox gauge's statuses: every message not delivered (the backlog and dead letters). */
const UNDELIVERED_STATUSES = WEBHOOK_DELIVERY_STATUSES.filter((s) => s !== 'delivered')

/** One registry per process (several apps in one test process share it; each scrape reads it). */
export const registry = new Registry()
collectDefaultMetrics({ register: registry, prefix: 'actas_process_' })

const starts = new Counter({
  name: 'actas_impersonation_starts_total',
  help: 'impersonation.start attempts by outcome (issued, denied, failed) and rule or error code',
  labelNames: ['outcome', 'rule'] as const,
  registers: [registry],
})

const sessionSeconds = new Histogram({
  name: 'actas_impersonation_session_seconds',
  help: 'Length of impersonated sessions, sign-in to end, observed by the instance that ended it',
  buckets: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200],
  registers: [registry],
})

const clerkCalls = new Counter({
  name: 'actas_clerk_requests_total',
  help: "Calls to Clerk's Backend API by route and outcome (ok, or the error code)",
  labelNames: ['route', 'outcome'] as const,
  registers: [registry],
})

const clerkSeconds = new Histogram({
  name: 'actas_clerk_request_duration_seconds',
  help: "Latency of calls to Clerk's Backend API by route",
  labelNames: ['route'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
})

const revocationLag = new Histogram({
  name: 'actas_revocation_lag_seconds',
  help: 'From an impersonation ending (recorded) to this instance refusing its session',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  registers: [registry],
})

const rateLimited = new Counter({
  name: 'actas_rate_limit_refusals_total',
  help: 'Requests refused by a rate limit, by limit',
  labelNames: ['limit'] as const,
  registers: [registry],
})

/** The database the scrape-time gauges read (set by the metrics plugin). */
let database: AuditDatabase | null = null

interface Snapshot {
  live: { status: string; n: number }[]
  outbox: { status: string; n: number; oldest: number | null }[]
  head: { seq: number; checkpointSeq: number; checkpointAge: number | null } | null
}

let pending: Promise<Snapshot | null> | null = null

/** One read of the shared state per scrape (the gauges' collect() calls share it). */
function snapshot(): Promise<Snapshot | null> {
  const db = database
  if (!db) return Promise.resolve(null)
  pending ??= (async () => {
    try {
      const rows = <T>(r: unknown) => (r as { rows: T[] }).rows
      const live = rows<{ status: string; n: string | number }>(
        await db.execute(
          sql`select status, count(*) as n from impersonations where status in (${sqlList(LIVE_STATUSES)}) group by status`,
        ),
      )
      const outbox = rows<{ status: string; n: string | number; oldest: string | number | null }>(
        await db.execute(
          sql`select status, count(*) as n, extract(epoch from now() - min(created_at)) as oldest from webhook_outbox where status in (${sqlList(UNDELIVERED_STATUSES)}) group by status`,
        ),
      )
      const head = rows<{
        seq: string | number
        checkpoint_seq: string | number
        age: string | number | null
      }>(
        await db.execute(
          sql`select seq, checkpoint_seq, extract(epoch from now() - checkpoint_at) as age from audit_chain_head where id = 1`,
        ),
      )[0]
      return {
        live: live.map((r) => ({ status: r.status, n: Number(r.n) })),
        outbox: outbox.map((r) => ({
          status: r.status,
          n: Number(r.n),
          oldest: r.oldest === null ? null : Number(r.oldest),
        })),
        head: head
          ? {
              seq: Number(head.seq),
              checkpointSeq: Number(head.checkpoint_seq),
              checkpointAge: head.age === null ? null : Number(head.age),
            }
          : null,
      }
    } catch {
      // The database is unavailable: the counters are still served (readyz says the rest).
      return null
    } finally {
      // The next scrape reads again.
      setImmediate(() => (pending = null))
    }
  })()
  return pending
}

new Gauge({
  name: 'actas_impersonations_live',
  help: 'Impersonations not settled: tickets issued and not used yet, sessions signed in',
  labelNames: ['status'] as const,
  registers: [registry],
  async collect() {
    const s = await snapshot()
    this.reset()
    for (const status of LIVE_STATUSES)
      this.set({ status }, s?.live.find((r) => r.status === status)?.n ?? 0)
  },
})

new Gauge({
  name: 'actas_webhook_outbox_messages',
  help: 'Webhook messages to the host not delivered: pending (the backlog) and dead letters',
  labelNames: ['status'] as const,
  registers: [registry],
  async collect() {
    const s = await snapshot()
    this.reset()
    for (const status of UNDELIVERED_STATUSES)
      this.set({ status }, s?.outbox.find((r) => r.status === status)?.n ?? 0)
  },
})

new Gauge({
  name: 'actas_webhook_outbox_oldest_pending_seconds',
  help: 'Age of the oldest webhook message still pending (0 when none)',
  registers: [registry],
  async collect() {
    const s = await snapshot()
    this.set(s?.outbox.find((r) => r.status === 'pending')?.oldest ?? 0)
  },
})

new Gauge({
  name: 'actas_audit_head_seq',
  help: 'Sequence number of the audit chain head',
  registers: [registry],
  async collect() {
    this.set((await snapshot())?.head?.seq ?? 0)
  },
})

new Gauge({
  name: 'actas_audit_checkpoint_seq',
  help: 'Sequence number the last signed checkpoint covers (0: none yet)',
  registers: [registry],
  async collect() {
    this.set((await snapshot())?.head?.checkpointSeq ?? 0)
  },
})

new Gauge({
  name: 'actas_audit_checkpoint_age_seconds',
  help: 'Age of the last signed audit checkpoint (absent until there is one)',
  registers: [registry],
  async collect() {
    this.reset()
    const age = (await snapshot())?.head?.checkpointAge
    if (age !== null && age !== undefined) this.set(age)
  },
})

/** Lets the scrape-time gauges read `db` (the audit database of this process). */
export function bindMetricsDatabase(db: AuditDatabase | null): void {
  database = db
}

/** An `impersonation.start` answered: `issued`, or refused (`denied`/`failed`) by a rule or code. */
export function countStart(outcome: 'issued' | 'denied' | 'failed', rule?: string | null): void {
  starts.inc({ outcome, rule: rule ?? '' })
}

/** An impersonation that had signed in ended (`signedInAt` → `endedAt`). */
export function observeSessionEnd(row: { signedInAt: Date | null; endedAt: Date | null }): void {
  if (row.signedInAt && row.endedAt)
    sessionSeconds.observe((row.endedAt.getTime() - row.signedInAt.getTime()) / 1000)
}

/** This instance learnt of an end `ms` after it was recorded. */
export function observeRevocationLag(ms: number): void {
  revocationLag.observe(Math.max(0, ms) / 1000)
}

/** A request refused by the rate limit `limit` (a procedure, or `unverified-ip`). */
export function countRateLimited(limit: string): void {
  rateLimited.inc({ limit })
}

/** `/v1/users/user_2x…/organization_memberships` → `/v1/users/:id/organization_memberships`. */
export function clerkRoute(path: string): string {
  return path
    .split('?')[0]!
    .split('/')
    .map((s) => (/^[a-z]+_[A-Za-z0-9]+$|^\d+$|@|%/.test(s) ? ':id' : s))
    .join('/')
}

/** Times one call to Clerk under `route` and counts its outcome (`ok`, or the error's code). */
export async function timeClerkCall<T>(route: string, call: () => Promise<T>): Promise<T> {
  const end = clerkSeconds.startTimer({ route })
  try {
    const result = await call()
    clerkCalls.inc({ route, outcome: 'ok' })
    return result
  } catch (error) {
    const code = (error as { code?: unknown; status?: unknown } | null)?.code
    const status = (error as { status?: unknown } | null)?.status
    clerkCalls.inc({
      route,
      outcome:
        typeof code === 'string' && /^[A-Za-z_]{1,40}$/.test(code)
          ? code
          : typeof status === 'number'
            ? String(status)
            : 'error',
    })
    throw error
  } finally {
    end()
  }
}
