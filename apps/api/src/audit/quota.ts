// IMPERSONATION_QUOTA_MODE=block: a start past the plan's monthly limit is refused before Clerk
// is asked, atomically. The count and the reservation happen in one transaction under a
// transaction-scoped advisory lock, so two starts (in this process or in another instance on
// the same Postgres) can never both take the last slot. A slot is held by an `issued` or
// `revoked` row with an actor token (what Clerk bills, as `quota()` counts) or by a `pending`
// row whose reservation (`expires_at`, set here) is still live: a start that fails afterwards
// turns its row `failed` and frees the slot; one whose process died frees it when the
// reservation expires (the ticket's lifetime).
import { and, count, eq, gt, gte, inArray, isNotNull, or, sql } from 'drizzle-orm'
import type { AuditDatabase } from './db.js'
import { impersonations } from './schema.js'

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
      const [held] = await tx
        .select({ n: count() })
        .from(impersonations)
        .where(
          and(
            gte(impersonations.createdAt, periodStart),
            or(
              and(
                inArray(impersonations.status, ['issued', 'revoked']),
                isNotNull(impersonations.clerkActorTokenId),
              ),
              and(eq(impersonations.status, 'pending'), gt(impersonations.expiresAt, now)),
            ),
          ),
        )
      if ((held?.n ?? 0) >= limit) return false
      await tx
        .update(impersonations)
        .set({ expiresAt: reservedUntil })
        .where(eq(impersonations.id, id))
      return true
    })
  }
}
