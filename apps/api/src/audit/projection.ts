// The impersonations row is a projection of its events: this file is the one rule that says
// which column each event sets. The append (writes.ts) writes the row with it, in the event's
// transaction; `verify` (verify.ts) recomputes every row from its events with it and reports a
// row that disagrees; migration 0008's triggers refuse any other write. Pure functions.
import { getTableColumns } from 'drizzle-orm'
import type {
  EndCause,
  ImpersonationEvent,
  ImpersonationEventType,
  ImpersonationMode,
  ImpersonationRecord,
  ImpersonationStatus,
} from '@actas/contracts'
import type { ChainedEventFields, EventData, EventDataValue } from './chain.js'
import { cleanText, TEXT_LIMITS } from './clean.js'
import { nextStatus } from './lifecycle.js'
import { impersonations } from './schema.js'
import type { AuditEventRow, ImpersonationRow, NewImpersonationRow } from './schema.js'

/** The impersonations table's columns: property name → column (its SQL name and driver mapping). */
export const IMPERSONATION_COLUMNS = Object.entries(getTableColumns(impersonations))

/**
 * A timestamptz as Postgres writes it in JSON (`2026-11-29T10:00:00.123+00:00`). Stored instants
 * have millisecond precision; finer digits (someone wrote them by hand) make it no instant at
 * all, so the event no longer matches its hash.
 */
export function storedInstant(text: string): Date {
  return /\.\d{4,}/.test(text) ? new Date(Number.NaN) : new Date(text)
}

export function toRecord(row: ImpersonationRow): ImpersonationRecord {
  return {
    id: row.id,
    actor: { id: row.actorId, email: row.actorEmail },
    user: { id: row.userId, email: row.userEmail },
    reason: row.reason,
    ticketUrl: row.ticketUrl,
    mode: row.mode,
    status: row.status,
    outcomeCode: row.outcomeCode,
    outcomeMessage: row.outcomeMessage,
    clerkActorTokenId: row.clerkActorTokenId,
    sessionMinutes: row.sessionMinutes,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    sessionExpiresAt: row.sessionExpiresAt?.toISOString() ?? null,
    clerkSessionId: row.clerkSessionId,
    signedInAt: row.signedInAt?.toISOString() ?? null,
    endedAt: row.endedAt?.toISOString() ?? null,
    endCause: (row.endCause as EndCause | null) ?? null,
    endedBy: row.endedBy,
    endReason: row.endReason,
    attempts: row.attempts,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    requestId: row.requestId,
    ip: row.ip,
    userAgent: row.userAgent,
  }
}

export function toEvent(row: AuditEventRow): ImpersonationEvent {
  return {
    seq: row.seq,
    type: row.type as ImpersonationEventType,
    cause: (row.cause as EndCause | null) ?? null,
    by: row.by,
    reason: row.reason,
    clerkSessionId: row.clerkSessionId,
    data: JSON.parse(row.data) as EventData,
    at: row.createdAt.toISOString(),
    prevHash: row.prevHash,
    hash: row.hash,
  }
}

export function cleanData(data: Record<string, EventDataValue | undefined> = {}): EventData {
  const out: EventData = {}
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue
    const k = cleanText(key, 64)
    out[k] =
      typeof value === 'string'
        ? cleanText(value, k === 'ticketUrl' ? TEXT_LIMITS.ticketUrl : TEXT_LIMITS.message)
        : typeof value === 'number' && !Number.isFinite(value)
          ? null
          : value
  }
  return out
}

const str = (v: EventDataValue | undefined) => (typeof v === 'string' ? v : undefined)
const mode = (v: EventDataValue | undefined): ImpersonationMode | undefined =>
  v === 'read_only' || v === 'full' ? v : undefined
const instant = (v: EventDataValue | undefined) => {
  if (typeof v !== 'string') return undefined
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? undefined : d
}
const int = (v: EventDataValue | undefined) =>
  typeof v === 'number' && Number.isInteger(v) ? v : undefined

/** An event as the projection reads it: its chained fields, the details parsed. */
export type ProjectedEvent = Omit<ChainedEventFields, 'seq' | 'data'> & { data: EventData }

