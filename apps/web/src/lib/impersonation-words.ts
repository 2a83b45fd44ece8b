// How an impersonation ended, and why Stop could not bring the staff member back, in plain words.
import type { EndCause, ImpersonationEnded, ReturnRefusal } from '@actas/contracts/client'

const POLICY: Partial<Record<EndCause, string>> = {
  actor_lost_permission:
    'Ended by policy: the staff member no longer has the impersonation permission',
  actor_banned: 'Ended by policy: the staff account was banned',
  actor_locked: 'Ended by policy: the staff account was locked',
  actor_deleted: 'Ended by policy: the staff account was deleted',
  target_became_staff: 'Ended by policy: this user joined a staff organization',
  target_banned: 'Ended by policy: this user was banned',
  target_locked: 'Ended by policy: this user was locked',
  target_deleted: 'Ended by policy: this user was deleted',
}

/** "Ended by grace@support.example: Wrong customer", or the policy or expiry cause. */
export function endedSentence(ended: ImpersonationEnded): string {
  const cause = ended.cause
  if (cause === 'ended_by_staff') {
    const who = ended.endedBy?.email ?? 'a staff member'
    return ended.reason ? `Ended by ${who}: ${ended.reason}` : `Ended by ${who}`
  }
  if (cause && POLICY[cause]) return POLICY[cause]
  switch (cause) {
    case 'stopped_by_actor':
      return 'Stopped from another tab'
    case 'expired_at_cap':
      return 'Ended: the impersonation reached its time limit'
    case 'expired_inactivity':
      return 'Ended after a period of inactivity'
    case 'signed_out':
      return 'Ended: the session was signed out'
    case 'ticket_expired_unused':
      return 'Ended: the ticket expired unused'
    default:
      return ended.status === 'revoked'
        ? 'Ended: the ticket was revoked'
        : 'Ended: this impersonation is no longer live'
  }
}

/** "12 min", "40 s", "1 h 5 min": how long an impersonation lasted. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return `${minutes} min`
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  return m ? `${h} h ${m} min` : `${h} h`
}

/** Why the staff member must sign in again after Stop (no return ticket came back). */
export function returnRefusedSentence(refusal: ReturnRefusal | null): string {
  switch (refusal) {
    case 'no_secret':
    case 'secret_mismatch':
      return 'Only the tab that started the impersonation can take you back without a password. Sign in again to return to the console.'
    case 'disabled':
      return 'Returning to the console without a password is turned off here. Sign in again to return to the console.'
    case 'past_cap':
      return 'The impersonation had reached its time limit. Sign in again to return to the console.'
    case 'actor_not_allowed':
      return 'Your account no longer has the impersonation permission. Sign in again; an administrator can restore it.'
    case 'clerk_unavailable':
      return 'Clerk could not sign you back in just now. Sign in again to return to the console.'
    default:
      return 'Sign in again to return to the console.'
  }
}
