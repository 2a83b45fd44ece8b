// The console's deadline (`impersonation.start`'s `deadline`): the instant after which it no
// longer waits for the answer. A ticket issued after it would reach nobody yet be billed, and the
// staff member, told "it did not start", would start again (a second bill). So past the deadline
// the API asks Clerk for nothing, and a ticket Clerk hands over after it is revoked at once: the
// start fails (its `failed` event says why) and the answer says it did not start.
import { ActAsError } from '@actas/contracts'
import type { Logger } from 'pino'

export interface DeadlineDeps {
  now: () => Date
  logger: Logger
  directory: { revokeActorToken(actorTokenId: string): Promise<void> }
}

function pastDeadline(message: string): ActAsError {
  return new ActAsError('SERVICE_UNAVAILABLE', message, { retryAfterSeconds: 1 })
}

/**
 * Asks Clerk for an actor token (`ask`) only before `deadline` (an ISO instant; absent: no
 * deadline), and revokes it at once when Clerk answered after it. Throws SERVICE_UNAVAILABLE
 * saying no ticket was issued; the caller records it as the start's `failed` event.
 */
export async function actorTokenWithin<T extends { id: string }>(
  deadline: string | undefined,
  deps: DeadlineDeps,
  ask: () => Promise<T>,
): Promise<T> {
  if (deadline === undefined) return ask()
  const until = Date.parse(deadline)
  if (deps.now().getTime() >= until)
    throw pastDeadline(
      'The console had stopped waiting before Clerk was asked, so no ticket was issued. It did not start; start again.',
    )
  const token = await ask()
  if (deps.now().getTime() < until) return token
  try {
    await deps.directory.revokeActorToken(token.id)
  } catch (error) {
    // Never used by anyone (the ticket is not handed out): it expires unused.
    deps.logger.error(
      { err: error, clerkActorTokenId: token.id },
      'could not revoke an actor token Clerk issued after the deadline',
    )
  }
  throw pastDeadline(
    `Clerk answered after the console had stopped waiting, so its ticket (${token.id}) was revoked at once. It did not start; start again.`,
  )
}