/**
 * The row's columns an event sets (besides status and updated_at). The `requested` event sets the
 * immutable facts (who, whom, why, mode, length, request metadata) from its own fields and data.
 */
export function projection(e: ProjectedEvent): Partial<NewImpersonationRow> {
  const { data, createdAt: at } = e
  const emails: Partial<NewImpersonationRow> = {
    ...(str(data['userEmail']) !== undefined ? { userEmail: str(data['userEmail']) } : {}),
    ...(str(data['actorEmail']) !== undefined ? { actorEmail: str(data['actorEmail']) } : {}),
  }
  switch (e.type as ImpersonationEventType) {
    case 'requested':
      return {
        ...emails,
        id: e.impersonationId,
        actorId: e.by ?? '',
        reason: e.reason ?? '',
        userId: str(data['userId']) ?? '',
        ticketUrl: str(data['ticketUrl']) ?? null,
        sessionMinutes: int(data['sessionMinutes']) ?? 0,
        // The mode asked for, else the configured default it started with (rows from before
        // modes existed: full); the `issued` event says which one was issued.
        mode: mode(data['mode']) ?? mode(data['defaultMode']) ?? 'full',
        actorSessionId: str(data['actorSessionId']) ?? null,
        actorOrganizationId: str(data['actorOrganizationId']) ?? null,
        requestId: str(data['requestId']) ?? null,
        ip: str(data['ip']) ?? null,
        userAgent: str(data['userAgent']) ?? null,
        attempts: int(data['attempts']) ?? 1,
        createdAt: at,
      }
    case 'denied':
    case 'failed':
      return {
        ...emails,
        outcomeCode: str(data['code']) ?? null,
        outcomeMessage: str(data['message']) ?? null,
        endedAt: at,
      }
    case 'issued':
      return {
        ...emails,
        // The mode the ticket was issued with (the policy may make a default read-only).
        ...(mode(data['mode']) ? { mode: mode(data['mode']) } : {}),
        clerkActorTokenId: str(data['clerkActorTokenId']) ?? null,
        expiresAt: instant(data['expiresAt']) ?? null,
        sessionExpiresAt: instant(data['sessionExpiresAt']) ?? null,
      }
    case 'signed_in':
      return { ...emails, clerkSessionId: e.clerkSessionId, signedInAt: at }
    case 'ticket_revoked':
      return { ...emails, revokedBy: e.by, endedAt: at, endedBy: e.by, endReason: e.reason }
    case 'ended':
      return {
        ...emails,
        endedAt: at,
        endCause: e.cause,
        endedBy: e.by,
        endReason: e.reason,
        ...(e.clerkSessionId ? { clerkSessionId: e.clerkSessionId } : {}),
      }
    default:
      return {}
  }
}

/** Every column null: what a row holds before its events set anything. */
const EMPTY_ROW = Object.fromEntries(IMPERSONATION_COLUMNS.map(([key]) => [key, null])) as Record<
  keyof ImpersonationRow,
  null
>

/**
 * The row a timeline (an impersonation's events, oldest first) projects to, or null when it does
 * not start with `requested`. Events the lifecycle would not have appended are skipped, as the
 * append skips them.
 */
export function projectTimeline(events: readonly ProjectedEvent[]): ImpersonationRow | null {
  if (events[0]?.type !== 'requested') return null
  let status: ImpersonationStatus | null = null
  let row: Record<string, unknown> = { ...EMPTY_ROW }
  for (const e of events) {
    const next = nextStatus(status, {
      type: e.type as ImpersonationEventType,
      cause: e.cause as EndCause | null,
    })
    if (next === null) continue
    status = next
    row = { ...row, ...projection(e), status, updatedAt: e.createdAt }
  }
  return row as ImpersonationRow
}

const same = (a: unknown, b: unknown) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b

/** The SQL names of the columns where `row` differs from `projected`. */
export function projectionDiff(row: ImpersonationRow, projected: ImpersonationRow): string[] {
  return IMPERSONATION_COLUMNS.filter(
    ([key]) => !same(row[key as keyof ImpersonationRow], projected[key as keyof ImpersonationRow]),
  ).map(([, column]) => column.name)
}
