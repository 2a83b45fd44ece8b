// The use cases behind the router's ports: user search with the policy's verdicts, and
// impersonation start / revoke / list / quota over the audit log and the user directory.
import { randomUUID } from 'node:crypto'
import { ActAsError, principalId } from '@actas/contracts'
import type {
  DeniedAttempt,
  DirectoryPort,
  ImpersonationListOutput,
  ImpersonationListParams,
  ImpersonationPort,
  ImpersonationRecord,
  ImpersonationStartOutput,
  ImpersonationStartParams,
  QuotaOutput,
  ReaderPrincipal,
  RequestInfo,
  SessionActor,
  StaffPrincipal,
  UserPrincipal,
  UsersSearchOutput,
  UsersSearchParams,
} from '@actas/contracts'
import type { Logger } from 'pino'
import { InvalidCursorError, toRecord } from '../audit/store.js'
import type { AuditStore } from '../audit/store.js'
import { matchingPhone, normalizeSearchQuery } from '../directory/phone-query.js'
import type { CountryCode } from 'libphonenumber-js'
import type { StaffOrganizations } from '../directory/staff-organizations.js'
import type { DirectoryUser, UserDirectory } from '../directory/user-directory.js'
import { evaluateImpersonation, MACHINE_VERDICT } from './policy.js'

export interface ImpersonationServiceOptions {
  directory: UserDirectory
  audit: AuditStore
  now: () => Date
  logger: Logger
  /** STAFF_ORGANIZATIONS as ids: their members are never impersonated. */
  staffOrganizations: StaffOrganizations
  /** Country of phone numbers typed in national format. */
  defaultPhoneCountry: CountryCode
  actorTokenTtlSeconds: number
  impersonationQuota: number
  appHomePath: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function encodeOffset(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url')
}

function decodeOffset(cursor: string): number {
  const match = /^o:(\d{1,7})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!match?.[1])
    throw new ActAsError('INVALID_INPUT', 'This cursor was not returned by users.search.')
  return Number(match[1])
}

export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))
}

export class ImpersonationService implements DirectoryPort, ImpersonationPort {
  private readonly emailCache = new Map<string, { at: number; email: string | null }>()

  constructor(private readonly o: ImpersonationServiceOptions) {}

  async search(principal: ReaderPrincipal, params: UsersSearchParams): Promise<UsersSearchOutput> {
    const offset = params.cursor ? decodeOffset(params.cursor) : (params.offset ?? 0)
    // A phone number typed with spaces, dashes, `00` or in national format becomes the digits
    // Clerk matches; rows then show the phone that matched.
    const { query, phoneDigits } = normalizeSearchQuery(params.query, this.o.defaultPhoneCountry)
    const page = await this.o.directory.searchUsers({
      query,
      limit: params.limit,
      offset,
      orderBy: params.orderBy,
    })
    const [memberships, staffOrganizationIds] = await Promise.all([
      Promise.all(page.users.map((u) => this.o.directory.getMemberships(u.id))),
      principal.kind === 'machine' ? undefined : this.o.staffOrganizations.ids(),
    ])
    const items = page.users.map((user, i) => {
      const orgs = memberships[i] ?? []
      const matchedPhone = phoneDigits ? matchingPhone(user.phoneNumbers, phoneDigits) : null
      return {
        id: user.id,
        primaryEmail: user.primaryEmail,
        fullName: user.fullName,
        imageUrl: user.imageUrl,
        createdAt: new Date(user.createdAt).toISOString(),
        lastSignInAt: iso(user.lastSignInAt),
        lastActiveAt: iso(user.lastActiveAt),
        banned: user.banned,
        locked: user.locked,
        organizations: orgs.map((m) => ({
          id: m.organizationId,
          name: m.organizationName,
          slug: m.organizationSlug,
          role: m.role,
        })),
        impersonation: staffOrganizationIds
          ? evaluateImpersonation(
              principal as StaffPrincipal,
              { ...user, memberships: orgs },
              { staffOrganizationIds },
            )
          : MACHINE_VERDICT,
        ...(matchedPhone ? { matchedPhone } : {}),
      }
    })
    const end = offset + page.users.length
    return {
      items,
      total: page.total,
      next: page.users.length > 0 && end < page.total ? encodeOffset(end) : null,
    }
  }

  private async emailOf(userId: string): Promise<string | null> {
    const cached = this.emailCache.get(userId)
    if (cached && Date.now() - cached.at < 300_000) return cached.email
    const user = await this.o.directory.getUser(userId)
    const email = user?.primaryEmail ?? null
    if (this.emailCache.size > 1000) this.emailCache.clear()
    this.emailCache.set(userId, { at: Date.now(), email })
    return email
  }

