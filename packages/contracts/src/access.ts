// Access requests: the customer's consent, the two-person rule, and an organization's own
// setting. One model in the audit chain: a request (a staff member asks to act as a user) is
// approved or denied, becomes a grant (a window and a mode that starts may use), and ends revoked
// or expired; a customer may also grant access unasked. Each step is an event of the chain
// (ACCESS_EVENT_TYPES); an organization's setting changes are events too
// (ORGANIZATION_SETTING_EVENT_TYPES). Browser-safe: zod only.
import { z } from 'zod'
import { IMPERSONATION_MODES, REASON_MAX_LENGTH, REASON_MIN_LENGTH } from './facts.js'

/**
 * What can happen to an access request or grant; each one event of the chain, its `cause`,
 * `by` and `reason` saying why and who:
 * - `access.requested`: a staff member asks (data: userId, mode, minutes wanted, what it needs);
 * - `access.approved`: the customer (consent) or a second staff member (approval) agrees;
 * - `access.denied`: either of them refuses (a reason is required of staff);
 * - `access.granted`: the grant exists (window, mode, note): every approval it needed is in, or
 *   the customer granted it unasked;
 * - `access.revoked`: ended early (the customer, an organization admin, staff);
 * - `access.expired`: undecided too long (`cause: undecided`), or the window ended
 *   (`cause: window_ended`);
 * - `access.refused`: someone tried something they may not (decide their own request, decide for
 *   another user, decide a settled request): recorded, the status unchanged.
 */
export const ACCESS_EVENT_TYPES = [
  'access.requested',
  'access.approved',
  'access.denied',
  'access.granted',
  'access.revoked',
  'access.expired',
  'access.refused',
] as const
export const AccessEventTypeSchema = z.enum(ACCESS_EVENT_TYPES)
export type AccessEventType = z.infer<typeof AccessEventTypeSchema>

/** A customer organization's own setting was changed by one of its admins (data: from, to). */
export const ORGANIZATION_SETTING_EVENT_TYPES = ['organization.access_setting_changed'] as const
export type OrganizationSettingEventType = (typeof ORGANIZATION_SETTING_EVENT_TYPES)[number]

/** Every event type of the access model (the chain's other events are impersonations'). */
export const ACCESS_MODEL_EVENT_TYPES = [
  ...ACCESS_EVENT_TYPES,
  ...ORGANIZATION_SETTING_EVENT_TYPES,
] as const

/** Why an access grant or request expired (the `cause` of `access.expired`). */
export const ACCESS_EXPIRY_CAUSES = ['undecided', 'window_ended'] as const
export type AccessExpiryCause = (typeof ACCESS_EXPIRY_CAUSES)[number]

/**
 * An access request's status, derived from its events: `pending` (asked, a decision is
 * outstanding), `granted` (a live grant: starts may use it within its window and mode), and the
 * settled ones: `denied`, `expired`, `revoked`.
 */
export const ACCESS_STATUSES = ['pending', 'granted', 'denied', 'expired', 'revoked'] as const
export const AccessStatusSchema = z.enum(ACCESS_STATUSES)
export type AccessStatus = z.infer<typeof AccessStatusSchema>

/** What each status says: `open` (an event can still leave it), `settled` (none ever will). */
const ACCESS_STATUS_FACTS = {
  pending: { open: true, settled: false },
  granted: { open: true, settled: false },
  denied: { open: false, settled: true },
  expired: { open: false, settled: true },
  revoked: { open: false, settled: true },
} as const satisfies Record<AccessStatus, { open: boolean; settled: boolean }>

/** Statuses an event can still leave. */
export const OPEN_ACCESS_STATUSES = ACCESS_STATUSES.filter((s) => ACCESS_STATUS_FACTS[s].open)
/** Statuses no event leaves: every request ends in exactly one of these. */
export const SETTLED_ACCESS_STATUSES = ACCESS_STATUSES.filter((s) => ACCESS_STATUS_FACTS[s].settled)

/** Who gives an approval: the customer acted upon (consent) or a second staff member. */
export const ACCESS_APPROVERS = ['customer', 'staff'] as const
export type AccessApprover = (typeof ACCESS_APPROVERS)[number]

/**
 * A customer organization's own setting: impersonation of its members `allowed` (the
 * deployment's rules apply), `consent_required` (each member's consent, whatever the deployment
 * says), or `off` (nobody may impersonate them; live impersonations end).
 */
export const ORGANIZATION_ACCESS_SETTINGS = ['allowed', 'consent_required', 'off'] as const
export const OrganizationAccessSettingSchema = z.enum(ORGANIZATION_ACCESS_SETTINGS)
export type OrganizationAccessSetting = z.infer<typeof OrganizationAccessSettingSchema>

/**
 * The permission, in a staff organization, that lets a staff member decide other staff members'
 * access requests (the two-person rule). Separate from `org:admin:impersonate`.
 */
export const APPROVE_ACCESS_PERMISSION = 'org:admin:approve_access'

/** Undecided requests expire after this many days unless configured (ACCESS_REQUEST_EXPIRY_DAYS). */
export const ACCESS_REQUEST_EXPIRY_DAYS_DEFAULT = 14

/** The longest grant: a year (Salesforce, Zendesk); the shortest: five minutes. */
export const ACCESS_GRANT_MINUTES_MIN = 5
export const ACCESS_GRANT_MINUTES_MAX = 366 * 24 * 60

export const AccessIdSchema = z.uuid()
export type AccessId = z.infer<typeof AccessIdSchema>
export const AccessModeSchema = z.enum(IMPERSONATION_MODES)
export const AccessReasonSchema = z.string().trim().min(REASON_MIN_LENGTH).max(REASON_MAX_LENGTH)
