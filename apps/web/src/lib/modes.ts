// Impersonation modes as the console offers them: what a search row's verdict allows.
import type { ImpersonationMode, ImpersonationVerdict } from '@actas/contracts/client'

const BOTH: readonly ImpersonationMode[] = ['read_only', 'full']

/** The modes `impersonation.start` accepts for this user (both when the API did not say). */
export function offeredModes(verdict: ImpersonationVerdict): readonly ImpersonationMode[] {
  return verdict.modes && verdict.modes.length > 0 ? verdict.modes : BOTH
}

/**
 * The mode to preselect: the only one offered (read-only for a read-only-only user), else none:
 * where the policy allows both, the staff member picks (no silent default).
 */
export function preselectedMode(verdict: ImpersonationVerdict): ImpersonationMode | null {
  const offered = offeredModes(verdict)
  return offered.length === 1 ? offered[0]! : null
}
