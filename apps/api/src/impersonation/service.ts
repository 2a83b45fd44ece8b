// The use cases behind the router's ports: user search with the policy's verdicts, and
// impersonation start / revoke / list / quota over the audit log and the user directory.
import { randomUUID } from 'node:crypto'
import {
  ActAsError,
  MAX_ACTIONS_IN_GET,
  principalId,
  REVOKED_LOOKBACK_MINUTES,
} from '@actas/contracts'
import type {
  AuditPort,
  AuditVerifyInput,
  AuditVerifyOutput,
  DeniedAttempt,
  DirectoryPort,
  ImpersonationActionsInput,
  ImpersonationActionsOutput,
  ImpersonationActiveOutput,
  ImpersonationEndInput,
  ImpersonationGetOutput,
  ImpersonationMode,
  ImpersonationListOutput,
  ImpersonationListParams,
  ImpersonationPort,
  ImpersonationRecord,
  ImpersonationStartOutput,
  ImpersonationStartParams,
  ImpersonationSignInFailedInput,
  ImpersonationStopInput,
  ImpersonationStopOutput,
  MachinePrincipal,
  QuotaOutput,
  ReaderPrincipal,
  RequestInfo,
  SessionActor,
  SessionsRevokedOutput,
  SessionsRevokedParams,
  StaffPrincipal,
  UserPrincipal,
  UsersSearchOutput,
  UsersSearchParams,
} from '@actas/contracts'
import type { CountryCode } from 'libphonenumber-js'
import type { Logger } from 'pino'
import type { QuotaGate } from '../audit/quota.js'
import { databaseFault } from '../audit/db.js'
import { InvalidCursorError, toEvent, toRecord } from '../audit/store.js'
import type { AuditStore, EventInput } from '../audit/store.js'
import { matchingPhone, normalizeSearchQuery } from '../directory/phone-query.js'
import type { MembershipMirror } from '../directory/membership-mirror.js'
import type { DirectoryUser, IssuedActorToken, UserDirectory } from '../directory/user-directory.js'
import type { ImpersonationLifecycle } from './lifecycle.js'
import { actorTokenWithin } from './deadline.js'
import { lastSignInWasImpersonation } from './last-sign-in.js'
import type { SignedInMirror } from './last-sign-in.js'
import { MACHINE_VERDICT } from './policy.js'
import type { ImpersonationPolicy } from './policy-facts.js'
import { StepUp } from './step-up.js'
import { countStart } from '../metrics/metrics.js'

export interface ImpersonationServiceOptions {
  directory: UserDirectory
  audit: AuditStore
  now: () => Date
  logger: Logger
  /** The policy: the search rows' verdicts and the start's judgement. */
  policy: Pick<ImpersonationPolicy, 'searchVerdicts' | 'atStart'>
  /** Country of phone numbers typed in national format. */
  defaultPhoneCountry: CountryCode
  /** Every membership, for the organizations shown in search rows (display only). */
  memberships?: MembershipMirror
  /** Each user's latest signed-in impersonation, for the rows' last sign-in (display only). */
  signedIn?: SignedInMirror
  actorTokenTtlSeconds: number
  impersonationQuota: number
  /** `block`: a start past the quota is refused before asking Clerk (atomically, see QuotaGate). */
  impersonationQuotaMode?: 'warn' | 'block'
  quotaGate?: QuotaGate
  appHomePath: string
  /** APP_ORIGINS: the host application's origins (the first is the default landing). */
  appOrigins?: readonly string[]
  /**
   * Step-up: the staff session's first factor must have been verified within this many minutes
   * (STEP_UP_MINUTES; the token's `fva`); null or absent: off.
   */
  stepUpMinutes?: number | null
  /** The mode when `impersonation.start` names none (IMPERSONATION_DEFAULT_MODE; default full). */
  defaultMode?: ImpersonationMode
  /** After the ticket: the board, the kill switch, Stop and the sign-in report. */
  lifecycle: ImpersonationLifecycle
  /**
   * Refused `impersonation.start` attempts of one caller who is not staff recorded in full per
   * minute; the rest of that minute become one aggregate record (default 10).
   */
  deniedFullPerMinute?: number
  /** After a start's outcome is recorded (the alert rules, src/alerts); must not throw. */
  onStartSettled?: (actorId: string, impersonationId: string) => void
}

