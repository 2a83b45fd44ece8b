// Access requests: the customer's consent, the two-person rule, and an organization's own
// setting. One model in the audit chain: a request (a staff member asks to act as a user) is
// approved or denied, becomes a grant (a window and a mode that starts may use), and ends revoked
// or expired; a customer may also grant access unasked. Each step is an event of the chain
// (ACCESS_EVENT_TYPES); an organization's setting changes are events too
// (ORGANIZATION_SETTING_EVENT_TYPES). Browser-safe: zod only.
import { z } from 'zod'
import { IMPERSONATION_MODES, REASON_MAX_LENGTH, REASON_MIN_LENGTH } from './facts.js'
import type { RequestInfo, StaffPrincipal, UserPrincipal } from './ports.js'
import { CursorSchema, InstantSchema, UserIdSchema } from './schemas/common.js'

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

// ---- records ----------------------------------------------------------------------------------

const Instant = InstantSchema
const UserId = UserIdSchema
const Cursor = CursorSchema
const OrganizationId = z
  .string()
  .min(5)
  .max(64)
  .regex(/^org_[A-Za-z0-9]+$/, 'must be a Clerk organization id (org_…)')

/** A staff member as shown: to staff, always by id and email; to a customer, as the host chooses. */
export const AccessPersonSchema = z.object({
  id: z.string().nullable(),
  /** How the host shows staff to customers (CUSTOMER_STAFF_DISPLAY): a name, an email, or "Support". */
  label: z.string(),
})
export type AccessPerson = z.infer<typeof AccessPersonSchema>

/** One access request or grant, with its decisions. */
export const AccessRecordSchema = z.object({
  id: AccessIdSchema,
  user: z.object({ id: z.string() }),
  /** Who asked (null: the customer granted access unasked). */
  requestedBy: AccessPersonSchema.nullable(),
  reason: z.string(),
  mode: AccessModeSchema,
  /** The window asked for (or granted), minutes. */
  minutes: z.number().int(),
  status: AccessStatusSchema,
  needs: z.object({ consent: z.boolean(), approval: z.boolean() }),
  consentedBy: z.string().nullable(),
  approvedBy: AccessPersonSchema.nullable(),
  /** Undecided by then: it expires. */
  decideBy: Instant.nullable(),
  grant: z
    .object({ mode: AccessModeSchema, from: Instant, until: Instant, note: z.string().nullable() })
    .nullable(),
  settled: z
    .object({
      at: Instant,
      by: z.string().nullable(),
      cause: z.string().nullable(),
      reason: z.string().nullable(),
    })
    .nullable(),
  createdAt: Instant,
  updatedAt: Instant,
})
export type AccessRecord = z.infer<typeof AccessRecordSchema>

export const AccessListOutputSchema = z.object({
  items: z.array(AccessRecordSchema),
  next: Cursor.nullable(),
})
export type AccessListOutput = z.infer<typeof AccessListOutputSchema>

// ---- staff: access.* ----------------------------------------------------------------------

export const AccessRequestInputSchema = z.strictObject({
  userId: UserId,
  reason: AccessReasonSchema,
  mode: AccessModeSchema.default('read_only'),
  /** How long the grant should last once given (default 60 minutes, at most 30 days). */
  minutes: z
    .number()
    .int()
    .min(ACCESS_GRANT_MINUTES_MIN)
    .max(30 * 24 * 60)
    .default(60),
})
export type AccessRequestInput = z.input<typeof AccessRequestInputSchema>
export type AccessRequestParams = z.output<typeof AccessRequestInputSchema>

/**
 * `mine`: the caller's own requests (optionally for one user: the console's state of a request);
 * `to_decide`: other staff members' pending requests that need a staff approval (approvers).
 */
export const AccessListInputSchema = z.strictObject({
  view: z.enum(['mine', 'to_decide']).default('mine'),
  userId: UserId.optional(),
  status: AccessStatusSchema.optional(),
  cursor: Cursor.optional(),
  limit: z.number().int().min(1).max(100).default(20),
})
export type AccessListInput = z.input<typeof AccessListInputSchema>
export type AccessListParams = z.output<typeof AccessListInputSchema>

