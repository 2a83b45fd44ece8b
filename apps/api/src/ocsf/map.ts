// The OCSF form of ActAs's audit records (OCSF 1.8.0, the first release line with Authentication's
// activity 7 "Account Switch" is 1.6.0; the schema files validated against are in ./schema).
// - Each chained audit event (IMPERSONATION_EVENT_TYPES), by type: a switch that fails to
//   typecheck when a type is added and not mapped here. The access model's events
//   (ACCESS_EVENT_TYPES): User Access Management (3005); an organization's access setting
//   (ORGANIZATION_SETTING_EVENT_TYPES): Entity Management (3004), Update. Likewise exhaustive.
//   An alert (ALERT_EVENT_TYPES, src/alerts): Detection Finding (2004), Create.
// - The guard's action trail (outside the chain): API Activity (6003).
// - A machine's read of the audit log (outside the chain): API Activity (6003), Read.
// `actor.user` is the staff member who impersonates, `user` the customer; the impersonation id is
// `metadata.correlation_uid`; the chain's seq and hash are `metadata.sequence` / `metadata.uid`
// and, with everything else ActAs knows, `unmapped.actas`.
import { AlertRuleSchema } from '@actas/contracts'
import type {
  AccessEventType,
  AlertEventType,
  AlertRule,
  ImpersonationEvent,
  ImpersonationEventType,
  ImpersonationMode,
  OcsfEventOutput,
  OrganizationSettingEventType,
} from '@actas/contracts'

export const OCSF_VERSION = '1.8.0'

/** OCSF class uids ActAs emits. */
export const OCSF_CLASSES = {
  entity_management: 3004,
  user_access: 3005,
  authentication: 3002,
  authorize_session: 3003,
  api_activity: 6003,
  detection_finding: 2004,
} as const
export type OcsfClassName = keyof typeof OCSF_CLASSES

const CATEGORY_NAMES: Record<number, string> = {
  2: 'Findings',
  3: 'Identity & Access Management',
  6: 'Application Activity',
}
const CLASS_NAMES: Record<number, string> = {
  3004: 'Entity Management',
  3005: 'User Access Management',
  3002: 'Authentication',
  3003: 'Authorize Session',
  6003: 'API Activity',
  2004: 'Detection Finding',
}

/** OCSF status_id. */
const STATUS = { unknown: 0, success: 1, failure: 2, other: 99 } as const
const STATUS_NAMES: Record<number, string> = { 0: 'Unknown', 1: 'Success', 2: 'Failure' }
/** OCSF severity_id. */
export const SEVERITY = { informational: 1, low: 2, medium: 3, high: 4 } as const
const SEVERITY_NAMES: Record<number, string> = {
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
}
/** Authentication's account_switch_type_id 2. */
const IMPERSONATE = 2

/** An OCSF event: what every class has (contracts' OcsfEventSchema), and its class's attributes. */
export type OcsfEvent = OcsfEventOutput

/** Who acts as whom: the impersonation an event belongs to. */
export interface OcsfImpersonation {
  id: string
  actor: { id: string; email: string | null }
  user: { id: string; email: string | null }
  mode: ImpersonationMode
}

/** Options every mapping takes: the product's version (ActAs's package version). */
export interface OcsfOptions {
  productVersion?: string
}