/** Refused attempts of one non-staff caller in the current minute (flood control). */
interface RefusalWindow {
  minute: number
  full: number
  /** Attempts beyond `full`, not recorded yet: one aggregate record when the minute is over. */
  extra: number
  first: DeniedAttempt | null
  request: RequestInfo | null
  firstAt: number
  lastAt: number
}

/**
 * Who starts or ends: a staff member in their own name (their session token), or a machine on
 * behalf of a named staff member (`via`: the machine; no session, no active organization, no
 * `fva`: the policy reads the person from Clerk; no step-up, see `authorize`).
 */
type Acting = Pick<UserPrincipal, 'userId' | 'sessionId' | 'actor' | 'factorVerificationAge'> & {
  orgId: string | null
  via: string | null
}

/** One `impersonation.start` under way, after its write-ahead. */
interface StartAttempt {
  id: string
  principal: Acting
  params: ImpersonationStartParams
  /** The staff member's email, for the record (once read). */
  actorEmail: string | null
}

const auditUnavailable = () =>
  new ActAsError(
    'SERVICE_UNAVAILABLE',
    'The audit log could not be written, so no ticket was issued.',
    { retryAfterSeconds: 5 },
  )

/** Callers whose refusal windows are kept at most; past it, every window is flushed. */
const MAX_REFUSAL_WINDOWS = 10_000

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

/** How far an action's time may be off the impersonation's span (the guard's clock). */
const ACTION_CLOCK_SKEW_MS = 5 * 60_000

/** The caller as who acts: staff in their own name, or a machine for the staff member it names. */
function actingFor(caller: ReaderPrincipal, onBehalfOf: string | undefined): Acting {
  if (caller.kind !== 'machine') {
    if (onBehalfOf !== undefined)
      throw new ActAsError(
        'INVALID_INPUT',
        'onBehalfOf is for machines: a staff member acts in their own name.',
      )
    return { ...caller, via: null }
  }
  if (onBehalfOf === undefined)
    throw new ActAsError(
      'INVALID_INPUT',
      'A machine acts only on behalf of a named staff member: send onBehalfOf (their user id).',
    )
  return {
    userId: onBehalfOf,
    sessionId: null,
    orgId: null,
    actor: null,
    factorVerificationAge: null,
    via: caller.machineId,
  }
}

/** `{ via }` for what a machine did on someone's behalf (events, logs), else nothing. */
const viaOf = (principal: Acting): { via?: string } => (principal.via ? { via: principal.via } : {})

export class ImpersonationService implements DirectoryPort, ImpersonationPort, AuditPort {
  private readonly refusals = new Map<string, RefusalWindow>()
  private readonly flushTimer: NodeJS.Timeout
  private readonly stepUp: StepUp

  constructor(private readonly o: ImpersonationServiceOptions) {
    this.stepUp = new StepUp({
      afterMinutes: o.stepUpMinutes,
      audit: o.audit,
      directory: o.directory,
      now: o.now,
    })
    // Aggregates of past minutes are written within 15 s, even if the caller stops.
    this.flushTimer = setInterval(() => void this.flushRefusals(false), 15_000)
    this.flushTimer.unref()
  }

