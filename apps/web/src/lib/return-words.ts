// The impersonated tab's words: how its impersonation ended (the banner), how long it lasted and
// why Stop could not bring the staff member back without a password.
import type {
  ImpersonationEnded,
  ImpersonationGetOutput,
  ReturnRefusal,
} from '@actas/contracts/client'
import { endWords } from './impersonation-words'

/**
 * "Ended by grace@support.example: Wrong customer", or the policy or expiry cause in the audit
 * page's words ("Ended by policy: the staff member lost the impersonate permission").
 */
export function endedSentence(ended: ImpersonationEnded): string {
  const who = ended.endedBy?.email ?? null
  const words = endWords(ended.cause, ended.cause === 'ended_by_staff' ? who : null, ended.reason)
  if (words) return words
  return ended.status === 'revoked'
    ? 'Ended: the ticket was revoked'
    : 'Ended: this impersonation is no longer live'
}

/**
 * How an impersonation ended while its tab was in the host application (a colleague's end, a
 * policy, the time limit), from the record the staff member's own console reads once they signed
 * in again (`impersonation.get`): in the words of the impersonated tab's banner (`endedSentence`),
 * with whom they acted as. The ender's email is the one recorded with the end.
 */
export function endedWhileAwaySentence(record: ImpersonationGetOutput, userName: string): string {
  if (!record.endCause && record.status !== 'revoked')
    return `Your impersonation of ${userName} has ended.`
  const end = record.events.findLast((e) => e.type === 'ended' || e.type === 'ticket_revoked')
  const recorded = end?.data['byEmail']
  const email =
    typeof recorded === 'string' && recorded
      ? recorded
      : record.endedBy === record.actor.id
        ? record.actor.email
        : null
  const sentence = endedSentence({
    impersonationId: record.id,
    status: record.status,
    cause: record.endCause,
    endedBy: record.endedBy ? { id: record.endedBy, email } : null,
    reason: record.endReason,
    endedAt: record.endedAt,
  })
  return `${sentence}. You are no longer acting as ${userName}.`
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
