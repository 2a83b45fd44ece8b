// Why a user cannot be impersonated, short (for the row) and in full (the policy's sentence).
import type { PolicyRule, UserSummary } from '@actas/contracts/client'

const LABELS: Record<PolicyRule, string> = {
  self: 'You',
  staff: 'Staff',
  banned: 'Banned',
  locked: 'Locked',
  impersonated_session: 'Not from this session',
  machine: 'Not allowed',
  read_only_target: 'Read-only',
  consent_required: 'Consent needed',
  approval_required: 'Approval needed',
  organization_off: 'Organization off',
  grant_exceeded: 'Beyond the grant',
}

const SENTENCES: Record<PolicyRule, string> = {
  self: 'You cannot impersonate yourself.',
  staff: 'Staff members cannot be impersonated.',
  banned: 'Banned users cannot be impersonated.',
  locked: 'Locked users cannot be impersonated.',
  impersonated_session: 'An impersonated session cannot start another impersonation.',
  machine: 'Only people can start an impersonation.',
  read_only_target: 'This user may only be impersonated read-only.',
  consent_required: "This user's consent is required: request access.",
  approval_required: "A second staff member's approval is required: request access.",
  organization_off: "This user's organization does not allow impersonation.",
  grant_exceeded: 'The access granted allows less than this: stay within its mode and window.',
}

export interface WhyNot {
  /** One word for the row: "You", "Staff", "Banned", "Locked". */
  label: string
  /** The full sentence (the API's own wording when it gave one). */
  sentence: string
}

/** Null when the user may be impersonated. */
export function whyNot(user: UserSummary): WhyNot | null {
  const verdict = user.impersonation
  if (verdict.allowed) return null
  const rule = verdict.rule
  return {
    label: rule ? LABELS[rule] : 'Not allowed',
    sentence: verdict.reason ?? (rule ? SENTENCES[rule] : 'This user may not be impersonated.'),
  }
}
