// The audit chain read in chain order with each event's subject: an impersonation (who acted as
// whom), an access request, or an organization's access setting. What the export
// (`audit.export`) and the log streams page through. One keyset query per page (seq), joined with
// the subjects' projections.
import { and, asc, eq, gt, gte, lt } from 'drizzle-orm'
import {
  ACCESS_EVENT_TYPES,
  ALERT_EVENT_TYPES,
  IMPERSONATION_EVENT_TYPES,
  ORGANIZATION_SETTING_EVENT_TYPES,
} from '@actas/contracts'
import type {
  AccessEventType,
  AlertEventType,
  ImpersonationEvent,
  ImpersonationEventType,
  OrganizationSettingEventType,
} from '@actas/contracts'
import { accessRequests, organizationAccessSettings } from '../access/schema.js'
import type { AuditDatabase } from '../audit/db.js'
import { toEvent } from '../audit/projection.js'
import { auditEvents, impersonations } from '../audit/schema.js'
import {
  ocsfFromAccessEvent,
  ocsfFromAlertEvent,
  ocsfFromEvent,
  ocsfFromOrganizationEvent,
} from './map.js'
import type {
  ChainEvent,
  OcsfAccessRequest,
  OcsfEvent,
  OcsfImpersonation,
  OcsfOptions,
  OcsfOrganizationSetting,
} from './map.js'

/** One chained event with its subject. */
export type FeedEvent =
  | { kind: 'impersonation'; impersonation: OcsfImpersonation; event: ImpersonationEvent }
  | { kind: 'access'; access: OcsfAccessRequest; event: ChainEvent & { type: AccessEventType } }
  | {
      kind: 'organization'
      organization: OcsfOrganizationSetting
      event: ChainEvent & { type: OrganizationSettingEventType }
    }
  /** An alert (src/alerts): its event carries the rule, subject and figures. */
  | { kind: 'alert'; alertId: string; event: ChainEvent & { type: AlertEventType } }

export interface FeedQuery {
  /** Events after this seq (0: from the first). */
  afterSeq: number
  limit: number
  /** Events appended at or after this instant. */
  from?: Date
  /** Events appended before this instant. */
  to?: Date
}

const isOneOf = <T extends string>(list: readonly T[], value: string): value is T =>
  (list as readonly string[]).includes(value)

/** A page of the chain in seq order, after `afterSeq`. */
export async function readFeed(db: AuditDatabase, query: FeedQuery): Promise<FeedEvent[]> {
  const rows = await db
    .select({
      event: auditEvents,
      impersonation: {
        actorId: impersonations.actorId,
        actorEmail: impersonations.actorEmail,
        userId: impersonations.userId,
        userEmail: impersonations.userEmail,
        mode: impersonations.mode,
      },
      access: {
        userId: accessRequests.userId,
        requestedBy: accessRequests.requestedBy,
        mode: accessRequests.mode,
      },
      organization: {
        organizationId: organizationAccessSettings.organizationId,
        organizationName: organizationAccessSettings.organizationName,
      },
    })
    .from(auditEvents)
    .leftJoin(impersonations, eq(impersonations.id, auditEvents.impersonationId))
    .leftJoin(accessRequests, eq(accessRequests.id, auditEvents.impersonationId))
    .leftJoin(
      organizationAccessSettings,
      eq(organizationAccessSettings.subjectId, auditEvents.impersonationId),
    )
    .where(
      and(
        gt(auditEvents.seq, query.afterSeq),
        query.from ? gte(auditEvents.createdAt, query.from) : undefined,
        query.to ? lt(auditEvents.createdAt, query.to) : undefined,
      ),
    )
    .orderBy(asc(auditEvents.seq))
    .limit(query.limit)
  return rows.map((r): FeedEvent => {
    const subject = r.event.impersonationId
    const event = toEvent(r.event) as ChainEvent
    const type = r.event.type
    if (r.impersonation && isOneOf<ImpersonationEventType>(IMPERSONATION_EVENT_TYPES, type))
      return {
        kind: 'impersonation',
        impersonation: {
          id: subject,
          actor: { id: r.impersonation.actorId, email: r.impersonation.actorEmail },
          user: { id: r.impersonation.userId, email: r.impersonation.userEmail },
          mode: r.impersonation.mode,
        },
        event: { ...event, type } as ImpersonationEvent,
      }
    if (r.access && isOneOf<AccessEventType>(ACCESS_EVENT_TYPES, type))
      return {
        kind: 'access',
        access: { id: subject, ...r.access },
        event: { ...event, type },
      }
    if (
      r.organization &&
      isOneOf<OrganizationSettingEventType>(ORGANIZATION_SETTING_EVENT_TYPES, type)
    )
      return {
        kind: 'organization',
        organization: { subjectId: subject, ...r.organization },
        event: { ...event, type },
      }
    if (isOneOf<AlertEventType>(ALERT_EVENT_TYPES, type))
      return { kind: 'alert', alertId: subject, event: { ...event, type } }
    // The subject check of migration 0009 makes this unreachable; never skip an event silently.
    throw new Error(`audit event ${r.event.seq} (${type}) has no subject ActAs knows`)
  })
}

/** The OCSF form of any chained event. */
export function feedToOcsf(e: FeedEvent, options?: OcsfOptions): OcsfEvent {
  switch (e.kind) {
    case 'impersonation':
      return ocsfFromEvent(e.event, e.impersonation, options)
    case 'access':
      return ocsfFromAccessEvent(e.event, e.access, options)
    case 'organization':
      return ocsfFromOrganizationEvent(e.event, e.organization, options)
    case 'alert':
      return ocsfFromAlertEvent(e.event, e.alertId, options)
  }
}

/** ActAs's own form of an impersonation's event with its parties (`format: 'events'`). */
export function feedToEvent(e: FeedEvent & { kind: 'impersonation' }) {
  return {
    ...e.event,
    impersonationId: e.impersonation.id,
    actor: e.impersonation.actor,
    user: e.impersonation.user,
    mode: e.impersonation.mode,
  }
}