  /** Writes pending aggregate records and stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.flushTimer)
    await this.flushRefusals(true)
  }

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
    const userIds = page.users.map((u) => u.id)
    // Clerk calls per page, whatever its size: the list, the count when the page cannot tell the
    // total (cached 5 s), and one fresh read of which rows are staff. Organizations shown come
    // from the membership mirror (display only); before its first load, per-user reads (cached).
    // Which rows' last sign-in was an impersonation (the audit log; display only: without it the
    // rows carry no mark), read while Clerk is asked.
    const impersonated = (
      this.o.signedIn?.of(userIds) ?? this.o.audit.latestImpersonatedSignIns(userIds)
    ).catch((): Awaited<ReturnType<AuditStore['latestImpersonatedSignIns']>> => new Map())
    const memberships = this.o.memberships?.ready
      ? userIds.map((id) => this.o.memberships!.of(id) ?? [])
      : await Promise.all(userIds.map((id) => this.o.directory.getMemberships(id)))
    // The policy's verdicts: a machine gets its own; staff, one fresh read of which rows are
    // members of a staff organization and one of a read-only one (policy-facts.ts). The rows'
    // organizations (display data) only name which read-only organization a verdict is about.
    const verdicts =
      principal.kind === 'machine'
        ? null
        : await this.o.policy.searchVerdicts(principal, page.users, memberships)
    const lastSignIns = await impersonated
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
        ...(lastSignInWasImpersonation(user.lastSignInAt, lastSignIns.get(user.id))
          ? { lastSignInImpersonated: true as const }
          : {}),
        lastActiveAt: iso(user.lastActiveAt),
        banned: user.banned,
        locked: user.locked,
        organizations: orgs.map((m) => ({
          id: m.organizationId,
          name: m.organizationName,
          slug: m.organizationSlug,
          role: m.role,
        })),
        impersonation: verdicts?.[i] ?? MACHINE_VERDICT,
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

  /**
   * `impersonation.start`, step by step: authorize (step-up), write the request ahead, gather
   * the facts, judge, gate the quota, ask Clerk for the ticket, record it, answer. Every refusal
   * after the write-ahead is recorded on the attempt's timeline (`denied` or `failed`).
   */
  async start(
    caller: ReaderPrincipal,
    params: ImpersonationStartParams,
    request: RequestInfo,
  ): Promise<ImpersonationStartOutput> {
    const principal = actingFor(caller, params.onBehalfOf)
    const actorVerifiedAt = await this.authorize(principal)
    // Where it lands (APP_ORIGINS), checked before anything is recorded or asked of Clerk.
    const landingUrl = landingFor(params.landingUrl, this.o.appOrigins ?? [], this.o.appHomePath)
    const attempt = await this.writeAhead(principal, params, request)
    try {
      await this.gateQuota(attempt)
      const target = await this.gatherTarget(attempt)
      const mode = await this.judgeStart(attempt, target)
      const expiresAt = new Date(this.o.now().getTime() + this.o.actorTokenTtlSeconds * 1000)
      const sessionExpiresAt = new Date(expiresAt.getTime() + params.sessionMinutes * 60_000)
      const token = await this.askClerk(attempt, target, mode)
      await this.recordIssued(attempt, {
        clerkActorTokenId: token.id,
        expiresAt: expiresAt.toISOString(),
        sessionExpiresAt: sessionExpiresAt.toISOString(),
        userEmail: target.primaryEmail,
        actorEmail: attempt.actorEmail,
        mode,
        ...(actorVerifiedAt ? { actorVerifiedAt } : {}),
        ...viaOf(principal),
      })
      this.o.logger.info(
        {
          impersonationId: attempt.id,
          actorId: principal.userId,
          userId: target.id,
          ...viaOf(principal),
        },
        'impersonation issued',
      )
      return {
        impersonationId: attempt.id,
        ticket: token.token,
        expiresAt: expiresAt.toISOString(),
        sessionExpiresAt: sessionExpiresAt.toISOString(),
        redirectPath: this.o.appHomePath,
        landingUrl,
        mode,
      }
    } finally {
      // The outcome is recorded (issued, denied or failed): the alert rules look at it.
      this.o.onStartSettled?.(principal.userId, attempt.id)
    }
  }