  async start(
    principal: StaffPrincipal,
    params: ImpersonationStartParams,
    request: RequestInfo,
  ): Promise<ImpersonationStartOutput> {
    const id = randomUUID()
    // Write-ahead: no row, no ticket.
    try {
      await this.o.audit.insert({
        id,
        actorId: principal.userId,
        actorSessionId: principal.sessionId,
        actorOrganizationId: principal.orgId,
        userId: params.userId,
        reason: params.reason,
        ticketUrl: params.ticketUrl ?? null,
        sessionMinutes: params.sessionMinutes,
        status: 'pending',
        requestId: request.id,
        ip: request.ip,
        userAgent: request.userAgent,
      })
    } catch (error) {
      this.o.logger.error(
        { err: error, impersonationId: id },
        'audit write failed; no ticket issued',
      )
      throw new ActAsError(
        'SERVICE_UNAVAILABLE',
        'The audit log could not be written, so no ticket was issued.',
        {
          retryAfterSeconds: 5,
        },
      )
    }

    const fail = async (
      error: ActAsError,
      status: 'denied' | 'failed',
      extra: { userEmail?: string | null } = {},
    ) => {
      try {
        await this.o.audit.update(id, {
          status,
          outcomeCode: error.code,
          outcomeMessage: error.message,
          ...extra,
        })
      } catch (auditError) {
        this.o.logger.error({ err: auditError, impersonationId: id }, 'audit outcome write failed')
      }
      return error
    }

    let target: DirectoryUser | null
    let actorEmail: string | null = null
    let memberships
    let staffOrganizationIds: ReadonlySet<string>
    try {
      ;[target, actorEmail, staffOrganizationIds] = await Promise.all([
        this.o.directory.getUser(params.userId),
        this.emailOf(principal.userId).catch(() => null),
        this.o.staffOrganizations.ids(),
      ])
      // The staff check decides on fresh memberships, never on what a search showed.
      memberships = target ? await this.o.directory.getMemberships(target.id, { fresh: true }) : []
    } catch (error) {
      throw await fail(asActAsError(error), 'failed')
    }
    if (actorEmail) await this.o.audit.update(id, { actorEmail }).catch(() => undefined)
    if (!target)
      throw await fail(new ActAsError('USER_NOT_FOUND', 'This user no longer exists.'), 'failed')

    const verdict = evaluateImpersonation(
      principal,
      { ...target, memberships },
      { staffOrganizationIds },
    )
    if (!verdict.allowed) {
      const denial = new ActAsError(
        'POLICY_DENIED',
        verdict.reason ?? 'Impersonation refused by policy.',
        {
          ...(verdict.rule ? { rule: verdict.rule } : {}),
        },
      )
      throw await fail(denial, 'denied', { userEmail: target.primaryEmail })
    }

    const issuedAt = this.o.now().getTime()
    const expiresAt = new Date(issuedAt + this.o.actorTokenTtlSeconds * 1000)
    const sessionExpiresAt = new Date(expiresAt.getTime() + params.sessionMinutes * 60_000)
    let token
    try {
      token = await this.o.directory.createActorToken({
        userId: target.id,
        actor: { sub: principal.userId, reason: params.reason, impersonation_id: id },
        expiresInSeconds: this.o.actorTokenTtlSeconds,
        sessionMaxDurationInSeconds: params.sessionMinutes * 60,
      })
    } catch (error) {
      throw await fail(asActAsError(error), 'failed', { userEmail: target.primaryEmail })
    }

    try {
      await this.o.audit.update(id, {
        status: 'issued',
        userEmail: target.primaryEmail,
        clerkActorTokenId: token.id,
        expiresAt,
        sessionExpiresAt,
      })
    } catch (error) {
      this.o.logger.error(
        { err: error, impersonationId: id },
        'audit outcome write failed; revoking the ticket',
      )
      await this.o.directory.revokeActorToken(token.id).catch((revokeError: unknown) => {
        this.o.logger.error(
          { err: revokeError, impersonationId: id },
          'could not revoke an unrecorded ticket',
        )
      })
      throw new ActAsError(
        'SERVICE_UNAVAILABLE',
        'The audit log could not be written, so no ticket was issued.',
        {
          retryAfterSeconds: 5,
        },
      )
    }

    this.o.logger.info(
      { impersonationId: id, actorId: principal.userId, userId: target.id },
      'impersonation issued',
    )
    return {
      impersonationId: id,
      ticket: token.token,
      expiresAt: expiresAt.toISOString(),
      sessionExpiresAt: sessionExpiresAt.toISOString(),
      redirectPath: this.o.appHomePath,
    }
  }