export const AccessListStaffOutputSchema = AccessListOutputSchema.extend({
  /** Pending requests the caller may decide (the nav's count); 0 for staff who may not. */
  toDecide: z.number().int().min(0),
  /**
   * Whether the caller holds APPROVE_ACCESS_PERMISSION in its active staff organization, by its
   * session's claims (for display: the list and count ask Clerk nothing; `access.decide` re-reads
   * the permission from Clerk).
   */
  mayApprove: z.boolean(),
})
export type AccessListStaffOutput = z.infer<typeof AccessListStaffOutputSchema>

export const AccessDecisionSchema = z.enum(['approve', 'deny'])
export type AccessDecision = z.infer<typeof AccessDecisionSchema>

/** A decision; denying requires a reason. */
export const AccessDecideInputSchema = z
  .strictObject({
    accessId: AccessIdSchema,
    decision: AccessDecisionSchema,
    reason: z.string().trim().max(REASON_MAX_LENGTH).optional(),
  })
  .refine((v) => v.decision === 'approve' || (v.reason ?? '').length >= REASON_MIN_LENGTH, {
    path: ['reason'],
    message: `a denial needs a reason (at least ${REASON_MIN_LENGTH} characters)`,
  })
export type AccessDecideInput = z.input<typeof AccessDecideInputSchema>

// ---- customer: customer.* -------------------------------------------------------------------

/** The customer's decision on a request for their own account (they may narrow it). */
export const CustomerDecideInputSchema = z.strictObject({
  accessId: AccessIdSchema,
  decision: AccessDecisionSchema,
  reason: z.string().trim().max(REASON_MAX_LENGTH).optional(),
  /** Narrower than asked: read-only instead of full. */
  mode: AccessModeSchema.optional(),
  /** Shorter than asked. */
  minutes: z.number().int().min(ACCESS_GRANT_MINUTES_MIN).max(ACCESS_GRANT_MINUTES_MAX).optional(),
})
export type CustomerDecideInput = z.input<typeof CustomerDecideInputSchema>

/** "Let support in for 24 h, read-only." */
export const CustomerGrantInputSchema = z.strictObject({
  mode: AccessModeSchema.default('read_only'),
  minutes: z
    .number()
    .int()
    .min(ACCESS_GRANT_MINUTES_MIN)
    .max(ACCESS_GRANT_MINUTES_MAX)
    .default(24 * 60),
  note: z.string().trim().max(REASON_MAX_LENGTH).optional(),
})
export type CustomerGrantInput = z.input<typeof CustomerGrantInputSchema>

export const CustomerRevokeInputSchema = z.strictObject({
  accessId: AccessIdSchema,
  reason: z.string().trim().max(REASON_MAX_LENGTH).optional(),
})
export type CustomerRevokeInput = z.infer<typeof CustomerRevokeInputSchema>

export const CustomerListInputSchema = z
  .strictObject({
    cursor: Cursor.optional(),
    limit: z.number().int().min(1).max(100).default(20),
  })
  .default({ limit: 20 })
export type CustomerListInput = z.input<typeof CustomerListInputSchema>

/** One time support acted as the customer. */
export const CustomerHistoryItemSchema = z.object({
  impersonationId: z.uuid(),
  staff: AccessPersonSchema,
  /** The customer, when the history is an organization's. */
  user: z.object({ id: z.string() }),
  reason: z.string(),
  mode: AccessModeSchema,
  status: z.string(),
  startedAt: Instant,
  endedAt: Instant.nullable(),
  /** How long it lasted (so far, while live), seconds. */
  seconds: z.number().int().min(0),
  /** Requests the impersonated session made in the application (the guard's action trail). */
  actions: z.number().int().min(0),
})
export type CustomerHistoryItem = z.infer<typeof CustomerHistoryItemSchema>

export const CustomerHistoryOutputSchema = z.object({
  items: z.array(CustomerHistoryItemSchema),
  next: Cursor.nullable(),
})
export type CustomerHistoryOutput = z.infer<typeof CustomerHistoryOutputSchema>

export const OrganizationInputSchema = z.strictObject({ organizationId: OrganizationId })
export type OrganizationInput = z.infer<typeof OrganizationInputSchema>

export const OrganizationSettingOutputSchema = z.object({
  organizationId: z.string(),
  setting: OrganizationAccessSettingSchema,
  changedBy: z.string().nullable(),
  changedAt: Instant.nullable(),
})
export type OrganizationSettingOutput = z.infer<typeof OrganizationSettingOutputSchema>

export const OrganizationSettingSetInputSchema = z.strictObject({
  organizationId: OrganizationId,
  setting: OrganizationAccessSettingSchema,
})
export type OrganizationSettingSetInput = z.infer<typeof OrganizationSettingSetInputSchema>

