// Step-up before a ticket: `impersonation.start` needs the staff session's first factor (the
// password) verified less than STEP_UP_MINUTES ago, read from the session token's `fva` claim
// (minutes since the first and second factor were verified; -1 = never). The same verdict as
// Clerk's `has({ reverification: { level: 'first_factor', afterMinutes } })` (step-up.test.ts
// compares them); written here so nothing below plugins/auth.ts imports Clerk. A return to the
// console (Stop's sign-in token) does not count as a verification: see StepUp.
import { ActAsError, SESSION_MINUTES_MAX } from '@actas/contracts'
import type { ReverificationRequirement, UserPrincipal } from '@actas/contracts'
import type { ImpersonationRow } from '../audit/schema.js'
import type { AuditStore } from '../audit/store.js'
import type { UserDirectory } from '../directory/user-directory.js'

/** Whether the first factor was verified less than `afterMinutes` minutes ago. */
export function firstFactorIsRecent(
  factorVerificationAge: readonly [number, number] | null | undefined,
  afterMinutes: number,
): boolean {
  if (!Array.isArray(factorVerificationAge) || factorVerificationAge.length !== 2) return false
  const [first, second] = factorVerificationAge
  const valid = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && (x === -1 || x >= 0)
  if (!valid(first) || !valid(second) || first === -1) return false
  return first < afterMinutes
}

/** What the console must do before starting: verify the first factor again. */
export function stepUpRequirement(afterMinutes: number): ReverificationRequirement {
  return { level: 'first_factor', afterMinutes }
}

/**
 * Throws REVERIFICATION_REQUIRED (403, Clerk's reverification hint in the data) unless the
 * first factor is recent enough; `afterMinutes` null: step-up is off. `act` names what needs it.
 */
export function requireRecentFirstFactor(
  factorVerificationAge: readonly [number, number] | null | undefined,
  afterMinutes: number | null | undefined,
  act = 'starting an impersonation',
): void {
  if (afterMinutes === null || afterMinutes === undefined) return
  if (firstFactorIsRecent(factorVerificationAge, afterMinutes)) return
  throw new ActAsError(
    'REVERIFICATION_REQUIRED',
    `Confirm your password: ${act} needs your password entered within the last ${afterMinutes} minutes.`,
    { reverification: stepUpRequirement(afterMinutes) },
  )
}

/** Whose first-factor verification counts: the staff member's id, session and `fva` claim. */
type Verified = Pick<UserPrincipal, 'userId' | 'sessionId' | 'factorVerificationAge'>

/** What an `ended` event of a Stop that offered the way back records (its `data`). */
export interface ReturnTrace {
  /** A return ticket was offered to the staff member. */
  returnOffered: true
  /** The staff member's last real first-factor verification before it (ISO), or null. */
  actorVerifiedAt: string | null
}

/** How far apart ActAs's and Clerk's clocks may be when telling a return session from an older one. */
const CLOCK_SKEW_MS = 5_000
/** A return ticket lives at most this long (lifecycle.ts's cap on RETURN ticket life). */
const RETURN_TICKET_MAX_MS = 60_000

/** The earliest instant a token's `fva[0]` allows for the first factor's verification (null: never). */
export function verifiedSince(
  factorVerificationAge: readonly [number, number] | null | undefined,
  nowMs: number,
): number | null {
  if (!firstFactorIsRecent(factorVerificationAge, Number.POSITIVE_INFINITY)) return null
  return nowMs - (factorVerificationAge![0] + 1) * 60_000
}

export interface StepUpOptions {
  /** STEP_UP_MINUTES; null or absent: off. */
  afterMinutes: number | null | undefined
  audit: Pick<AuditStore, 'list' | 'events'>
  directory: Pick<UserDirectory, 'getSession'>
  now: () => Date
}

/**
 * Step-up that survives a return to the console. Signing back in with Stop's return ticket
 * gives the staff member a session whose `fva` is fresh though no password was typed; so when
 * the staff member's session was created after a return ticket was offered to them, its own
 * verification counts only once it is provably later than the session's creation (`fva` is in
 * whole minutes), and until then the verification carried over from the impersonation it came
 * back from (recorded in that Stop's `ended` event) is what counts.
 */
export class StepUp {
  constructor(private readonly o: StepUpOptions) {}

