// ActAs's outgoing webhooks (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
// `webhook-signature`) turned into notices for the customer: "Support (ada@…) accessed your
// account: <reason>". Only `impersonation.started` and `impersonation.signed_in` make a notice,
// one per impersonation whichever arrives first; `impersonation.ended` and unknown types are
// acknowledged and ignored.
import { z } from 'zod'

/** Who: an `{ id, email }` object, or separate `…Id` / `…Email` fields. */
const PartySchema = z.object({ id: z.string().min(1), email: z.string().nullish() })

/**
 * The event as ActAs sends it: `{ type, timestamp, data }`. The data is read leniently (the
 * fields this example needs: the impersonation, the customer, the staff member's email, the
 * reason); anything else is ignored.
 */
export const ActAsWebhookSchema = z.object({
  type: z.string().min(1),
  data: z
    .object({
      impersonationId: z.string().min(1).optional(),
      id: z.string().min(1).optional(),
      user: PartySchema.optional(),
      userId: z.string().min(1).optional(),
      actor: PartySchema.optional(),
      actorEmail: z.string().nullish(),
      reason: z.string().nullish(),
    })
    .loose(),
})
export type ActAsWebhook = z.infer<typeof ActAsWebhookSchema>

export const NOTICE_EVENTS = ['impersonation.started', 'impersonation.signed_in'] as const

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

/** The notice an event makes, or null when it makes none (another type, or no customer named). */
export function noticeFor(event: ActAsWebhook, at: Date): Notice | null {
  if (!(NOTICE_EVENTS as readonly string[]).includes(event.type)) return null
  const d = event.data
  const userId = d.user?.id ?? d.userId
  const impersonationId = d.impersonationId ?? d.id
  if (!userId || !impersonationId) return null
  const who = maskEmail(d.actor?.email ?? d.actorEmail)
  const reason = d.reason?.trim() || 'no reason given'
  return {
    userId,
    impersonationId,
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
