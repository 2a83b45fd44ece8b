// An impersonation's status, end cause and timeline events in plain words, for support staff.
// The Record types keep every status, cause and event type of @actas/contracts worded.
import type {
  EndCause,
  ImpersonationEvent,
  ImpersonationGetOutput,
  ImpersonationEventType,
  ImpersonationMode,
  ImpersonationRecord,
  ImpersonationStatus,
} from '@actas/contracts/client'
import { formatDate } from './format'

/** The status as a word or two (filters, badges). */
export const STATUS_WORDS: Record<ImpersonationStatus, string> = {
  pending: 'Requested',
  issued: 'Issued',
  signed_in: 'Signed in',
  ended: 'Ended',
  expired: 'Expired unused',
  revoked: 'Revoked',
  denied: 'Denied',
  failed: 'Failed',
}

/** Why an impersonation ended, as a sentence; `who` names the staff member for `ended_by_staff`. */
export function causeWords(cause: EndCause, who: string | null): string {
  const words: Record<EndCause, string> = {
    stopped_by_actor: 'Stopped by the staff member',
    ended_by_staff: who ? `Ended by ${who}` : 'Ended by a staff member',
    expired_at_cap: 'Ended at its time limit',
    expired_inactivity: 'Ended after inactivity',
    ticket_expired_unused: 'The ticket expired unused',
    signed_out: 'The session ended in the customer application (signed out or revoked in Clerk)',
    actor_lost_permission: 'Ended by policy: the staff member lost the impersonate permission',
    actor_banned: 'Ended by policy: the staff member was banned',
    actor_locked: 'Ended by policy: the staff member was locked',
    actor_deleted: 'Ended by policy: the staff member was deleted',
    target_became_staff: 'Ended by policy: the customer became staff',
    target_banned: 'Ended by policy: the customer was banned',
    target_locked: 'Ended by policy: the customer was locked',
    target_deleted: 'Ended by policy: the customer was deleted',
    target_became_read_only:
      'Ended by policy: the customer joined an organization impersonated read-only only',
    access_revoked: 'Ended: the customer revoked the access it used (or withdrew consent)',
    access_expired: 'Ended: the access grant it used ran out',
    organization_off: "Ended: the customer's organization switched impersonation off",
  }
  return words[cause]
}

/** `causeWords` plus the staff member's reason, when there is one: "Ended by x@y: why". */
export function endWords(
  cause: EndCause | null,
  who: string | null,
  reason: string | null,
): string | null {
  if (!cause) return null
  const sentence = causeWords(cause, who)
  return reason ? `${sentence}: ${reason}` : sentence
}

/** The status of a record as a sentence: what happened to it, as far as ActAs knows. */
export function statusSentence(
  r: ImpersonationRecord,
  name: (id: string) => string,
  now = Date.now(),
): string {
  switch (r.status) {
    case 'pending':
      return 'Requested; Clerk has not answered yet'
    case 'issued':
      if (!r.expiresAt) return 'Ticket issued, not used yet'
      return new Date(r.expiresAt).getTime() > now
        ? `Ticket issued, not used yet (valid until ${formatDate(r.expiresAt, true)})`
        : `Ticket issued, not used; it expired at ${formatDate(r.expiresAt, true)}`
    case 'signed_in':
      return r.signedInAt ? `Signed in at ${formatDate(r.signedInAt, true)}` : 'Signed in'
    case 'ended':
      return (
        endWords(
          r.endCause,
          r.endedBy && r.endedBy !== 'system' ? name(r.endedBy) : null,
          r.endReason,
        ) ?? 'Ended'
      )
    case 'expired':
      return 'The ticket expired unused'
    case 'revoked':
      return r.endedBy && r.endedBy !== 'system'
        ? `Ticket revoked by ${name(r.endedBy)}`
        : 'Ticket revoked'
    case 'denied':
      return r.outcomeMessage ? `Denied: ${r.outcomeMessage}` : 'Denied'
    case 'failed':
      return r.outcomeMessage ? `Failed: ${r.outcomeMessage}` : 'Failed'
  }
}

const EVENT_TITLES: Record<ImpersonationEventType, string> = {
  requested: 'Requested',
  denied: 'Denied',
  issued: 'Ticket issued',
  failed: 'Failed',
  signed_in: 'Signed in',
  ticket_revoked: 'Ticket revoked',
  ended: 'Ended',
}

