// Who may be impersonated, by whom. Pure: the same verdict drives the search list's buttons
// and the check inside impersonation.start.
//
// Staff is tied to the staff organizations (STAFF_ORGANIZATIONS, resolved to ids): a target is
// staff when it is a member of any of them, whatever its role there. Memberships and permissions
// in any other organization count for nothing: a customer organization's admin role may carry
// org:admin:impersonate (Clerk's roles belong to the instance) and its admin is still a customer.
import type { ImpersonationVerdict, UserPrincipal } from '@actas/contracts'

export interface PolicyTarget {
  id: string
  banned: boolean
  locked: boolean
  memberships: readonly { organizationId: string }[]
}

export interface PolicyOptions {
  /** The staff organizations' ids: their members (any role) are never impersonated. */
  staffOrganizationIds: ReadonlySet<string>
}

export const POLICY_MESSAGES = {
  impersonated_session:
    'You are in an impersonated session; end it before impersonating anyone (no chains).',
  self: 'You cannot impersonate yourself.',
  staff: 'Staff cannot be impersonated: this user is a member of a staff organization.',
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
  actor: Pick<UserPrincipal, 'userId' | 'actor'>,
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
  if (target.memberships.some((m) => options.staffOrganizationIds.has(m.organizationId))) {
    return deny('staff')
  }
  if (target.banned) return deny('banned')
  if (target.locked) return deny('locked')
  return { allowed: true }
}
