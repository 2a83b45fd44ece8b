// Impersonation modes as the console offers them: what a search row's verdict allows.
import type { ImpersonationMode, ImpersonationVerdict } from '@actas/contracts/client'

const BOTH: readonly ImpersonationMode[] = ['read_only', 'full']

/** The modes `impersonation.start` accepts for this user (both when the API did not say). */
export function offeredModes(verdict: ImpersonationVerdict): readonly ImpersonationMode[] {
  return verdict.modes && verdict.modes.length > 0 ? verdict.modes : BOTH
}

/** The mode to preselect: the API's choice (read-only for a read-only-only user). */
export function preselectedMode(verdict: ImpersonationVerdict): ImpersonationMode {
  const offered = offeredModes(verdict)
  const wanted = verdict.defaultMode ?? 'full'
  return offered.includes(wanted) ? wanted : offered[0]!
}

export const MODE_LABELS: Record<ImpersonationMode, string> = {
  read_only: 'Read-only',
  full: 'Full access',
}