/** One timeline event as a sentence; `name` turns a user id into an email (or a name). */
export function eventWords(e: ImpersonationEvent, name: (id: string) => string): string {
  // The email recorded with the event (a kill switch records the ender's), else looked up.
  const recorded = e.data['byEmail']
  const who =
    typeof recorded === 'string' && recorded
      ? recorded
      : e.by && e.by !== 'system'
        ? name(e.by)
        : null
  const message = typeof e.data['message'] === 'string' ? e.data['message'] : null
  // A machine that started or ended it on behalf of the staff member (`via`, docs/m2m.md).
  const via = typeof e.data['via'] === 'string' && e.data['via'] ? e.data['via'] : null
  const through = (words: string) => (via ? `${words}, through the machine ${via}` : words)
  switch (e.type) {
    case 'requested':
      return through(who ? `Requested by ${who}` : 'Requested')
    case 'denied':
    case 'failed':
      return through(message ? `${EVENT_TITLES[e.type]}: ${message}` : EVENT_TITLES[e.type])
    case 'issued':
      return through('Ticket issued')
    case 'signed_in':
      return 'Signed in to the customer application'
    case 'ticket_revoked':
      return who ? `Ticket revoked by ${who}` : 'Ticket revoked'
    case 'ended':
      return through(endWords(e.cause, who, e.reason) ?? 'Ended')
  }
}

/** The access an impersonation grants, when the API says (read-only or full). */
export const MODE_WORDS: Record<ImpersonationMode, string> = {
  read_only: 'Read-only',
  full: 'Full access',
}
export function modeOf(value: object): ImpersonationMode | null {
  const mode = (value as { mode?: unknown }).mode
  return mode === 'read_only' || mode === 'full' ? mode : null
}

/** A request the staff member made in the customer application, when the API reports them. */
export interface CustomerAction {
  method: string
  route: string
  status: number
  at: string
}
export function actionsOf(value: object): CustomerAction[] {
  const actions = (value as { actions?: unknown }).actions
  if (!Array.isArray(actions)) return []
  return actions.filter(
    (a): a is CustomerAction =>
      typeof a === 'object' &&
      a !== null &&
      typeof (a as CustomerAction).method === 'string' &&
      typeof (a as CustomerAction).route === 'string' &&
      typeof (a as CustomerAction).status === 'number' &&
      typeof (a as CustomerAction).at === 'string',
  )
}

/** "12 s ago", "3 min ago", "2 h ago" of an instant, at `now`. */
export function ago(at: string | number | null, now: number): string {
  if (at === null) return '—'
  const ms = now - (typeof at === 'number' ? at : new Date(at).getTime())
  if (!Number.isFinite(ms)) return '—'
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s ago`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ago`
  return `${Math.floor(m / 60)} h ago`
}

/** One line of a timeline: an event of the audit chain, or a request in the customer app. */
export interface TimelineEntry {
  key: string
  at: string
  kind: 'event' | 'action'
  text: string
  detail: string | null
}

/** The events in chain order, with the customer-application requests (if any) slotted in by time. */
export function timelineEntries(
  d: ImpersonationGetOutput,
  name: (id: string) => string,
): TimelineEntry[] {
  const out: TimelineEntry[] = d.events.map((e) => {
    const expires = e.type === 'issued' ? e.data['expiresAt'] : null
    return {
      key: `e${e.seq}`,
      at: e.at,
      kind: 'event',
      text: eventWords(e, name),
      detail:
        typeof expires === 'string'
          ? `valid until ${formatDate(expires, true)}`
          : e.type === 'requested' && e.reason
            ? `reason: ${e.reason}`
            : e.type === 'signed_in' && e.clerkSessionId
              ? `session ${e.clerkSessionId}`
              : null,
    }
  })
  actionsOf(d).forEach((a, n) => {
    const t = new Date(a.at).getTime()
    let i = out.length
    while (i > 0 && new Date(out[i - 1]!.at).getTime() > t) i--
    out.splice(i, 0, {
      key: `a${n}`,
      at: a.at,
      kind: 'action',
      text: `${a.method} ${a.route}`,
      detail: `answered ${a.status}`,
    })
  })
  return out
}
