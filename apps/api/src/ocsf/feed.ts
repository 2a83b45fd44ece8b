// The audit chain read in chain order with who acted as whom: what the export (`audit.export`)
// and the log streams page through. One keyset query per page (seq), joined with the
// impersonations projection for the parties.
import { and, asc, eq, gt, gte, lt } from 'drizzle-orm'
import type { ImpersonationEvent } from '@actas/contracts'
import type { AuditDatabase } from '../audit/db.js'
import { toEvent } from '../audit/projection.js'
import { auditEvents, impersonations } from '../audit/schema.js'
import { ocsfFromEvent } from './map.js'
import type { OcsfEvent, OcsfImpersonation, OcsfOptions } from './map.js'

/** One chained event with its impersonation's parties. */
export interface FeedEvent {
  impersonation: OcsfImpersonation
  event: ImpersonationEvent
}

export interface FeedQuery {
  /** Events after this seq (0: from the first). */
  afterSeq: number
  limit: number
  /** Events appended at or after this instant. */
  from?: Date
  /** Events appended before this instant. */
  to?: Date
}

/** A page of the chain in seq order, after `afterSeq`. */
export async function readFeed(db: AuditDatabase, query: FeedQuery): Promise<FeedEvent[]> {
  const rows = await db
    .select({
      event: auditEvents,
      actorId: impersonations.actorId,
      actorEmail: impersonations.actorEmail,
      userId: impersonations.userId,
      userEmail: impersonations.userEmail,
      mode: impersonations.mode,
    })
    .from(auditEvents)
    .innerJoin(impersonations, eq(impersonations.id, auditEvents.impersonationId))
    .where(
      and(
        gt(auditEvents.seq, query.afterSeq),
        query.from ? gte(auditEvents.createdAt, query.from) : undefined,
        query.to ? lt(auditEvents.createdAt, query.to) : undefined,
      ),
    )
    .orderBy(asc(auditEvents.seq))
    .limit(query.limit)
  return rows.map((r) => ({
    impersonation: {
      id: r.event.impersonationId,
      actor: { id: r.actorId, email: r.actorEmail },
      user: { id: r.userId, email: r.userEmail },
      mode: r.mode,
    },
    event: toEvent(r.event),
  }))
}

export const feedToOcsf = (e: FeedEvent, options?: OcsfOptions): OcsfEvent =>
  ocsfFromEvent(e.event, e.impersonation, options)
