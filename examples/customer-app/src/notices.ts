// ActAs's outgoing webhooks (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
// `webhook-signature`) turned into notices for the customer: "Support (ada@…) accessed your
// account: <reason>". Only `impersonation.started` and `impersonation.signed_in` make a notice,
// one per impersonation whichever arrives first; `impersonation.ended` and unknown types are
// acknowledged and ignored.
import type { ActAsWebhook } from '@actas/contracts'

export interface Notice {
  /** The customer it is for. */
  userId: string
  impersonationId: string
  text: string
  at: string
}

/** `ada@support.example.com` → `ada@…`: the customer learns who, not the staff domain. */
export function maskEmail(email: string | null | undefined): string {
  if (!email) return 'a staff member'
  const at = email.indexOf('@')
  return at > 0 ? `${email.slice(0, at)}@…` : 'a staff member'
}

/** The notice an event makes (`started`, `signed_in`), or null (`ended`). */
export function noticeFor(event: ActAsWebhook, at: Date): Notice | null {
  if (event.type === 'impersonation.ended') return null
  const d = event.data
  const reason = d.reason.trim() || 'no reason given'
  const who = maskEmail(d.actor.email)
  return {
    userId: d.user.id,
    impersonationId: d.impersonationId,
    text: `Support (${who}) accessed your account: ${reason}`,
    at: at.toISOString(),
  }
}

/** Notices per customer, one per impersonation; webhook ids already handled are remembered. */
export class NoticeBoard {
  private readonly byUser = new Map<string, Notice[]>()
  private readonly impersonations = new Set<string>()
  private readonly deliveries = new Set<string>()

  /** False when this delivery (`webhook-id`) was handled before (a retry). */
  firstDelivery(webhookId: string): boolean {
    if (this.deliveries.has(webhookId)) return false
    this.deliveries.add(webhookId)
    return true
  }

  add(notice: Notice): boolean {
    if (this.impersonations.has(notice.impersonationId)) return false
    this.impersonations.add(notice.impersonationId)
    const list = this.byUser.get(notice.userId) ?? []
    list.push(notice)
    this.byUser.set(notice.userId, list)
    return true
  }

  of(userId: string): Notice[] {
    return [...(this.byUser.get(userId) ?? [])]
  }
}
