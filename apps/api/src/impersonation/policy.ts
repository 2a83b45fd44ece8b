// Who may be impersonated, by whom. Pure: the same verdict drives the search list's buttons
// and the check inside impersonation.start.
//
// Staff is tied to the staff organizations (STAFF_ORGANIZATIONS, resolved to ids): a target is
// staff when it is a member of any of them, whatever its role there. Memberships and permissions
// in any other organization count for nothing: a customer organization's admin role may carry
// org:admin:impersonate (Clerk's roles belong to the instance) and its admin is still a customer.
//
// Modes: a target who is a member of a read-only organization (READ_ONLY_ORGANIZATIONS) may only
// be impersonated read-only; anyone else in either mode, the configured default preselected.
import type { ImpersonationMode, ImpersonationVerdict, UserPrincipal } from '@actas/contracts'

export interface PolicyTarget {
  id: string
  banned: boolean
  locked: boolean
  memberships: readonly { organizationId: string }[]
}

export interface PolicyOptions {
  /** The staff organizations' ids: their members (any role) are never impersonated. */
  staffOrganizationIds: ReadonlySet<string>
  /** READ_ONLY_ORGANIZATIONS, id → name: their members are impersonated read-only only. */
  readOnlyOrganizations?: ReadonlyMap<string, string>
  /** The mode to preselect when the target allows both (IMPERSONATION_DEFAULT_MODE; default full). */
  defaultMode?: ImpersonationMode
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
  const readOnlyIn = readOnlyOrganizationsOf(target, options)
  if (readOnlyIn.length > 0) {
    return {
      allowed: true,
      modes: ['read_only'],
      defaultMode: 'read_only',
      modeReason: readOnlyReason(readOnlyIn),
    }
  }
  return { allowed: true, modes: ['read_only', 'full'], defaultMode: options.defaultMode ?? 'full' }
}

/** The names of the read-only organizations `target` is a member of (none: any mode). */
export function readOnlyOrganizationsOf(
  target: Pick<PolicyTarget, 'memberships'>,
  options: Pick<PolicyOptions, 'readOnlyOrganizations'>,
): string[] {
  const readOnly = options.readOnlyOrganizations
  if (!readOnly || readOnly.size === 0) return []
  const names = target.memberships.flatMap((m) => {
    const name = readOnly.get(m.organizationId)
    return name === undefined ? [] : [name]
  })
  return [...new Set(names)]
}

/** Why only read-only: the organizations named (READ_ONLY_ORGANIZATIONS). */
export function readOnlyReason(organizationNames: readonly string[]): string {
  const list = organizationNames.join(', ')
  return `Members of ${list} may only be impersonated read-only (READ_ONLY_ORGANIZATIONS).`
}
