// Clerk's `last_sign_in_at` counts an impersonation's ticket sign-in as the customer's own. A
// search row says when it was one: the audit log knows when each impersonation of the user was
// requested and when it signed in, and Clerk's last sign-in falls in that window.

/** Clock and recording slack between Clerk's sign-in time and ActAs's (its event is later). */
const SLACK_MS = 5_000

/**
 * Whether `lastSignInAt` (Clerk's, ms) was the ticket sign-in of `latest`, the user's latest
 * impersonation that signed in (null: none). Requested → signed in (as recorded) bounds it.
 */
export function lastSignInWasImpersonation(
  lastSignInAt: number | null,
  latest: { requestedAt: Date; signedInAt: Date } | undefined,
): boolean {
  if (lastSignInAt === null || !latest) return false
  return (
    lastSignInAt >= latest.requestedAt.getTime() - SLACK_MS &&
    lastSignInAt <= latest.signedInAt.getTime() + SLACK_MS
  )
}