  /**
   * Step-up before anything else: not an attempt yet, so nothing is recorded (like a missing
   * session); the console reverifies the password and retries. Answers the verification to carry.
   * A machine on someone's behalf owes none: step-up proves a person is still at a browser
   * session, and a machine has no session — its M2M token is minted from its secret for each
   * job, and the operator's explicit grant of `impersonation.start` (MACHINE_PERMISSIONS) is what
   * lets it act; the start is recorded with the machine as `via` (docs/m2m.md).
   */
  private authorize(principal: Acting): Promise<string | null> {
    if (principal.via) return Promise.resolve(null)
    return this.stepUp.require(principal)
  }

  /** Write-ahead: no row and `requested` event, no ticket. */
  private async writeAhead(
    principal: Acting,
    params: ImpersonationStartParams,
    request: RequestInfo,
  ): Promise<StartAttempt> {
    const id = randomUUID()
    try {
      await this.o.audit.createImpersonation({
        id,
        actorId: principal.userId,
        actorSessionId: principal.sessionId,
        actorOrganizationId: principal.orgId,
        userId: params.userId,
        reason: params.reason,
        ticketUrl: params.ticketUrl ?? null,
        sessionMinutes: params.sessionMinutes,
        // Asked for, or the default (a read-only target's default is read-only: judged later).
        mode: params.mode ?? this.o.defaultMode ?? 'full',
        requestedMode: params.mode ?? null,
        requestId: request.id,
        ip: request.ip,
        userAgent: request.userAgent,
        returnSecretHash: params.returnSecretHash ?? null,
        via: principal.via,
      })
    } catch (error) {
      this.o.logger.error(
        { err: error, impersonationId: id },
        'audit write failed; no ticket issued',
      )
      throw auditUnavailable()
    }
    return { id, principal, params, actorEmail: null }
  }

  /** The target, read fresh (and the staff member's email for the record). */
  private async gatherTarget(attempt: StartAttempt): Promise<DirectoryUser> {
    let target: DirectoryUser | null
    try {
      ;[target, attempt.actorEmail] = await Promise.all([
        this.o.directory.getUser(attempt.params.userId),
        this.o.lifecycle.emailOf(attempt.principal.userId),
      ])
    } catch (error) {
      throw await this.refuse(attempt, asActAsError(error), 'failed')
    }
    if (!target)
      throw await this.refuse(
        attempt,
        new ActAsError('USER_NOT_FOUND', 'This user no longer exists.'),
        'failed',
      )
    return target
  }

  /**
   * The policy's `start` moment, on facts read fresh (never on what a search showed): the mode,
   * or a recorded POLICY_DENIED. No mode asked: the policy's (read-only for a read-only target,
   * else the default).
   */
  private async judgeStart(
    attempt: StartAttempt,
    target: DirectoryUser,
  ): Promise<ImpersonationMode> {
    const asked = attempt.params.mode
    let judgement
    try {
      judgement = await this.o.policy.atStart(
        attempt.principal,
        target,
        asked,
        attempt.params.sessionMinutes,
      )
    } catch (error) {
      throw await this.refuse(attempt, asActAsError(error), 'failed', {
        userEmail: target.primaryEmail,
      })
    }
    if (!judgement.allowed) {
      const rule = judgement.by.rule
      const denial = new ActAsError('POLICY_DENIED', judgement.reason, rule ? { rule } : {})
      throw await this.refuse(attempt, denial, 'denied', { userEmail: target.primaryEmail })
    }
    return asked ?? judgement.defaultMode
  }

