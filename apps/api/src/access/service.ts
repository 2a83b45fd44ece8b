// The access model's use cases behind the `access.*` (staff) and `customer.*` (the customer, and
// an organization's admins) procedures. Every change is an event of the audit chain (store.ts);
// every refusal is recorded: on the request's timeline (`access.refused`) when there is one, else
// as a refused attempt (the impersonation service's `recordDenied`). Ending live impersonations
// when a grant goes, or an organization switches off, uses the policy's continuous moment and the
// kill switch's end path (`Reconciler.reauthorize` → `ImpersonationLifecycle.terminate`).
import { ActAsError, APPROVE_ACCESS_PERMISSION } from '@actas/contracts'
import type {
  AccessListOutput,
  AccessListParams,
  AccessListStaffOutput,
  AccessPort,
  AccessRecord,
  AccessRequestParams,
  CustomerHistoryItem,
  CustomerHistoryOutput,
  DeniedAttempt,
  ImpersonationMode,
  OrganizationSettingOutput,
  RequestInfo,
  StaffPrincipal,
  UserPrincipal,
} from '@actas/contracts'
import { and, eq, type SQL } from 'drizzle-orm'
import type { Logger } from 'pino'
import { InvalidCursorError } from '../audit/keyset.js'
import type { ImpersonationRow } from '../audit/schema.js'
import type { AuditStore } from '../audit/store.js'
import type { StaffOrganizations } from '../directory/staff-organizations.js'
import type { UserDirectory } from '../directory/user-directory.js'
import type { ImpersonationPolicy } from '../impersonation/policy-facts.js'
import type { Reconciler } from '../impersonation/reconciler.js'
import { requireRecentFirstFactor } from '../impersonation/step-up.js'
import { fullyApproved } from './model.js'
import { accessRequests } from './schema.js'
import type { AccessRequestRow, OrganizationAccessSettingRow } from './schema.js'
import { AccessNotFoundError } from './store.js'
import type { AccessEventInput, AccessStore } from './store.js'

export interface AccessServiceOptions {
  store: AccessStore
  audit: Pick<AuditStore, 'listOpen' | 'actions'>
  directory: Pick<
    UserDirectory,
    'getUser' | 'membershipsIn' | 'membersAmong' | 'organizationMemberIds'
  >
  staffOrganizations: Pick<StaffOrganizations, 'ids'>
  policy: Pick<ImpersonationPolicy, 'accessFacts'>
  reconciler: Pick<Reconciler, 'reauthorize'>
  /** Refusals with no request to record them on. */
  recordDenied: (attempt: DeniedAttempt, request: RequestInfo) => Promise<void>
  /** ACCESS_REQUEST_EXPIRY_DAYS. */
  requestExpiryDays: number
  /** CUSTOMER_STAFF_DISPLAY. */
  staffDisplay: 'name' | 'email' | 'support'
  /** STEP_UP_MINUTES (null: off): an approver's decision needs a recent password. */
  stepUpMinutes: number | null
  now: () => Date
  logger: Logger
}

/** An organization's history: its members listed whole up to this many (20 reads of Clerk)… */
const ORG_MEMBERS_LISTED = 10_000
/** …else asked among at most this many impersonated users (50 reads). */
const ORG_MEMBERS_ASKED = 5_000

const iso = (d: Date | null) => d?.toISOString() ?? null
const SUPPORT = 'Support'

