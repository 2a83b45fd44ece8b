// IMPERSONATION_QUOTA_MODE=block: a start past the plan's monthly limit is refused before Clerk
// is asked, atomically. The count and the reservation happen in one transaction under a
// transaction-scoped advisory lock, so two starts (in this process or in another instance on
// the same Postgres) can never both take the last slot. A slot is held by every ticket Clerk
// billed this month (its `issued` event: billedSinceQuery, exactly what `quota` reports), whatever
// happened to it after, or by a start in flight: a reservation (quota_reservations) of a row
// still `pending` whose `expires_at` is ahead. A start that fails afterwards turns its row
// `failed` and frees the slot; one whose process died frees it when the reservation expires
// (the ticket's lifetime). Reservations live outside the impersonations projection, which only
// the event append writes.
import { and, count, eq, gt, sql } from 'drizzle-orm'
import { billedSinceQuery } from './counts.js'
import type { AuditDatabase } from './db.js'
import { impersonations, quotaReservations } from './schema.js'

/** Arbitrary, fixed: the advisory lock key of the quota (one per database). */
const QUOTA_LOCK_KEY = 7_411_001

export class QuotaGate {
  constructor(private readonly db: AuditDatabase) {}

  /**
   * Takes a slot for the pending row `id` when fewer than `limit` are held since
   * `periodStart`; the reservation lasts until `reservedUntil`. False when the quota is used up.
   */
  async reserve(id: string, limit: number, periodStart: Date, reservedUntil: Date, now: Date) {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${QUOTA_LOCK_KEY})`)
      const [billed] = await billedSinceQuery(tx, periodStart)
      const [reserved] = await tx
        .select({ n: count() })
        .from(quotaReservations)
        .innerJoin(impersonations, eq(impersonations.id, quotaReservations.impersonationId))
        .where(
          and(
            gt(quotaReservations.expiresAt, now),
            // Once `issued` (or `failed`), the event holds the slot (or none does).
            eq(impersonations.status, 'pending'),
          ),
        )
      if ((billed?.n ?? 0) + (reserved?.n ?? 0) >= limit) return false
      await tx
        .insert(quotaReservations)
        .values({ impersonationId: id, expiresAt: reservedUntil })
        .onConflictDoUpdate({
          target: quotaReservations.impersonationId,
          set: { expiresAt: reservedUntil },
        })
      return true
    })
  }
}