export const OrganizationHistoryInputSchema = z.strictObject({
  organizationId: OrganizationId,
  cursor: Cursor.optional(),
  limit: z.number().int().min(1).max(100).default(20),
})
export type OrganizationHistoryInput = z.input<typeof OrganizationHistoryInputSchema>

// ---- webhooks to the host ---------------------------------------------------------------------

/**
 * Events that are not the host's news: a refusal changes nothing the customer could be told of
 * (it stays in the audit chain).
 */
const ACCESS_EVENTS_NOT_SENT = ['access.refused'] as const satisfies readonly AccessEventType[]
type AccessWebhookType = Exclude<AccessEventType, (typeof ACCESS_EVENTS_NOT_SENT)[number]>
const isSent = (t: AccessEventType): t is AccessWebhookType =>
  !(ACCESS_EVENTS_NOT_SENT as readonly AccessEventType[]).includes(t)

/** The access model's messages to the host (the host tells the customer: email, in-app): every
 * access event but those in ACCESS_EVENTS_NOT_SENT. */
export const ACCESS_WEBHOOK_TYPES = ACCESS_EVENT_TYPES.filter(isSent) as [
  AccessWebhookType,
  ...AccessWebhookType[],
]

export const AccessWebhookSchema = z.object({
  type: z.enum(ACCESS_WEBHOOK_TYPES),
  timestamp: Instant,
  data: z.object({
    accessId: AccessIdSchema,
    user: z.object({ id: z.string() }),
    /** The staff member who asked (null: granted unasked by the customer). */
    requestedBy: z.object({ id: z.string() }).nullable(),
    reason: z.string(),
    mode: AccessModeSchema,
    status: AccessStatusSchema,
    /** Who acted: the customer, a staff member, `system` (expiry). */
    by: z.string().nullable(),
    /** The approval's or denial's party. */
    approver: z.enum(ACCESS_APPROVERS).nullable(),
    /**
     * Why, for an end: `access.revoked` by the `customer`, or `superseded` (the staff member asked
     * for something else: a new `access.requested` follows); `access.expired` `undecided` or
     * `window_ended`. Null otherwise.
     */
    cause: z.string().nullable(),
    /** The grant's end (granted, approved). */
    grantEndsAt: Instant.nullable(),
    seq: z.number().int().min(1),
    occurredAt: Instant,
  }),
})
export type AccessWebhook = z.infer<typeof AccessWebhookSchema>

// ---- the port ---------------------------------------------------------------------------------

/** The access model's use cases (apps/api access/service.ts). */
export interface AccessPort {
  request(
    principal: StaffPrincipal,
    params: AccessRequestParams,
    request: RequestInfo,
  ): Promise<AccessRecord>
  list(
    principal: StaffPrincipal,
    params: AccessListParams,
    request: RequestInfo,
  ): Promise<AccessListStaffOutput>
  decide(
    principal: StaffPrincipal,
    params: z.output<typeof AccessDecideInputSchema>,
    request: RequestInfo,
  ): Promise<AccessRecord>
  customerRequests(principal: UserPrincipal, request: RequestInfo): Promise<AccessListOutput>
  customerDecide(
    principal: UserPrincipal,
    params: z.output<typeof CustomerDecideInputSchema>,
    request: RequestInfo,
  ): Promise<AccessRecord>
  customerGrant(
    principal: UserPrincipal,
    params: z.output<typeof CustomerGrantInputSchema>,
    request: RequestInfo,
  ): Promise<AccessRecord>
  customerRevoke(
    principal: UserPrincipal,
    params: CustomerRevokeInput,
    request: RequestInfo,
  ): Promise<AccessRecord>
  customerHistory(
    principal: UserPrincipal,
    params: z.output<typeof CustomerListInputSchema>,
    request: RequestInfo,
  ): Promise<CustomerHistoryOutput>
  orgSettingGet(
    principal: UserPrincipal,
    params: OrganizationInput,
    request: RequestInfo,
  ): Promise<OrganizationSettingOutput>
  orgSettingSet(
    principal: UserPrincipal,
    params: OrganizationSettingSetInput,
    request: RequestInfo,
  ): Promise<OrganizationSettingOutput>
  orgHistory(
    principal: UserPrincipal,
    params: z.output<typeof OrganizationHistoryInputSchema>,
    request: RequestInfo,
  ): Promise<CustomerHistoryOutput>
}