export class AccessService implements AccessPort {
  private sweeping: Promise<number> | null = null
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly o: AccessServiceOptions) {}

  // ---- expiry ---------------------------------------------------------------------------

  /**
   * Appends `access.expired` to every open request or grant past its deadline (undecided too
   * long, or its window ended) and ends the live impersonations that rested on a grant that
   * ended. Runs on a timer and before the reads that show a status; one run at a time.
   */
  expireDue(): Promise<number> {
    this.sweeping ??= this.sweep().finally(() => (this.sweeping = null))
    return this.sweeping
  }

  private async sweep(): Promise<number> {
    let expired = 0
    for (;;) {
      const due = await this.o.store.due()
      if (due.length === 0) return expired
      for (const row of due) {
        const cause = row.status === 'pending' ? 'undecided' : 'window_ended'
        const result = await this.o.store.appendEvents(row.id, [
          { type: 'access.expired', cause, by: 'system' },
        ])
        if (!result.appended) continue
        expired += 1
        if (cause === 'window_ended') await this.endLive(row.userId)
      }
      if (due.length < 100) return expired
    }
  }

  /** Runs the expiry every `intervalMs` (unref'd); `close` stops it. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.expireDue().catch((err: unknown) => this.o.logger.error({ err }, 'access expiry failed'))
    }, intervalMs)
    this.timer.unref()
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.sweeping?.catch(() => undefined)
  }

  /** Re-judges the user's live impersonations now (continuous moment): those without a grant end. */
  private async endLive(userId: string): Promise<number> {
    try {
      return await this.o.reconciler.reauthorize(userId)
    } catch (err) {
      // The reconciler's next run ends them (the kill switch's bound still holds for guards).
      this.o.logger.error(
        { err, userId },
        'ending live impersonations after an access change failed',
      )
      return 0
    }
  }

  // ---- staff ----------------------------------------------------------------------------

  async request(
    principal: StaffPrincipal,
    params: AccessRequestParams,
    request: RequestInfo,
  ): Promise<AccessRecord> {
    const refuse = (error: ActAsError) =>
      this.refuseUnrecorded(principal, 'access.request', error, request, params)
    const target = await this.o.directory.getUser(params.userId)
    if (!target) throw await refuse(new ActAsError('USER_NOT_FOUND', 'This user does not exist.'))
    if (params.userId === principal.userId)
      throw await refuse(
        new ActAsError('POLICY_DENIED', 'You cannot ask for access to yourself.', { rule: 'self' }),
      )
    const facts = await this.o.policy.accessFacts(principal.userId, params.userId)
    if (!facts)
      throw await refuse(new ActAsError('FORBIDDEN', 'This ActAs has no access requests.'))
    if (facts.organizationOff !== null)
      throw await refuse(
        new ActAsError(
          'POLICY_DENIED',
          `${facts.organizationOff} switched impersonation of its members off: no access can be requested.`,
          { rule: 'organization_off' },
        ),
      )
    const needsConsent = facts.consentRequired !== null && facts.consentGrant === null
    const needsApproval =
      facts.approvalRequired !== null &&
      (!facts.approvalOnlyFull || params.mode === 'full') &&
      facts.approvalGrant === null
    if (!needsConsent && !needsApproval)
      throw await refuse(
        new ActAsError(
          'INVALID_INPUT',
          'No access request is needed for this user: no rule asks for consent or approval (or a grant already allows it). Impersonate directly.',
        ),
      )
    await this.expireDue()
    // One pending request per staff member and user. Asking again for the same mode and length
    // answers the one under way; asking for something else (narrower or wider) supersedes it: in
    // one transaction the pending one is withdrawn (`access.revoked`, cause `superseded`; the
    // host hears of it) and the new one asked, pointing at it. Consent or approval given to the
    // old one does not carry over: the customer and the approver decide what is asked now.
    const { rows } = await this.o.store.page(
      and(
        eq(accessRequests.requestedBy, principal.userId),
        eq(accessRequests.userId, params.userId),
        eq(accessRequests.status, 'pending'),
      ),
      { limit: 1 },
      'access.request',
    )
    const pending = rows[0]
    if (pending && pending.mode === params.mode && pending.minutes === params.minutes)
      return this.record(pending)
    const first: AccessEventInput = {
      type: 'access.requested',
      by: principal.userId,
      reason: params.reason,
      data: {
        userId: params.userId,
        mode: params.mode,
        minutes: params.minutes,
        needsConsent,
        needsApproval,
        decideBy: new Date(
          this.o.now().getTime() + this.o.requestExpiryDays * 86_400_000,
        ).toISOString(),
        supersedes: pending?.id,
        requestId: request.id,
        ip: request.ip ?? undefined,
      },
    }
    let row: AccessRequestRow
    if (pending) {
      const done = await this.o.store.supersede(
        pending.id,
        {
          type: 'access.revoked',
          cause: 'superseded',
          by: principal.userId,
          reason: `Superseded by a new request: ${params.mode === 'full' ? 'full access' : 'read-only'} for ${params.minutes} min.`,
        },
        first,
      )
      if (!done.superseded)
        throw await this.refuseOn(
          pending,
          principal.userId,
          'access.request',
          new ActAsError(
            'ACCESS_SETTLED',
            'Your pending request for this user was decided meanwhile: see its state, then ask again if you still need different access.',
          ),
        )
      row = done.row
    } else row = await this.o.store.create(first)
    this.o.logger.info(
      { accessId: row.id, actorId: principal.userId, userId: params.userId },
      'access requested',
    )
    return this.record(row)
  }

  async list(principal: StaffPrincipal, params: AccessListParams): Promise<AccessListStaffOutput> {
    await this.expireDue()
    // What to show (the Requests page, the nav's count, polled): read from the session's verified
    // claims, no Clerk call per poll. Deciding re-reads the permission from Clerk (`decide`).
    const mayApprove = approverBySession(principal)
    const toDecide = this.o.store.toDecide(principal.userId)
    const where: (SQL | undefined)[] =
      params.view === 'to_decide'
        ? [mayApprove ? toDecide : eq(accessRequests.id, '00000000-0000-0000-0000-000000000000')]
        : [eq(accessRequests.requestedBy, principal.userId)]
    if (params.userId) where.push(eq(accessRequests.userId, params.userId))
    if (params.status) where.push(eq(accessRequests.status, params.status))
    const page = await this.page(and(...where), params, 'access.list')
    return {
      items: page.rows.map((r) => this.record(r)),
      next: page.next,
      toDecide: mayApprove ? await this.o.store.count(toDecide) : 0,
      mayApprove,
    }
  }

  async decide(
    principal: StaffPrincipal,
    params: { accessId: string; decision: 'approve' | 'deny'; reason?: string | undefined },
    request: RequestInfo,
  ): Promise<AccessRecord> {
    // Step-up first (like a start): the console asks for the password and retries.
    requireRecentFirstFactor(
      principal.factorVerificationAge,
      this.o.stepUpMinutes,
      'deciding an access request',
    )
    await this.expireDue()
    const row = await this.found(params.accessId)
    const refuse = (error: ActAsError) =>
      this.refuseOn(row, principal.userId, 'access.decide', error)
    // The permission, re-read from Clerk at the moment of deciding (never the session's claims).
    if (!(await this.mayApprove(principal.userId)))
      throw await refuse(
        new ActAsError(
          'FORBIDDEN',
          `Deciding access requests needs the ${APPROVE_ACCESS_PERMISSION} permission in a staff organization.`,
        ),
      )
    if (row.requestedBy === principal.userId)
      throw await refuse(new ActAsError('FORBIDDEN', 'You cannot decide your own access request.'))
    const decided = await this.settleDecision(row, principal.userId, 'staff', params, refuse)
    void request
    return this.record(decided)
  }

  /**
   * A pending decision of `approver` (the customer's consent or a staff approval): refused (409)
   * unless the request waits for it; a denial, or an approval (and the grant it completes).
   */
  private async settleDecision(
    row: AccessRequestRow,
    by: string,
    approver: 'customer' | 'staff',
    params: {
      decision: 'approve' | 'deny'
      reason?: string | undefined
      mode?: ImpersonationMode | undefined
      minutes?: number | undefined
    },
    refuse: (error: ActAsError) => Promise<ActAsError>,
  ): Promise<AccessRequestRow> {
    const waiting =
      approver === 'customer'
        ? row.needsConsent && row.consentedBy === null
        : row.needsApproval && row.approvedBy === null
    if (row.status !== 'pending' || !waiting)
      throw await refuse(
        new ActAsError(
          'ACCESS_SETTLED',
          `This request is ${row.status === 'pending' ? `already approved (${approver})` : row.status}: only pending requests can be decided.`,
        ),
      )
    const events: AccessEventInput[] =
      params.decision === 'deny'
        ? [{ type: 'access.denied', by, reason: params.reason ?? null, data: { approver } }]
        : this.approval(row, by, approver, params.reason, params)
    const result = await this.o.store.appendEvents(row.id, events)
    if (!result.appended)
      throw await refuse(new ActAsError('ACCESS_SETTLED', 'This request was decided meanwhile.'))
    return result.row
  }

  /** `access.approved`, then `access.granted` when it completes the approvals the request needs. */
  private approval(
    row: AccessRequestRow,
    by: string,
    approver: 'customer' | 'staff',
    reason: string | undefined,
    narrow: { mode?: ImpersonationMode | undefined; minutes?: number | undefined } = {},
  ): AccessEventInput[] {
    const after = {
      ...row,
      ...(approver === 'customer' ? { consentedBy: by } : { approvedBy: by }),
    }
    const events: AccessEventInput[] = [
      { type: 'access.approved', by, reason: reason ?? null, data: { approver } },
    ]
    if (fullyApproved(after)) {
      const mode = narrow.mode === 'read_only' ? 'read_only' : row.mode
      const minutes = Math.min(row.minutes, narrow.minutes ?? row.minutes)
      events.push({
        type: 'access.granted',
        by,
        data: {
          mode,
          endsAt: new Date(this.o.now().getTime() + minutes * 60_000).toISOString(),
          note: reason,
        },
      })
    }
    return events
  }

  // ---- the customer ---------------------------------------------------------------------

  /**
   * The customer: a signed-in user of the host application acting for themselves — never an
   * impersonated session, never staff (a member of a staff organization, asked of Clerk).
   */
  private async customer(principal: UserPrincipal, procedure: string, request: RequestInfo) {
    if (principal.actor)
      throw await this.refuseUnrecorded(
        principal,
        procedure,
        new ActAsError('FORBIDDEN', 'An impersonated session cannot act for the customer here.'),
        request,
      )
    const staffIds = [...(await this.o.staffOrganizations.ids())]
    const staff = await this.o.directory.membersAmong([principal.userId], staffIds)
    if (staff.has(principal.userId))
      throw await this.refuseUnrecorded(
        principal,
        procedure,
        new ActAsError('FORBIDDEN', 'Staff use the console: these procedures are for customers.'),
        request,
      )
  }

  async customerRequests(
    principal: UserPrincipal,
    request: RequestInfo,
  ): Promise<AccessListOutput> {
    await this.customer(principal, 'customer.requests', request)
    await this.expireDue()
    const rows = await this.o.store.openFor([principal.userId])
    rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    return { items: await this.forCustomer(rows), next: null }
  }

  async customerDecide(
    principal: UserPrincipal,
    params: {
      accessId: string
      decision: 'approve' | 'deny'
      reason?: string | undefined
      mode?: ImpersonationMode | undefined
      minutes?: number | undefined
    },
    request: RequestInfo,
  ): Promise<AccessRecord> {
    await this.customer(principal, 'customer.decide', request)
    await this.expireDue()
    const row = await this.mine(principal.userId, params.accessId, 'customer.decide')
    const refuse = (error: ActAsError) =>
      this.refuseOn(row, principal.userId, 'customer.decide', error)
    const decided = await this.settleDecision(row, principal.userId, 'customer', params, refuse)
    return (await this.forCustomer([decided]))[0]!
  }

  async customerGrant(
    principal: UserPrincipal,
    params: { mode: ImpersonationMode; minutes: number; note?: string | undefined },
    request: RequestInfo,
  ): Promise<AccessRecord> {
    await this.customer(principal, 'customer.grant', request)
    const row = await this.o.store.create({
      type: 'access.granted',
      by: principal.userId,
      reason: params.note || 'Granted by the customer',
      data: {
        userId: principal.userId,
        mode: params.mode,
        minutes: params.minutes,
        endsAt: new Date(this.o.now().getTime() + params.minutes * 60_000).toISOString(),
      },
    })
    return (await this.forCustomer([row]))[0]!
  }

  async customerRevoke(
    principal: UserPrincipal,
    params: { accessId: string; reason?: string | undefined },
    request: RequestInfo,
  ): Promise<AccessRecord> {
    await this.customer(principal, 'customer.revoke', request)
    const row = await this.mine(principal.userId, params.accessId, 'customer.revoke')
    if (row.status !== 'granted' && row.status !== 'pending')
      throw await this.refuseOn(
        row,
        principal.userId,
        'customer.revoke',
        new ActAsError('ACCESS_SETTLED', `This access is ${row.status} already.`),
      )
    const result = await this.o.store.appendEvents(row.id, [
      {
        type: 'access.revoked',
        cause: 'customer',
        by: principal.userId,
        reason: params.reason ?? null,
      },
    ])
    // Withdrawn consent: the live impersonations under it end now (continuous moment, kill path).
    await this.endLive(row.userId)
    return (await this.forCustomer([result.row]))[0]!
  }

  async customerHistory(
    principal: UserPrincipal,
    params: { cursor?: string | undefined; limit: number },
    request: RequestInfo,
  ): Promise<CustomerHistoryOutput> {
    await this.customer(principal, 'customer.history', request)
    return this.history({ userId: principal.userId }, params)
  }

  // ---- an organization's admins ---------------------------------------------------------

  /** The caller's admin membership of a customer organization (asked of Clerk), or a refusal. */
  private async orgAdmin(
    principal: UserPrincipal,
    organizationId: string,
    procedure: string,
    request: RequestInfo,
  ) {
    await this.customer(principal, procedure, request)
    const staffIds = await this.o.staffOrganizations.ids()
    const [membership] = staffIds.has(organizationId)
      ? []
      : await this.o.directory.membershipsIn(principal.userId, [organizationId])
    if (!membership || membership.role !== 'org:admin')
      throw await this.refuseUnrecorded(
        principal,
        procedure,
        new ActAsError('FORBIDDEN', "Only the organization's admins may do this."),
        request,
      )
    return membership
  }

  async orgSettingGet(
    principal: UserPrincipal,
    params: { organizationId: string },
    request: RequestInfo,
  ): Promise<OrganizationSettingOutput> {
    await this.orgAdmin(principal, params.organizationId, 'customer.orgSetting.get', request)
    return settingOf(
      params.organizationId,
      await this.o.store.organizationSetting(params.organizationId),
    )
  }

  async orgSettingSet(
    principal: UserPrincipal,
    params: { organizationId: string; setting: 'allowed' | 'consent_required' | 'off' },
    request: RequestInfo,
  ): Promise<OrganizationSettingOutput> {
    const membership = await this.orgAdmin(
      principal,
      params.organizationId,
      'customer.orgSetting.set',
      request,
    )
    const row = await this.o.store.setOrganizationSetting(
      { id: params.organizationId, name: membership.organizationName },
      params.setting,
      principal.userId,
    )
    if (params.setting !== 'allowed') await this.endMembersLive(params.organizationId)
    return settingOf(params.organizationId, row)
  }

  /** The organization's members' live impersonations, re-judged now (those refused end). */
  private async endMembersLive(organizationId: string): Promise<void> {
    const live = await this.o.audit.listOpen()
    const users = [...new Set(live.map((r) => r.userId))]
    for (let i = 0; i < users.length; i += 100) {
      const members = await this.o.directory.membersAmong(users.slice(i, i + 100), [organizationId])
      for (const userId of members) await this.endLive(userId)
    }
  }

  async orgHistory(
    principal: UserPrincipal,
    params: { organizationId: string; cursor?: string | undefined; limit: number },
    request: RequestInfo,
  ): Promise<CustomerHistoryOutput> {
    await this.orgAdmin(principal, params.organizationId, 'customer.orgHistory', request)
    const members = await this.organizationMembers(params.organizationId)
    if (members.length === 0) return { items: [], next: null }
    // Filtered in the query: only the members' impersonations are read.
    return this.history({ userIds: members }, params)
  }

  /**
   * Every member of the organization, from Clerk, complete: its membership list read whole (up
   * to ORG_MEMBERS_LISTED members, 500 a read); a larger organization's members are asked among
   * the users ever impersonated instead (up to ORG_MEMBERS_ASKED of them, 100 ids a read). Both
   * too large: refused (SERVICE_UNAVAILABLE), never judged from part of either list.
   */
  private async organizationMembers(organizationId: string): Promise<string[]> {
    const listed = await this.o.directory.organizationMemberIds(organizationId, ORG_MEMBERS_LISTED)
    if (listed) return listed
    const users = await this.o.store.impersonatedUsers(ORG_MEMBERS_ASKED)
    if (!users)
      throw new ActAsError(
        'SERVICE_UNAVAILABLE',
        `This organization has more than ${ORG_MEMBERS_LISTED} members and more than ${ORG_MEMBERS_ASKED} users were impersonated: ActAs cannot read its history completely.`,
        { retryAfterSeconds: 3600 },
      )
    const members: string[] = []
    for (let i = 0; i < users.length; i += 100)
      members.push(
        ...(await this.o.directory.membersAmong(users.slice(i, i + 100), [organizationId])),
      )
    return members
  }

  // ---- shared ---------------------------------------------------------------------------

  private async history(
    who: { userId: string } | { userIds: string[] },
    params: { cursor?: string | undefined; limit: number },
  ): Promise<CustomerHistoryOutput> {
    let page: { rows: ImpersonationRow[]; next: string | null }
    try {
      page = await this.o.store.signedInHistory('userId' in who ? [who.userId] : who.userIds, {
        cursor: params.cursor,
        limit: params.limit,
      })
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new ActAsError('INVALID_INPUT', error.message)
      throw error
    }
    const now = this.o.now()
    const labels = await this.labels(page.rows.map((r) => ({ id: r.actorId, email: r.actorEmail })))
    const items: CustomerHistoryItem[] = await Promise.all(
      page.rows.map(async (r) => {
        const started = r.signedInAt ?? r.createdAt
        const ended = r.endedAt
        const { total } = await this.o.audit.actions(r.id, 1)
        return {
          impersonationId: r.id,
          staff: {
            id: this.o.staffDisplay === 'support' ? null : r.actorId,
            label: labels.get(r.actorId) ?? SUPPORT,
          },
          user: { id: r.userId },
          reason: r.reason,
          mode: r.mode,
          status: r.status,
          startedAt: started.toISOString(),
          endedAt: iso(ended),
          seconds: Math.max(0, Math.round(((ended ?? now).getTime() - started.getTime()) / 1000)),
          actions: total,
        }
      }),
    )
    return { items, next: page.next }
  }

  /** How the customer sees staff members (CUSTOMER_STAFF_DISPLAY). */
  private async labels(
    people: { id: string; email: string | null }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    if (this.o.staffDisplay === 'support') return out
    await Promise.all(
      [...new Map(people.map((p) => [p.id, p])).values()].map(async (p) => {
        if (this.o.staffDisplay === 'email' && p.email) return void out.set(p.id, p.email)
        const user = await this.o.directory.getUser(p.id).catch(() => null)
        const label =
          this.o.staffDisplay === 'name'
            ? (user?.fullName ?? user?.primaryEmail ?? SUPPORT)
            : (user?.primaryEmail ?? SUPPORT)
        out.set(p.id, label)
      }),
    )
    return out
  }

  private async forCustomer(rows: AccessRequestRow[]): Promise<AccessRecord[]> {
    const labels = await this.labels(
      rows.flatMap((r) => (r.requestedBy ? [{ id: r.requestedBy, email: null }] : [])),
    )
    return rows.map((r) => {
      const record = this.record(r)
      const shown = this.o.staffDisplay === 'support'
      return {
        ...record,
        requestedBy: r.requestedBy
          ? { id: shown ? null : r.requestedBy, label: labels.get(r.requestedBy) ?? SUPPORT }
          : null,
        // Which staff member approved is staff's business; the customer sees that one did.
        approvedBy: r.approvedBy ? { id: null, label: SUPPORT } : null,
      }
    })
  }

  private record(r: AccessRequestRow): AccessRecord {
    return {
      id: r.id,
      user: { id: r.userId },
      requestedBy: r.requestedBy ? { id: r.requestedBy, label: r.requestedBy } : null,
      reason: r.reason,
      mode: r.mode,
      minutes: r.minutes,
      status: r.status,
      needs: { consent: r.needsConsent, approval: r.needsApproval },
      consentedBy: r.consentedBy,
      approvedBy: r.approvedBy ? { id: r.approvedBy, label: r.approvedBy } : null,
      decideBy: iso(r.decideBy),
      grant:
        r.grantedAt && r.grantEndsAt && r.grantMode
          ? {
              mode: r.grantMode,
              from: r.grantedAt.toISOString(),
              until: r.grantEndsAt.toISOString(),
              note: r.grantNote,
            }
          : null,
      settled: r.settledAt
        ? {
            at: r.settledAt.toISOString(),
            by: r.settledBy,
            cause: r.settledCause,
            reason: r.settledReason,
          }
        : null,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    }
  }

  private async page(
    where: SQL | undefined,
    params: { cursor?: string | undefined; limit: number },
    procedure: string,
  ) {
    try {
      return await this.o.store.page(where, params, procedure)
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new ActAsError('INVALID_INPUT', error.message)
      throw error
    }
  }

  /** Holds APPROVE_ACCESS_PERMISSION in a staff organization now (asked of Clerk). */
  private async mayApprove(userId: string): Promise<boolean> {
    const staffIds = [...(await this.o.staffOrganizations.ids())]
    const memberships = await this.o.directory.membershipsIn(userId, staffIds)
    return memberships.some(
      (m) =>
        staffIds.includes(m.organizationId) && m.permissions.includes(APPROVE_ACCESS_PERMISSION),
    )
  }

  private async found(id: string): Promise<AccessRequestRow> {
    const row = await this.o.store.get(id)
    if (!row) throw new ActAsError('ACCESS_NOT_FOUND', 'No access request has this id.')
    return row
  }

  /** The caller's own request; another user's is answered as unknown (and the attempt recorded). */
  private async mine(userId: string, id: string, procedure: string): Promise<AccessRequestRow> {
    const row = await this.found(id)
    if (row.userId !== userId)
      throw await this.refuseOn(
        row,
        userId,
        procedure,
        new ActAsError('ACCESS_NOT_FOUND', 'No access request has this id.'),
        'not the caller’s own',
      )
    return row
  }

  /** Records the refusal on the request's timeline (`access.refused`), then answers it. */
  private async refuseOn(
    row: AccessRequestRow,
    by: string,
    procedure: string,
    error: ActAsError,
    why: string = error.message,
  ): Promise<ActAsError> {
    try {
      await this.o.store.appendEvents(row.id, [
        { type: 'access.refused', by, reason: why, data: { procedure, code: error.code } },
      ])
    } catch (err) {
      if (!(err instanceof AccessNotFoundError)) throw err
    }
    return error
  }

  /** Records a refusal with no request to put it on (a refused attempt), then answers it. */
  private async refuseUnrecorded(
    principal: UserPrincipal,
    procedure: string,
    error: ActAsError,
    request: RequestInfo,
    params: { userId?: string; reason?: string; mode?: ImpersonationMode } = {},
  ): Promise<ActAsError> {
    const staffIds = await this.o.staffOrganizations.ids().catch(() => new Set<string>())
    await this.o.recordDenied(
      {
        procedure,
        principal,
        staff: principal.orgId !== null && staffIds.has(principal.orgId),
        userId: params.userId ?? null,
        reason: params.reason ?? null,
        ticketUrl: null,
        sessionMinutes: null,
        mode: params.mode ?? null,
        code: error.code,
        message: error.message,
      },
      request,
    )
    return error
  }
}

/**
 * Holds APPROVE_ACCESS_PERMISSION in its active organization, a staff organization, by the
 * session token's claims (at most a minute old): for display only, never for a decision.
 */
function approverBySession(principal: StaffPrincipal): boolean {
  return principal.staffOrganization && principal.permissions.includes(APPROVE_ACCESS_PERMISSION)
}

function settingOf(
  organizationId: string,
  row: OrganizationAccessSettingRow | null,
): OrganizationSettingOutput {
  return {
    organizationId,
    setting: row?.setting ?? 'allowed',
    changedBy: row?.changedBy ?? null,
    changedAt: iso(row?.changedAt ?? null),
  }
}