  /**
   * IMPERSONATION_QUOTA_MODE=block: a start past the quota is refused before anything is asked
   * of Clerk (the reservation lasts a ticket's lifetime; a refusal or failure later frees it).
   */
  private async gateQuota(attempt: StartAttempt): Promise<void> {
    if (this.o.impersonationQuotaMode !== 'block' || !this.o.quotaGate) return
    let reserved: boolean
    try {
      const now = this.o.now()
      reserved = await this.o.quotaGate.reserve(
        attempt.id,
        this.o.impersonationQuota,
        monthStart(now),
        new Date(now.getTime() + this.o.actorTokenTtlSeconds * 1000),
        now,
      )
    } catch (error) {
      this.o.logger.error({ err: error, impersonationId: attempt.id }, 'quota reservation failed')
      throw await this.refuse(
        attempt,
        new ActAsError(
          'SERVICE_UNAVAILABLE',
          'The audit database is unavailable; try again in a moment.',
          { retryAfterSeconds: 5 },
        ),
        'failed',
      )
    }
    if (!reserved)
      throw await this.refuse(
        attempt,
        new ActAsError(
          'QUOTA_EXCEEDED',
          `This month's ${this.o.impersonationQuota} impersonations are used up (IMPERSONATION_QUOTA_MODE=block).`,
        ),
        'denied',
      )
  }

  /** The actor token: its whole actor payload becomes the session token's `act` claim. */
  private async askClerk(
    attempt: StartAttempt,
    target: DirectoryUser,
    mode: ImpersonationMode,
  ): Promise<IssuedActorToken> {
    const { principal, params } = attempt
    try {
      // Never past the caller's deadline (deadline.ts): no ticket that nobody receives.
      return await actorTokenWithin(params.deadline, this.o, () =>
        this.o.directory.createActorToken({
          userId: target.id,
          actor: {
            sub: principal.userId,
            reason: params.reason,
            impersonation_id: attempt.id,
            mode,
          },
          expiresInSeconds: this.o.actorTokenTtlSeconds,
          sessionMaxDurationInSeconds: params.sessionMinutes * 60,
        }),
      )
    } catch (error) {
      throw await this.refuse(attempt, asActAsError(error), 'failed', {
        userEmail: target.primaryEmail,
      })
    }
  }

  /** The `issued` event; when it cannot be written the ticket is revoked and nothing answered. */
  private async recordIssued(
    attempt: StartAttempt,
    data: { clerkActorTokenId: string } & Record<string, string | null>,
  ): Promise<void> {
    try {
      await this.o.audit.appendEvent(attempt.id, { type: 'issued', data })
      countStart('issued')
    } catch (error) {
      this.o.logger.error(
        { err: error, impersonationId: attempt.id },
        'audit outcome write failed; revoking the ticket',
      )
      await this.o.directory
        .revokeActorToken(data.clerkActorTokenId)
        .catch((revokeError: unknown) => {
          this.o.logger.error(
            { err: revokeError, impersonationId: attempt.id },
            'could not revoke an unrecorded ticket',
          )
        })
      throw auditUnavailable()
    }
  }

  /** Records a refused attempt's outcome (`denied` or `failed`) and answers the error to throw. */
  private async refuse(
    attempt: StartAttempt,
    error: ActAsError,
    type: 'denied' | 'failed',
    extra: { userEmail?: string | null } = {},
  ): Promise<ActAsError> {
    countStart(type, error.rule ?? error.code)
    await this.append(attempt.id, {
      type,
      data: {
        code: error.code,
        message: error.message,
        rule: error.rule,
        actorEmail: attempt.actorEmail,
        ...viaOf(attempt.principal),
        ...extra,
      },
    })
    return error
  }

  /** Appends an outcome event; a failed write is logged (the caller's answer stands). */
  private async append(id: string, event: EventInput): Promise<void> {
    try {
      await this.o.audit.appendEvent(id, event)
    } catch (error) {
      this.o.logger.error({ err: error, impersonationId: id }, 'audit outcome write failed')
    }
  }