// OCSF's email_t pattern: an address that does not fit is left out, not emitted broken.
const EMAIL = /^[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$/
// ip_t, loosely: what the API records (a v4 or v6 address) without a zone or port.
const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/

function ocsfUser(party: { id: string; email: string | null }, typeId?: number) {
  return {
    uid: party.id,
    ...(party.email && EMAIL.test(party.email) ? { email_addr: party.email } : {}),
    ...(typeId !== undefined ? { type_id: typeId } : {}),
  }
}

/** user.type_id: 1 User, 2 Admin (a staff member). */
const USER_TYPE = { user: 1, admin: 2 } as const

function envelope(
  classUid: number,
  activityId: number,
  activityName: string,
  at: number,
  metadata: Record<string, unknown> & { uid: string },
  options: OcsfOptions,
): OcsfEvent {
  const categoryUid = Math.floor(classUid / 1000)
  return {
    category_uid: categoryUid,
    category_name: CATEGORY_NAMES[categoryUid],
    class_uid: classUid,
    class_name: CLASS_NAMES[classUid],
    activity_id: activityId,
    activity_name: activityName,
    type_uid: classUid * 100 + activityId,
    type_name: `${CLASS_NAMES[classUid]}: ${activityName}`,
    severity_id: SEVERITY.informational,
    severity: SEVERITY_NAMES[SEVERITY.informational],
    time: at,
    metadata: {
      version: OCSF_VERSION,
      product: {
        name: 'ActAs',
        vendor_name: 'ActAs',
        ...(options.productVersion ? { version: options.productVersion } : {}),
      },
      log_name: 'audit',
      ...metadata,
    },
  }
}

/** What an event is: its class and activity, status and severity. */
interface OcsfActivity {
  classUid: number
  id: number
  name: string
  status: number
  severity: number
}

/** An event of `activity` at `at`: the envelope, `body` (its class's attributes), status, severity. */
function ocsfEvent(
  activity: OcsfActivity,
  at: number,
  metadata: Record<string, unknown> & { uid: string },
  body: Record<string, unknown>,
  options: OcsfOptions,
): OcsfEvent {
  return withSeverity(
    withStatus(
      {
        ...envelope(activity.classUid, activity.id, activity.name, at, metadata, options),
        ...body,
      },
      activity.status,
    ),
    activity.severity,
  )
}

function withStatus(event: OcsfEvent, statusId: number, status?: string): OcsfEvent {
  event.status_id = statusId
  event.status = status ?? STATUS_NAMES[statusId] ?? 'Other'
  return event
}

function withSeverity(event: OcsfEvent, severityId: number): OcsfEvent {
  event.severity_id = severityId
  event.severity = SEVERITY_NAMES[severityId]
  return event
}

function dataString(data: ImpersonationEvent['data'], key: string): string | null {
  const value = data[key]
  return typeof value === 'string' && value.length > 0 ? value : null
}

function epoch(instant: string | null): number | null {
  if (!instant) return null
  const ms = Date.parse(instant)
  return Number.isNaN(ms) ? null : ms
}

/** The OCSF form of one chained audit event of `impersonation`. */
export function ocsfFromEvent(
  event: ImpersonationEvent,
  impersonation: OcsfImpersonation,
  options: OcsfOptions = {},
): OcsfEvent {
  const at = Date.parse(event.at)
  // A machine that acted on the staff member's behalf (`onBehalfOf`): the app that invoked it.
  const via = dataString(event.data, 'via')
  const machine = via ?? (event.by?.startsWith('mch_') ? event.by : null)
  const actor = {
    user: ocsfUser(impersonation.actor, USER_TYPE.admin),
    ...(machine ? { app_uid: machine } : {}),
    ...(via ? { invoked_by: via } : {}),
  }
  const user = ocsfUser(impersonation.user, USER_TYPE.user)
  const privileges = [`impersonate:${impersonation.mode}`]
  const code = dataString(event.data, 'code')
  const message = dataString(event.data, 'message')
  const ip = dataString(event.data, 'ip')
  const src =
    (ip && IP.test(ip)) || via
      ? { src_endpoint: { ...(ip && IP.test(ip) ? { ip } : {}), ...(via ? { uid: via } : {}) } }
      : {}
  const metadata = {
    uid: event.hash,
    correlation_uid: impersonation.id,
    sequence: event.seq,
    event_code: event.type,
    logged_time: at,
  }
  const base = (classUid: number, activityId: number, activityName: string) =>
    envelope(classUid, activityId, activityName, at, metadata, options)
  const session = (extra: Record<string, unknown> = {}) =>
    event.clerkSessionId ? { session: { uid: event.clerkSessionId, ...extra } } : {}
  const service = { service: { name: 'ActAs' } }
  const unmapped = {
    unmapped: {
      actas: {
        seq: event.seq,
        hash: event.hash,
        prev_hash: event.prevHash,
        type: event.type,
        impersonation_id: impersonation.id,
        mode: impersonation.mode,
        cause: event.cause,
        by: event.by,
        reason: event.reason,
        data: event.data,
      },
    },
  }
  // Authorize Session (3003): the impersonation grant, Okta's `user.session.impersonation.grant`.
  const grant = (activityId: number, activityName: string, statusId: number) =>
    withStatus(
      {
        ...base(OCSF_CLASSES.authorize_session, activityId, activityName),
        actor,
        user,
        privileges,
        ...session(),
        ...src,
        ...(event.reason ? { message: event.reason } : {}),
        ...unmapped,
      },
      statusId,
    )
  const type: ImpersonationEventType = event.type
  switch (type) {
    case 'requested':
      return withSeverity(
        withStatus(grant(1, 'Assign Privileges', STATUS.other), STATUS.other, 'Requested'),
        SEVERITY.informational,
      )
    case 'denied': {
      const e = grant(1, 'Assign Privileges', STATUS.failure)
      if (code) e.status_code = code
      if (message) e.status_detail = message
      return withSeverity(e, SEVERITY.low)
    }
    case 'issued': {
      const expires = epoch(dataString(event.data, 'expiresAt'))
      const e = grant(1, 'Assign Privileges', STATUS.success)
      if (expires !== null) e.end_time = expires
      return withSeverity(e, SEVERITY.informational)
    }
    case 'failed': {
      const e = grant(1, 'Assign Privileges', STATUS.failure)
      if (code) e.status_code = code
      if (message) e.status_detail = message
      return withSeverity(e, SEVERITY.low)
    }
    case 'ticket_revoked':
      return withSeverity(
        withStatus(grant(99, 'Revoke Privileges', STATUS.success), STATUS.success),
        SEVERITY.informational,
      )
    case 'signed_in':
      // Authentication (3002), Account Switch (7), Impersonate (2).
      return withSeverity(
        withStatus(
          {
            ...base(OCSF_CLASSES.authentication, 7, 'Account Switch'),
            account_switch_type_id: IMPERSONATE,
            account_switch_type: 'Impersonate',
            actor,
            user,
            ...service,
            ...session({ created_time: at, is_remote: true }),
            is_remote: true,
            ...unmapped,
          },
          STATUS.success,
        ),
        SEVERITY.informational,
      )
    case 'ended': {
      // The impersonated session's end: Authentication Logoff (2); a ticket that expired unused
      // never became a session: the grant's end (Authorize Session, Other).
      if (event.cause === 'ticket_expired_unused')
        return withSeverity(
          withStatus(grant(99, 'Expire Privileges', STATUS.success), STATUS.success),
          SEVERITY.informational,
        )
      const e = withStatus(
        {
          ...base(OCSF_CLASSES.authentication, 2, 'Logoff'),
          account_switch_type_id: IMPERSONATE,
          account_switch_type: 'Impersonate',
          actor,
          user,
          ...service,
          ...session({
            expiration_time: at,
            ...(event.cause ? { expiration_reason: event.cause } : {}),
          }),
          is_remote: true,
          ...src,
          ...(event.reason ? { message: event.reason } : {}),
          ...unmapped,
        },
        STATUS.success,
      )
      if (event.cause) e.status_detail = event.cause
      return withSeverity(e, SEVERITY.informational)
    }
    default: {
      const unmappedType: never = type
      throw new Error(`no OCSF mapping for audit event type ${String(unmappedType)}`)
    }
  }
}

/** API Activity's activity_id by HTTP method: 1 Create, 2 Read, 3 Update, 4 Delete. */
const API_ACTIVITY: Record<string, [number, string]> = {
  GET: [2, 'Read'],
  HEAD: [2, 'Read'],
  OPTIONS: [2, 'Read'],
  POST: [1, 'Create'],
  PUT: [3, 'Update'],
  PATCH: [3, 'Update'],
  DELETE: [4, 'Delete'],
}

/** One request of the action trail (what the guard reported), with its id in the trail. */
export interface OcsfAction {
  id: number
  method: string
  route: string
  status: number
  at: string
  clerkSessionId: string
  reportedBy: string
}

/** API Activity (6003): one request the impersonated session made in the host application. */
export function ocsfFromAction(
  action: OcsfAction,
  impersonation: OcsfImpersonation,
  options: OcsfOptions = {},
): OcsfEvent {
  const at = Date.parse(action.at)
  const [activityId, activityName] = API_ACTIVITY[action.method] ?? [99, 'Other']
  const ok = action.status < 400
  return ocsfEvent(
    {
      classUid: OCSF_CLASSES.api_activity,
      id: activityId,
      name: activityName,
      status: ok ? STATUS.success : STATUS.failure,
      severity: SEVERITY.informational,
    },
    at,
    { uid: `action-${action.id}`, correlation_uid: impersonation.id, event_code: 'action' },
    {
      actor: {
        user: ocsfUser(impersonation.actor, USER_TYPE.admin),
        session: { uid: action.clerkSessionId },
      },
      api: {
        operation: `${action.method} ${action.route}`,
        response: { code: action.status },
      },
      http_request: { http_method: action.method, url: { path: action.route } },
      http_response: { code: action.status },
      src_endpoint: { uid: action.clerkSessionId },
      unmapped: {
        actas: {
          impersonation_id: impersonation.id,
          impersonated_user: impersonation.user.id,
          mode: impersonation.mode,
          reported_by: action.reportedBy,
        },
      },
    },
    options,
  )
}

/** One machine's read of the audit log (`audit_reads`). */
export interface OcsfAuditRead {
  id: string
  machineId: string
  tokenId: string | null
  procedure: string
  params: Record<string, unknown>
  rowCount: number
  requestId: string | null
  ip: string | null
  at: string
}

/** API Activity (6003), Read: a machine read the audit log. */
export function ocsfFromAuditRead(read: OcsfAuditRead, options: OcsfOptions = {}): OcsfEvent {
  return ocsfEvent(
    { ...API_READ, status: STATUS.success, severity: SEVERITY.informational },
    Date.parse(read.at),
    { uid: read.id, event_code: 'audit_read' },
    {
      actor: { app_uid: read.machineId },
      api: {
        operation: read.procedure,
        ...(read.requestId ? { request: { uid: read.requestId } } : {}),
      },
      src_endpoint: read.ip && IP.test(read.ip) ? { ip: read.ip } : { uid: read.machineId },
      unmapped: {
        actas: { params: read.params, row_count: read.rowCount, token_id: read.tokenId },
      },
    },
    options,
  )
}

const API_READ = { classUid: OCSF_CLASSES.api_activity, id: 2, name: 'Read' }

/** A chained event of any subject (ActAs's event shape with the type and cause as stored). */
export type ChainEvent = Omit<ImpersonationEvent, 'type' | 'cause'> & {
  type: string
  cause: string | null
}

/** The access request an `access.*` event belongs to. */
export interface OcsfAccessRequest {
  id: string
  /** The customer. */
  userId: string
  /** The staff member who asked (null: the customer granted it unasked). */
  requestedBy: string | null
  mode: ImpersonationMode
}

function chainMetadata(event: ChainEvent, subjectId: string) {
  return {
    uid: event.hash,
    correlation_uid: subjectId,
    sequence: event.seq,
    event_code: event.type,
    logged_time: Date.parse(event.at),
  }
}

function chainUnmapped(event: ChainEvent, subjectId: string, extra: Record<string, unknown> = {}) {
  return {
    unmapped: {
      actas: {
        seq: event.seq,
        hash: event.hash,
        prev_hash: event.prevHash,
        type: event.type,
        subject_id: subjectId,
        cause: event.cause,
        by: event.by,
        reason: event.reason,
        data: event.data,
        ...extra,
      },
    },
  }
}

/** Who made an event happen, as an OCSF actor: a person, a machine, or ActAs itself. */
function actorOf(by: string | null) {
  if (!by || by === 'system') return { actor: { app_name: 'ActAs' } }
  if (by.startsWith('mch_')) return { actor: { app_uid: by } }
  return { actor: { user: { uid: by } } }
}

/** User Access Management (3005): an `access.*` event of an access request. */
export function ocsfFromAccessEvent(
  event: ChainEvent & { type: AccessEventType },
  access: OcsfAccessRequest,
  options: OcsfOptions = {},
): OcsfEvent {
  const at = Date.parse(event.at)
  const grantMode = dataString(event.data, 'mode') ?? access.mode
  const common = {
    ...actorOf(event.by),
    user: { uid: access.userId, type_id: USER_TYPE.user },
    privileges: [`impersonate:${grantMode}`],
    ...(event.reason ? { message: event.reason } : {}),
    ...chainUnmapped(event, access.id, {
      access_id: access.id,
      requested_by: access.requestedBy,
      mode: access.mode,
    }),
  }
  const [id, name, status, severity] = ACCESS_ACTIVITIES[event.type]
  const e = ocsfEvent(
    { classUid: OCSF_CLASSES.user_access, id, name, status, severity },
    at,
    chainMetadata(event, access.id),
    common,
    options,
  )
  if (event.cause) e.status_detail = event.cause
  return e
}

/**
 * Each access event type's User Access Management activity, status and severity: a Record over
 * the type union, so a type added to ACCESS_EVENT_TYPES fails to typecheck until mapped here.
 */
const ACCESS_ACTIVITIES: Record<AccessEventType, [number, string, number, number]> = {
  'access.requested': [99, 'Request Privileges', STATUS.other, SEVERITY.informational],
  'access.approved': [99, 'Approve Privileges', STATUS.success, SEVERITY.informational],
  'access.denied': [99, 'Deny Privileges', STATUS.failure, SEVERITY.informational],
  'access.granted': [1, 'Assign Privileges', STATUS.success, SEVERITY.informational],
  'access.revoked': [2, 'Revoke Privileges', STATUS.success, SEVERITY.informational],
  'access.expired': [2, 'Revoke Privileges', STATUS.success, SEVERITY.informational],
  'access.refused': [99, 'Refused', STATUS.failure, SEVERITY.low],
}

/** The organization whose access setting an `organization.*` event changed. */
export interface OcsfOrganizationSetting {
  subjectId: string
  organizationId: string
  organizationName: string
}

/** Entity Management (3004), Update: an organization's own access setting changed. */
export function ocsfFromOrganizationEvent(
  event: ChainEvent & { type: OrganizationSettingEventType },
  organization: OcsfOrganizationSetting,
  options: OcsfOptions = {},
): OcsfEvent {
  // The one organization event type: a second one fails to typecheck here until it is mapped.
  const _only: Extract<OrganizationSettingEventType, 'organization.access_setting_changed'> =
    event.type
  return ocsfEvent(
    {
      classUid: OCSF_CLASSES.entity_management,
      id: 3,
      name: 'Update',
      status: STATUS.success,
      severity: SEVERITY.informational,
    },
    Date.parse(event.at),
    chainMetadata(event, organization.subjectId),
    {
      ...actorOf(event.by),
      entity: {
        type_id: 4,
        type: 'Organization',
        uid: organization.organizationId,
        name: organization.organizationName,
        data: { setting: event.data.to ?? null, previous: event.data.from ?? null },
      },
      ...(event.reason ? { message: event.reason } : {}),
      ...chainUnmapped(event, organization.subjectId, {
        organization_id: organization.organizationId,
      }),
    },
    options,
  )
}

/** The severity of each alert rule's Detection Finding. */
const ALERT_SEVERITIES: Record<AlertRule, number> = {
  many_targets: SEVERITY.high,
  refusal_burst: SEVERITY.medium,
  off_hours_start: SEVERITY.medium,
  chain_unverified: SEVERITY.high,
  stream_failing: SEVERITY.medium,
}

/**
 * Detection Finding (2004), Create: an alert (`alert.raised`), its rule as the analytic, the
 * window as the finding's first and last seen, the staff member it is about (when one) as an
 * observable `actor.user.uid`.
 */
export function ocsfFromAlertEvent(
  event: ChainEvent & { type: AlertEventType },
  alertId: string,
  options: OcsfOptions = {},
): OcsfEvent {
  const at = Date.parse(event.at)
  // The one alert event type: a second one fails to typecheck here until it is mapped.
  const _only: Extract<AlertEventType, 'alert.raised'> = event.type
  const rule = AlertRuleSchema.parse(event.data.rule)
  const subject = dataString(event.data, 'subject') ?? ''
  const windowStart = Date.parse(dataString(event.data, 'windowStart') ?? event.at)
  const windowEnd = Date.parse(dataString(event.data, 'windowEnd') ?? event.at)
  const aboutStaff =
    rule === 'many_targets' || rule === 'refusal_burst' || rule === 'off_hours_start'
  return ocsfEvent(
    {
      classUid: OCSF_CLASSES.detection_finding,
      id: 1,
      name: 'Create',
      status: STATUS.success,
      severity: ALERT_SEVERITIES[rule],
    },
    at,
    { ...chainMetadata(event, alertId), log_name: 'alerts' },
    {
      // Detection Finding has no actor: the staff member it is about is an observable.
      ...(aboutStaff
        ? {
            observables: [{ name: 'actor.user.uid', type_id: 99, type: 'Other', value: subject }],
          }
        : {}),
      is_alert: true,
      finding_info: {
        uid: alertId,
        title: rule,
        desc: event.reason ?? rule,
        first_seen_time: windowStart,
        last_seen_time: windowEnd,
        types: ['ActAs alert'],
        analytic: { uid: rule, name: rule, type_id: 1, type: 'Rule' },
      },
      ...(event.reason ? { message: event.reason } : {}),
      ...chainUnmapped(event, alertId, { alert_id: alertId }),
    },
    options,
  )
}
