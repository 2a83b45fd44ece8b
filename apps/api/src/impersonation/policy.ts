// Who may be impersonated, by whom. Pure: the same verdict drives the search list's buttons
// and the check inside impersonation.start.
import { IMPERSONATE_PERMISSION } from '@actas/contracts'
import type { ImpersonationVerdict, UserPrincipal } from '@actas/contracts'

export interface PolicyTarget {
  id: string
  banned: boolean
  locked: boolean
  memberships: readonly { organizationId: string; permissions: readonly string[] }[]
}

export interface PolicyOptions {
  /** Organizations whose members are staff, besides the actor's active organization. */
  staffOrganizationIds: readonly string[]
}

export const POLICY_MESSAGES = {
  impersonated_session:
    'You are in an impersonated session; end it before impersonating anyone (no chains).',
  self: 'You cannot impersonate yourself.',
  staff:
    'Staff cannot be impersonated: this user belongs to the support organization or may impersonate others.',
  banned: 'This user is banned.',
  locked: 'This user is locked.',
  machine: 'Machines cannot impersonate: starting an impersonation is a human act with a reason.',
} as const

/** The verdict every search row carries for a machine caller. */
export const MACHINE_VERDICT: ImpersonationVerdict = {
  allowed: false,
  rule: 'machine',
  reason: POLICY_MESSAGES.machine,
}

export function evaluateImpersonation(
  actor: Pick<UserPrincipal, 'userId' | 'orgId' | 'actor'>,
  target: PolicyTarget,
  options: PolicyOptions,
): ImpersonationVerdict {
  const deny = (rule: keyof typeof POLICY_MESSAGES): ImpersonationVerdict => ({
    allowed: false,
    rule,
    reason: POLICY_MESSAGES[rule],
  })
  if (actor.actor) return deny('impersonated_session')
  if (target.id === actor.userId) return deny('self')
  const staffOrgs = new Set(options.staffOrganizationIds)
  if (actor.orgId) staffOrgs.add(actor.orgId)
  const isStaff = target.memberships.some(
    (m) => staffOrgs.has(m.organizationId) || m.permissions.includes(IMPERSONATE_PERMISSION),
  )
  if (isStaff) return deny('staff')
  if (target.banned) return deny('banned')
  if (target.locked) return deny('locked')
  return { allowed: true }
}