  /**
   * An `impersonation.start` refused before it ran (no permission, rate limit, invalid input):
   * a `denied` record (row + `requested` + `denied` events) with the raw input's text, cleaned
   * and capped by the store. Staff are always recorded in full; any other caller gets at most
   * `deniedFullPerMinute` full records a minute, and the rest of that minute become one aggregate
   * record ("+342 more refused attempts from user_…"). Never throws: a failed write is logged.
   */
  async recordDenied(attempt: DeniedAttempt, request: RequestInfo): Promise<void> {
    countStart('denied', attempt.code)
    if (!attempt.staff) {
      const key = principalId(attempt.principal)
      const nowMs = this.o.now().getTime()
      const minute = Math.floor(nowMs / 60_000)
      let window = this.refusals.get(key)
      if (window && window.minute !== minute) {
        this.refusals.delete(key)
        await this.writeAggregate(key, window)
        window = undefined
      }
      if (!window) {
        if (this.refusals.size >= MAX_REFUSAL_WINDOWS) await this.flushRefusals(true)
        window = { minute, full: 0, extra: 0, first: null, request: null, firstAt: 0, lastAt: 0 }
        this.refusals.set(key, window)
      }
      if (window.full >= (this.o.deniedFullPerMinute ?? 10)) {
        if (window.extra === 0) {
          window.first = attempt
          window.request = request
          window.firstAt = nowMs
        }
        window.extra += 1
        window.lastAt = nowMs
        return
      }
      window.full += 1
    }
    await this.writeDenied(attempt, request, 1)
  }

  private async writeDenied(
    attempt: DeniedAttempt,
    request: RequestInfo,
    attempts: number,
    message = attempt.message,
  ): Promise<void> {
    const { principal } = attempt
    const user = principal.kind === 'user' ? principal : null
    try {
      await this.o.audit.createImpersonation(
        {
          id: randomUUID(),
          // A machine's refused attempt is recorded under its machine id.
          actorId: principalId(principal),
          actorSessionId: user?.sessionId ?? null,
          actorOrganizationId: user?.orgId ?? null,
          userId: attempt.userId ?? '',
          reason: attempt.reason ?? '',
          ticketUrl: attempt.ticketUrl,
          sessionMinutes: attempt.sessionMinutes ?? 0,
          ...(attempt.mode ? { mode: attempt.mode } : {}),
          requestId: request.id,
          ip: request.ip,
          userAgent: request.userAgent,
          attempts,
        },
        [{ type: 'denied', data: { code: attempt.code, message } }],
      )
    } catch (error) {
      this.o.logger.error(
        { err: error, actorId: principalId(principal), procedure: attempt.procedure },
        'audit write of a refused attempt failed',
      )
    }
  }

  /** One record for the attempts of a minute beyond the full ones (the first one's details). */
  private async writeAggregate(key: string, window: RefusalWindow): Promise<void> {
    if (window.extra === 0 || !window.first || !window.request) return
    const from = new Date(window.firstAt).toISOString()
    const to = new Date(window.lastAt).toISOString()
    await this.writeDenied(
      window.first,
      window.request,
      window.extra,
      `+${window.extra} more refused attempts from ${key} between ${from} and ${to} (the first: ${window.first.code}: ${window.first.message})`,
    )
  }

