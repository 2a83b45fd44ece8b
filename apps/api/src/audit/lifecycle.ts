// An impersonation's status is a function of its events: this is the one place that says which
// event may follow which, and what status results. The store appends an event only when
// `nextStatus` allows it (under the row's lock), so a terminal status is reached at most once
// and never left; duplicates and late deliveries (a webhook after the end) are no-ops.
import { TERMINAL_IMPERSONATION_STATUSES } from '@actas/contracts'
import type { EndCause, ImpersonationEventType, ImpersonationStatus } from '@actas/contracts'

export interface LifecycleEvent {
  type: ImpersonationEventType
  cause?: EndCause | null | undefined
}

const TERMINAL: ReadonlySet<ImpersonationStatus> = new Set(TERMINAL_IMPERSONATION_STATUSES)

export function isTerminal(status: ImpersonationStatus): boolean {
  return TERMINAL.has(status)
}

/**
 * The status after `event`, or null when the event cannot happen now (it is then not appended):
 *
 * ```
 * (none)    --requested-->  pending
 * pending   --issued-->     issued      --denied/failed--> denied / failed
 * issued    --signed_in-->  signed_in
 * issued    --ticket_revoked--> revoked
 * issued    --ended(ticket_expired_unused)--> expired
 * issued    --ended(any other cause)--> ended   (the end was heard before the sign-in)
 * issued    --failed-->     failed      (the ticket sign-in failed)
 * signed_in --ended(any cause but ticket_expired_unused)--> ended
 * ```
 */
export function nextStatus(
  current: ImpersonationStatus | null,
  event: LifecycleEvent,
): ImpersonationStatus | null {
  if (current === null) return event.type === 'requested' ? 'pending' : null
  switch (current) {
    case 'pending':
      if (event.type === 'issued') return 'issued'
      if (event.type === 'denied') return 'denied'
      if (event.type === 'failed') return 'failed'
      return null
    case 'issued':
      if (event.type === 'signed_in') return 'signed_in'
      if (event.type === 'ticket_revoked') return 'revoked'
      if (event.type === 'failed') return 'failed'
      if (event.type === 'ended' && event.cause)
        return event.cause === 'ticket_expired_unused' ? 'expired' : 'ended'
      return null
    case 'signed_in':
      if (event.type === 'ended' && event.cause && event.cause !== 'ticket_expired_unused')
        return 'ended'
      return null
    default:
      return null // terminal
  }
}

/** The status a sequence of events leads to (events `nextStatus` refuses are skipped). */
export function deriveStatus(events: readonly LifecycleEvent[]): ImpersonationStatus | null {
  let status: ImpersonationStatus | null = null
  for (const e of events) status = nextStatus(status, e) ?? status
  return status
}
