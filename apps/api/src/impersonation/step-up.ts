// Step-up before a ticket: `impersonation.start` needs the staff session's first factor (the
// password) verified less than STEP_UP_MINUTES ago, read from the session token's `fva` claim
// (minutes since the first and second factor were verified; -1 = never). The same verdict as
// Clerk's `has({ reverification: { level: 'first_factor', afterMinutes } })` (step-up.test.ts
// compares them); written here so nothing below plugins/auth.ts imports Clerk.
import { ActAsError } from '@actas/contracts'
import type { ReverificationRequirement } from '@actas/contracts'

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
 * first factor is recent enough; `afterMinutes` null: step-up is off.
 */
export function requireRecentFirstFactor(
  factorVerificationAge: readonly [number, number] | null | undefined,
  afterMinutes: number | null | undefined,
): void {
  if (afterMinutes === null || afterMinutes === undefined) return
  if (firstFactorIsRecent(factorVerificationAge, afterMinutes)) return
  throw new ActAsError(
    'REVERIFICATION_REQUIRED',
    `Confirm your password: starting an impersonation needs your password entered within the last ${afterMinutes} minutes.`,
    { reverification: stepUpRequirement(afterMinutes) },
  )
}