  /**
   * Throws REVERIFICATION_REQUIRED unless the staff member's last real first-factor verification
   * is recent enough; answers it (ISO, the earliest instant it may have been), for the
   * impersonation's `issued` event, or null when step-up is off.
   */
  async require(principal: Verified): Promise<string | null> {
    const after = this.o.afterMinutes
    if (after === null || after === undefined) return null
    requireRecentFirstFactor(principal.factorVerificationAge, after)
    const nowMs = this.o.now().getTime()
    const since = verifiedSince(principal.factorVerificationAge, nowMs)!
    const carried = await this.carriedVerification(principal, nowMs, after, since)
    if (carried === undefined) return new Date(since).toISOString()
    if (carried === null || nowMs - carried >= after * 60_000)
      throw new ActAsError(
        'REVERIFICATION_REQUIRED',
        `Confirm your password: you came back from an impersonation with a sign-in link, and starting another needs your password entered within the last ${after} minutes.`,
        { reverification: stepUpRequirement(after) },
      )
    return new Date(carried).toISOString()
  }

  /**
   * undefined: the session's own verification is real. Else the verification carried over from
   * the last return (null: none known): the session came from a return ticket and shows no
   * verification provably after its creation.
   */
  private async carriedVerification(
    principal: Verified,
    nowMs: number,
    afterMinutes: number,
    since: number,
  ): Promise<number | null | undefined> {
    let trace
    try {
      trace = await this.lastReturn(principal.userId, nowMs, afterMinutes)
    } catch (error) {
      if (error instanceof ActAsError) throw error
      throw new ActAsError(
        'SERVICE_UNAVAILABLE',
        'The audit log could not be read, so no ticket was issued.',
        { retryAfterSeconds: 5, cause: error },
      )
    }
    // The verification's latest possible instant is before the return: it is not the ticket's.
    if (!trace || since + 60_000 < trace.at - CLOCK_SKEW_MS) return undefined
    const session = principal.sessionId
      ? await this.o.directory.getSession(principal.sessionId)
      : null
    const createdAt = session?.createdAt ?? null
    // A session older than the return, or created after its ticket expired: not the ticket's.
    if (
      createdAt !== null &&
      (createdAt < trace.at - CLOCK_SKEW_MS ||
        createdAt > trace.at + RETURN_TICKET_MAX_MS + CLOCK_SKEW_MS)
    )
      return undefined
    // Born of the return ticket (or after it): its own verification counts once provably later.
    if (createdAt !== null && since > createdAt + CLOCK_SKEW_MS) return undefined
    return trace.actorVerifiedAt
  }

  /**
   * The latest return ticket offered to `actorId` that a session still passing `fva` could have
   * come from (offered within the last `afterMinutes` + 2 minutes), read from the audit log:
   * every page of the actor's recently ended impersonations, and the `ended` event of the latest
   * Stop that offered the way back.
   */
  private async lastReturn(
    actorId: string,
    nowMs: number,
    afterMinutes: number,
  ): Promise<{ at: number; actorVerifiedAt: number | null } | null> {
    const window = (afterMinutes + 2) * 60_000 + RETURN_TICKET_MAX_MS
    // Rows created before the window's start by at most an impersonation's longest life.
    const from = new Date(nowMs - window - (SESSION_MINUTES_MAX + 60) * 60_000).toISOString()
    const stops: ImpersonationRow[] = []
    for (let cursor: string | undefined; ;) {
      const page = await this.o.audit.list({
        actorId,
        status: 'ended',
        from,
        limit: 100,
        ...(cursor ? { cursor } : {}),
      })
      for (const row of page.rows)
        if (
          row.endCause === 'stopped_by_actor' &&
          row.endedAt &&
          row.endedAt.getTime() >= nowMs - window
        )
          stops.push(row)
      if (!page.next) break
      cursor = page.next
    }
    stops.sort((a, b) => b.endedAt!.getTime() - a.endedAt!.getTime())
    for (const row of stops) {
      const ended = (await this.o.audit.events(row.id)).find((e) => e.type === 'ended')
      const data = ended ? (JSON.parse(ended.data) as Record<string, unknown>) : {}
      if (data['returnOffered'] !== true) continue
      const verified =
        typeof data['actorVerifiedAt'] === 'string' ? Date.parse(data['actorVerifiedAt']) : NaN
      return {
        at: ended!.createdAt.getTime(),
        actorVerifiedAt: Number.isNaN(verified) ? null : verified,
      }
    }
    return null
  }
}

/** The staff member's verification an impersonation started with (its `issued` event), or null. */
export function returnVerification(
  events: readonly { type: string; data: string }[],
): string | null {
  const issued = events.find((e) => e.type === 'issued')
  const data = issued ? (JSON.parse(issued.data) as Record<string, unknown>) : {}
  const at = data['actorVerifiedAt']
  return typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? at : null
}