  /** Writes the aggregates of minutes that are over (all of them with `all`). */
  private async flushRefusals(all: boolean): Promise<void> {
    const minute = Math.floor(this.o.now().getTime() / 60_000)
    for (const [key, window] of [...this.refusals]) {
      if (!all && window.minute === minute) continue
      this.refusals.delete(key)
      await this.writeAggregate(key, window)
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
    const result = await this.o.audit.appendEvent(row.id, {
      type: 'ticket_revoked',
      by: principal.userId,
    })
    this.o.logger.info(
      { impersonationId: row.id, actorId: principal.userId, requestId: request.id },
      'impersonation revoked',
    )
    return toRecord(result.row)
  }

  async get(
    principal: ReaderPrincipal,
    impersonationId: string,
    request: RequestInfo,
  ): Promise<ImpersonationGetOutput> {
    const row = await this.o.audit.get(impersonationId)
    if (!row) throw new ActAsError('IMPERSONATION_NOT_FOUND', 'No impersonation has this id.')
    const events = await this.o.audit.events(row.id)
    const actions = await this.o.audit.actions(row.id, MAX_ACTIONS_IN_GET)
    if (principal.kind === 'machine') {
      // A machine reading the audit log is itself audited; no record, no rows.
      await this.o.audit.insertAuditRead({
        id: randomUUID(),
        machineId: principal.machineId,
        tokenId: principal.tokenId,
        procedure: 'impersonation.get',
        params: { impersonationId },
        rowCount: 1,
        requestId: request.id,
        ip: request.ip,
        userAgent: request.userAgent,
      })
    }
    return {
      ...toRecord(row),
      events: events.map(toEvent),
      actions: actions.rows.map((a) => ({
        method: a.method,
        route: a.route,
        status: a.status,
        at: a.at.toISOString(),
      })),
      actionsTotal: actions.total,
    }
  }

  /**
   * What a guard polls. Not recorded as an audit read: it says which sessions to refuse, no
   * more (no actor, user or reason), and every guard asks every few seconds.
   */
  async revokedSessions(
    _principal: ReaderPrincipal,
    params: SessionsRevokedParams,
  ): Promise<SessionsRevokedOutput> {
    const lookbackFrom = new Date(this.o.now().getTime() - REVOKED_LOOKBACK_MINUTES * 60_000)
    const page = await this.o.audit.settledAfter(
      params.since === undefined ? null : Number(params.since),
      lookbackFrom,
      params.limit,
    )
    return {
      items: page.items.map((i) => ({
        sessionId: i.clerkSessionId,
        impersonationId: i.impersonationId,
        revokedAt: i.at.toISOString(),
      })),
      next: String(page.next),
      more: page.more,
    }
  }

  /**
   * A guard's batch for one impersonated session. The session must be one ActAs knows (its
   * sign-in was reported or reconciled), else IMPERSONATION_NOT_FOUND: the guard keeps the batch
   * and tries again later. Times must fall between the impersonation's request and now (5 min of
   * clock skew either way), else the batch is refused whole (INVALID_INPUT).
   */
  async recordActions(
    principal: MachinePrincipal,
    input: ImpersonationActionsInput,
    request: RequestInfo,
  ): Promise<ImpersonationActionsOutput> {
    const row = await this.o.audit.findByClerkSessionId(input.sessionId)
    if (!row)
      throw new ActAsError(
        'IMPERSONATION_NOT_FOUND',
        'No impersonation has this session (its sign-in may not be known to ActAs yet).',
      )
    const earliest = row.createdAt.getTime() - ACTION_CLOCK_SKEW_MS
    const latest = this.o.now().getTime() + ACTION_CLOCK_SKEW_MS
    const outside = input.actions.findIndex((a) => {
      const at = Date.parse(a.at)
      return at < earliest || at > latest
    })
    if (outside !== -1)
      throw new ActAsError(
        'INVALID_INPUT',
        `actions[${outside}].at is outside the impersonation (before it was requested, or in the future).`,
      )
    const recorded = await this.o.audit.insertActions(
      input.actions.map((a) => ({
        impersonationId: row.id,
        clerkSessionId: input.sessionId,
        method: a.method,
        route: a.route,
        status: a.status,
        at: new Date(a.at),
        reportedBy: principal.machineId,
      })),
    )
    this.o.logger.info(
      { impersonationId: row.id, machineId: principal.machineId, recorded, requestId: request.id },
      'impersonation actions recorded',
    )
    return { impersonationId: row.id, recorded }
  }

  async verify(
    principal: ReaderPrincipal,
    request: RequestInfo,
    params: AuditVerifyInput = {},
  ): Promise<AuditVerifyOutput> {
    if (params.full && principal.kind === 'machine')
      throw new ActAsError(
        'FORBIDDEN',
        'A full walk of the audit chain is for staff; machines verify from the last signed checkpoint.',
      )
    const report = await this.o.audit.verify({ full: params.full === true })
    if (principal.kind === 'machine') {
      await this.o.audit.insertAuditRead({
        id: randomUUID(),
        machineId: principal.machineId,
        tokenId: principal.tokenId,
        procedure: 'audit.verify',
        params: {},
        rowCount: report.events,
        requestId: request.id,
        ip: request.ip,
        userAgent: request.userAgent,
      })
    }
    if (!report.ok)
      this.o.logger.error({ firstBroken: report.firstBroken }, 'the audit chain does not verify')
    return {
      ...report,
      checkpoints: { ...report.checkpoints, publicKey: this.o.audit.publicKeyPem },
      verifiedAt: this.o.now().toISOString(),
    }
  }

  async list(
    principal: ReaderPrincipal,
    params: ImpersonationListParams,
    request: RequestInfo,
  ): Promise<ImpersonationListOutput> {
    let page: Awaited<ReturnType<AuditStore['list']>>
    let total: number
    try {
      ;[page, total] = await Promise.all([this.o.audit.list(params), this.o.audit.count(params)])
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
    return { items: page.rows.map(toRecord), next: page.next, total }
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

  active(principal: StaffPrincipal): Promise<ImpersonationActiveOutput> {
    return this.o.lifecycle.active(principal)
  }

  /**
   * The kill switch. A machine (granted `impersonation.end`): only an impersonation it started
   * itself (its `requested` event's `via`), for the staff member it started it for; recorded with
   * that person as who ended it and the machine as `via`.
   */
  async end(
    caller: ReaderPrincipal,
    params: ImpersonationEndInput,
    request: RequestInfo,
  ): Promise<ImpersonationRecord> {
    const principal = actingFor(caller, params.onBehalfOf)
    if (principal.via) {
      const row = await this.o.audit.get(params.impersonationId)
      const requested = row
        ? (await this.o.audit.events(row.id)).find((e) => e.type === 'requested')
        : undefined
      const via = requested ? (JSON.parse(requested.data) as Record<string, unknown>)['via'] : null
      if (row && (via !== principal.via || row.actorId !== principal.userId))
        throw new ActAsError(
          'FORBIDDEN',
          `The machine ${principal.via} may end only the impersonations it started itself, on behalf of the staff member it names.`,
        )
    }
    return this.o.lifecycle.end(principal, params, request, principal.via)
  }

  stop(
    principal: UserPrincipal,
    params: ImpersonationStopInput,
    request: RequestInfo,
  ): Promise<ImpersonationStopOutput> {
    return this.o.lifecycle.stop(principal, params, request)
  }

  signedIn(
    principal: UserPrincipal,
    sessionToken: string,
    request: RequestInfo,
  ): Promise<ImpersonationRecord> {
    return this.o.lifecycle.signedIn(principal, sessionToken, request)
  }

  signInFailed(
    principal: StaffPrincipal,
    params: ImpersonationSignInFailedInput,
    request: RequestInfo,
  ): Promise<ImpersonationRecord> {
    return this.o.lifecycle.signInFailed(principal, params, request)
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

/**
 * A step's failure as the start answers it: ActAs's own error as it is; the database down (the
 * policy's access facts are read from it) as 'database unavailable'; anything else as Clerk out
 * of reach. Each 503 with its Retry-After.
 */
function asActAsError(error: unknown): ActAsError {
  if (error instanceof ActAsError) return error
  return (
    databaseFault(error) ??
    new ActAsError('SERVICE_UNAVAILABLE', 'Clerk could not be reached; try again in a moment.', {
      retryAfterSeconds: 5,
      cause: error,
    })
  )
}

/**
 * Where the impersonation lands in the host application: the asked URL when its origin is one of
 * APP_ORIGINS (anything else is refused: no open redirect), else the first origin + APP_HOME_PATH;
 * null without APP_ORIGINS (the console's own `redirectPath`).
 */
export function landingFor(
  asked: string | undefined,
  origins: readonly string[],
  homePath: string,
): string | null {
  if (asked !== undefined) {
    const url = new URL(asked)
    if (!origins.includes(url.origin))
      throw new ActAsError(
        'INVALID_INPUT',
        "landingUrl must be on one of the host application's origins (APP_ORIGINS).",
      )
    return url.href
  }
  const first = origins[0]
  return first ? new URL(homePath, first).href : null
}
