// The access model's one rule: which event may follow which, and what each event sets on the
// request's row. The store appends an event only when `applyAccessEvent` allows it (under the
// chain head's lock), so a settled status is reached at most once and never left; `audit:verify`
// recomputes every row from its events with `projectAccess`. Pure functions.
//
// ```
// (none)   --requested-->            pending   (a staff member asks: needs consent and/or approval)
// (none)   --granted-->              granted   (the customer grants unasked)
// pending  --approved(customer)-->   pending   (consent given; once per request, only if needed)
// pending  --approved(staff)-->      pending   (second staff member's approval; likewise)
// pending  --granted-->              granted   (only when every approval it needs is in)
// pending  --denied-->               denied
// pending  --expired(undecided)-->   expired
// pending  --revoked-->              revoked   (the requester withdraws it)
// granted  --revoked-->              revoked
// granted  --expired(window_ended)-> expired
// any      --refused-->              (unchanged: a refusal recorded)
// ```
import type {
  AccessApprover,
  AccessEventType,
  AccessExpiryCause,
  AccessStatus,
  ImpersonationMode,
} from '@actas/contracts'
import type { EventData } from '../audit/chain.js'
import type { AccessRequestRow } from './schema.js'

/** An access event as the model reads it (stored or about to be appended). */
export interface AccessEvent {
  type: AccessEventType
  cause?: string | null
  by?: string | null
  reason?: string | null
  data: EventData
  createdAt: Date
}

/** The row's columns that events set (all but `id`). */
export type AccessProjection = Omit<AccessRequestRow, 'id'>

const str = (d: EventData, k: string): string | null => {
  const v = d[k]
  return typeof v === 'string' ? v : null
}
const num = (d: EventData, k: string): number | null => {
  const v = d[k]
  return typeof v === 'number' ? v : null
}
const date = (d: EventData, k: string): Date | null => {
  const v = str(d, k)
  return v === null ? null : new Date(v)
}
const mode = (d: EventData, k: string): ImpersonationMode | null => {
  const v = str(d, k)
  return v === 'read_only' || v === 'full' ? v : null
}

/** Whether every approval the request needs is in. */
export function fullyApproved(
  row: Pick<AccessProjection, 'needsConsent' | 'needsApproval' | 'consentedBy' | 'approvedBy'>,
): boolean {
  return (
    (!row.needsConsent || row.consentedBy !== null) &&
    (!row.needsApproval || row.approvedBy !== null)
  )
}

/**
 * The row after `event`, or null when the event cannot happen now (it is then not appended).
 * `row` null: the event must start a timeline (`requested`, or `granted` unasked).
 */
export function applyAccessEvent(
  row: AccessProjection | null,
  event: AccessEvent,
): AccessProjection | null {
  const d = event.data
  const at = event.createdAt
  if (row === null) {
    const userId = str(d, 'userId')
    const m = mode(d, 'mode')
    const minutes = num(d, 'minutes')
    if (!userId || !m || minutes === null || !event.by) return null
    const base = {
      userId,
      reason: event.reason ?? '',
      mode: m,
      minutes,
      consentedBy: null,
      approvedBy: null,
      decideBy: null,
      grantMode: null,
      grantedAt: null,
      grantEndsAt: null,
      grantNote: null,
      settledAt: null,
      settledBy: null,
      settledCause: null,
      settledReason: null,
      refusals: 0,
      createdAt: at,
      updatedAt: at,
    } satisfies Partial<AccessProjection>
    if (event.type === 'access.requested') {
      const needsConsent = d['needsConsent'] === true
      const needsApproval = d['needsApproval'] === true
      if (!needsConsent && !needsApproval) return null
      return {
        ...base,
        requestedBy: event.by,
        needsConsent,
        needsApproval,
        status: 'pending',
        decideBy: date(d, 'decideBy'),
      }
    }
    if (event.type === 'access.granted') {
      // Unasked: the customer is the user, and its consent is the grant.
      if (event.by !== userId) return null
      const endsAt = date(d, 'endsAt')
      if (!endsAt) return null
      return {
        ...base,
        requestedBy: null,
        needsConsent: true,
        needsApproval: false,
        consentedBy: event.by,
        status: 'granted',
        grantMode: m,
        grantedAt: at,
        grantEndsAt: endsAt,
        grantNote: event.reason ?? null,
      }
    }
    return null
  }
  const next = { ...row, updatedAt: at }
  if (event.type === 'access.refused') return { ...next, refusals: row.refusals + 1 }
  const settle = (status: AccessStatus, cause: string | null): AccessProjection => ({
    ...next,
    status,
    settledAt: at,
    settledBy: event.by ?? null,
    settledCause: cause,
    settledReason: event.reason ?? null,
  })
  switch (row.status) {
    case 'pending':
      switch (event.type) {
        case 'access.approved': {
          const approver = str(d, 'approver') as AccessApprover | null
          if (!event.by) return null
          if (approver === 'customer') {
            if (!row.needsConsent || row.consentedBy !== null || event.by !== row.userId)
              return null
            return { ...next, consentedBy: event.by }
          }
          if (approver === 'staff') {
            if (!row.needsApproval || row.approvedBy !== null || event.by === row.requestedBy)
              return null
            return { ...next, approvedBy: event.by }
          }
          return null
        }
        case 'access.granted': {
          const endsAt = date(d, 'endsAt')
          const m = mode(d, 'mode')
          if (!fullyApproved(row) || !endsAt || !m) return null
          // Never more than was asked.
          if (row.mode === 'read_only' && m === 'full') return null
          return {
            ...next,
            status: 'granted',
            grantMode: m,
            grantedAt: at,
            grantEndsAt: endsAt,
            grantNote: str(d, 'note'),
          }
        }
        case 'access.denied':
          return event.by ? settle('denied', str(d, 'approver')) : null
        case 'access.expired':
          return event.cause === ('undecided' satisfies AccessExpiryCause)
            ? settle('expired', 'undecided')
            : null
        case 'access.revoked':
          return settle('revoked', event.cause ?? null)
        default:
          return null
      }
    case 'granted':
      switch (event.type) {
        case 'access.revoked':
          return settle('revoked', event.cause ?? null)
        case 'access.expired':
          return event.cause === ('window_ended' satisfies AccessExpiryCause)
            ? settle('expired', 'window_ended')
            : null
        default:
          return null
      }
    default:
      return null // settled
  }
}

/** The row a timeline leads to (events the model refuses are skipped), or null. */
export function projectAccess(events: readonly AccessEvent[]): AccessProjection | null {
  let row: AccessProjection | null = null
  for (const e of events) row = applyAccessEvent(row, e) ?? row
  return row
}

/** A grant usable now: granted, within its window. */
export function liveGrant(
  row: Pick<AccessRequestRow, 'status' | 'grantEndsAt'>,
  now: Date,
): boolean {
  return row.status === 'granted' && row.grantEndsAt !== null && now < row.grantEndsAt
}