  /**
   * An attempt `authorize` refused (a signed-in caller without the permission): one `denied` row,
   * written after the refusal. Fields the input did not carry validly are recorded empty (`''`
   * for the user and reason, 0 minutes). A failed write is logged; the caller's answer is the
   * refusal either way.
   */
  async recordDenied(attempt: DeniedAttempt, request: RequestInfo): Promise<void> {
    const { principal } = attempt
    const user = principal.kind === 'user' ? principal : null
    try {
      await this.o.audit.insert({
        id: randomUUID(),
        // A machine's refused attempt is recorded under its machine id.
        actorId: principalId(principal),
        actorSessionId: user?.sessionId ?? null,
        actorOrganizationId: user?.orgId ?? null,
        userId: attempt.userId ?? '',
        reason: attempt.reason ?? '',
        ticketUrl: null,
        sessionMinutes: attempt.sessionMinutes ?? 0,
        status: 'denied',
        outcomeCode: attempt.code,
        outcomeMessage: attempt.message,
        requestId: request.id,
        ip: request.ip,
        userAgent: request.userAgent,
      })
    } catch (error) {
      this.o.logger.error(
        { err: error, actorId: principalId(principal), procedure: attempt.procedure },
        'audit write of a refused attempt failed',
      )
    }
  }

  async revoke(
    principal: StaffPrincipal,
    impersonationId: string,
    request: RequestInfo,
  ): Promise<ImpersonationRecord> {
    const row = await this.o.audit.get(impersonationId)
    if (!row) throw new ActAsError('IMPERSONATION_NOT_FOUND', 'No impersonation has this id.')
    if (row.status === 'revoked') return toRecord(row)
    if (row.status !== 'issued' || !row.clerkActorTokenId) {
      throw new ActAsError(
        'INVALID_INPUT',
        `This impersonation has no ticket to revoke (it was ${row.status}).`,
      )
    }
    await this.o.directory.revokeActorToken(row.clerkActorTokenId)
    const updated = await this.o.audit.update(row.id, {
      status: 'revoked',
      revokedBy: principal.userId,
    })
    this.o.logger.info(
      { impersonationId: row.id, actorId: principal.userId, requestId: request.id },
      'impersonation revoked',
    )
    return toRecord(updated)
  }

  async list(
    principal: ReaderPrincipal,
    params: ImpersonationListParams,
    request: RequestInfo,
  ): Promise<ImpersonationListOutput> {
    let page: Awaited<ReturnType<AuditStore['list']>>
    try {
      page = await this.o.audit.list(params)
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new ActAsError('INVALID_INPUT', error.message)
      throw error
    }
    if (principal.kind === 'machine') {
      // A machine reading the audit log is itself audited; no record, no rows.
      await this.o.audit.insertAuditRead({
        id: randomUUID(),
        machineId: principal.machineId,
        tokenId: principal.tokenId,
        procedure: 'impersonation.list',
        params: { ...params },
        rowCount: page.rows.length,
        requestId: request.id,
        ip: request.ip,
        userAgent: request.userAgent,
      })
    }
    return { items: page.rows.map(toRecord), next: page.next }
  }

  /**
   * `me` on an impersonated session: the staff email and the session's latest end from the audit
   * row the `act` claim names, only when that row's actor is the claim's `sub` and its user is
   * this session's user. One read; a failed read is logged and answers null (`me` still works).
   */
  async describeActor(
    principal: UserPrincipal,
  ): Promise<Pick<SessionActor, 'email' | 'sessionExpiresAt'> | null> {
    const actor = principal.actor
    const id = actor?.impersonationId
    // Audit ids are UUIDs (the column's type); anything else names no row.
    if (!actor || !id || !UUID.test(id)) return null
    let row
    try {
      row = await this.o.audit.get(id)
    } catch (error) {
      this.o.logger.error({ err: error, impersonationId: id }, 'audit read for me() failed')
      return null
    }
    if (!row) return null
    if (row.actorId !== actor.sub || row.userId !== principal.userId) {
      this.o.logger.warn(
        { impersonationId: id, actorId: actor.sub, userId: principal.userId },
        'act claim names an audit row of another actor or user',
      )
      return null
    }
    return {
      email: row.actorEmail,
      sessionExpiresAt: row.sessionExpiresAt?.toISOString() ?? null,
    }
  }

  async quota(_principal: StaffPrincipal): Promise<QuotaOutput> {
    const now = this.o.now()
    const periodStart = monthStart(now)
    const periodEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))
    const used = await this.o.audit.countIssuedSince(periodStart)
    const limit = this.o.impersonationQuota
    return {
      used,
      limit,
      remaining: Math.max(0, limit - used),
      nextIsBillable: used >= limit,
      periodStart: periodStart.toISOString(),
      periodEnd: periodEnd.toISOString(),
    }
  }
}

function asActAsError(error: unknown): ActAsError {
  return error instanceof ActAsError
    ? error
    : new ActAsError('SERVICE_UNAVAILABLE', 'Clerk could not be reached; try again in a moment.', {
        cause: error,
      })
}
