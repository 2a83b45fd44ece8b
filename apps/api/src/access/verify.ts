// `audit:verify`'s check of the access model's projections: every access request row (or those
// with events after `afterSeq`) recomputed from its events with the model (model.ts) and compared
// column by column, and every organization's setting against its last event. Called by
// audit/verify.ts after the chain itself verified.
import { and, gt, inArray, like, or } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import type { AccessEventType } from '@actas/contracts'
import type { ChainBreak, EventData, StoredEvent } from '../audit/chain.js'
import type { AuditDatabase } from '../audit/db.js'
import { auditEvents } from '../audit/schema.js'
import { projectAccess } from './model.js'
import type { AccessProjection } from './model.js'
import { accessRequests, organizationAccessSettings } from './schema.js'

/** The events of the access model (`access.*`, `organization.*`), by type. */
export const ACCESS_MODEL_EVENTS: SQL = or(
  like(auditEvents.type, 'access.%'),
  like(auditEvents.type, 'organization.%'),
)!

const CHUNK = 500

const same = (a: unknown, b: unknown) =>
  a instanceof Date || b instanceof Date
    ? (a as Date | null)?.getTime() === (b as Date | null)?.getTime()
    : a === b

export async function verifyAccessProjection(
  db: AuditDatabase,
  afterSeq: number | null,
  storedEvents: (where: SQL) => Promise<StoredEvent[]>,
): Promise<{ rows: number; firstBroken: ChainBreak | null }> {
  const subjects = await db
    .selectDistinct({ id: auditEvents.impersonationId })
    .from(auditEvents)
    .where(and(ACCESS_MODEL_EVENTS, afterSeq === null ? undefined : gt(auditEvents.seq, afterSeq)))
  const ids = subjects.map((s) => s.id)
  let rows = 0
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK)
    const [requests, settings, events] = await Promise.all([
      db.select().from(accessRequests).where(inArray(accessRequests.id, chunk)),
      db
        .select()
        .from(organizationAccessSettings)
        .where(inArray(organizationAccessSettings.subjectId, chunk)),
      storedEvents(inArray(auditEvents.impersonationId, chunk)),
    ])
    const timelines = new Map<string, StoredEvent[]>()
    for (const e of events)
      timelines.set(e.impersonationId, [...(timelines.get(e.impersonationId) ?? []), e])
    const byId = new Map(requests.map((r) => [r.id, r]))
    const bySubject = new Map(settings.map((s) => [s.subjectId, s]))
    for (const id of chunk) {
      rows += 1
      const timeline = timelines.get(id) ?? []
      const lastSeq = timeline.at(-1)?.seq ?? 0
      const broken = (reason: string) => ({ rows, firstBroken: { seq: lastSeq, reason } })
      const setting = bySubject.get(id)
      if (setting) {
        const last = timeline.at(-1)
        const data = last ? (JSON.parse(last.data) as EventData) : {}
        if (
          !last ||
          data['to'] !== setting.setting ||
          data['organizationId'] !== setting.organizationId ||
          data['organizationName'] !== setting.organizationName ||
          last.by !== setting.changedBy ||
          last.createdAt.getTime() !== setting.changedAt.getTime()
        )
          return broken(
            `the organization_access_settings row of ${setting.organizationId} disagrees with its events: it was changed outside the event append`,
          )
        continue
      }
      const row = byId.get(id)
      const projected = projectAccess(
        timeline
          .filter((e) => e.type.startsWith('access.'))
          .map((e) => ({
            type: e.type as AccessEventType,
            cause: e.cause,
            by: e.by,
            reason: e.reason,
            data: JSON.parse(e.data) as EventData,
            createdAt: e.createdAt,
          })),
      )
      if (!row || !projected)
        return broken(
          `the access request ${id} has no row or no timeline starting with its first event`,
        )
      const columns = (Object.keys(projected) as (keyof AccessProjection)[]).filter(
        (k) => !same(row[k], projected[k]),
      )
      if (columns.length > 0)
        return broken(
          `the access request ${id} disagrees with its events (${columns.join(', ')}): it was changed outside the event append`,
        )
    }
  }
  return { rows, firstBroken: null }
}
