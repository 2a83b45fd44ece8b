// An impersonation after its ticket was handed out: the board of live ones, the kill switch,
// the impersonated session's own Stop (with the way back to the console) and the console's
// report that the ticket became a session. Every change is an event appended through
// AuditStore.appendEvent (which refuses transitions lifecycle.ts does not allow, so duplicates
// and races are no-ops); every end is announced to the revocation registry at once.
import { createHash, timingSafeEqual } from 'node:crypto'
import { ActAsError, IMPERSONATE_PERMISSION, REVOKED_LOOKBACK_MINUTES } from '@actas/contracts'
import type {
  ActiveImpersonation,
  EndCause,
  ImpersonationActiveOutput,
  ImpersonationEndInput,
  ImpersonationEnded,
  ImpersonationRecord,
  ImpersonationSignInFailedInput,
  ImpersonationStopInput,
  ImpersonationStopOutput,
  RequestInfo,
  ReturnRefusal,
  SessionsPort,
  StaffPrincipal,
  UserPrincipal,
} from '@actas/contracts'
import type { Logger } from 'pino'
import type { ImpersonationRow } from '../audit/schema.js'
import { toRecord } from '../audit/store.js'
import type { AuditStore } from '../audit/store.js'
import type { StaffOrganizations } from '../directory/staff-organizations.js'
import type { DirectorySession, UserDirectory } from '../directory/user-directory.js'
import type { EndedImpersonation, RevocationRegistry } from '../sessions/revocations.js'
import { ttlCache } from '../ttl-cache.js'
import type { TtlCache } from '../ttl-cache.js'

export interface LifecycleOptions {
  directory: UserDirectory
  audit: AuditStore
  sessions: SessionsPort
  revocations: Pick<RevocationRegistry, 'ended'>
  now: () => Date
  logger: Logger
  /** The staff organizations (STAFF_ORGANIZATIONS, resolved to ids): where the permission counts. */
  staffOrganizations: Pick<StaffOrganizations, 'ids'>
  /** RETURN_TO_CONSOLE: whether Stop may hand back a sign-in token for the staff member. */
  returnToConsole: boolean
  /** Life of that sign-in token (≤ 60 s). */
  returnTicketSeconds?: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ACTIVE_LIMIT = 100
const LAST_ACTIVE_CACHE_MS = 5_000

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

/** The latest instant an impersonation may still be live: its cap. */
export function capOf(row: ImpersonationRow): Date | null {
  const fromSignIn = row.signedInAt
    ? new Date(row.signedInAt.getTime() + row.sessionMinutes * 60_000)
    : null
  const latest = row.sessionExpiresAt
  if (fromSignIn && latest) return fromSignIn < latest ? fromSignIn : latest
  return fromSignIn ?? latest
}

/** Whether a Clerk session belongs to this impersonation (`actor.impersonation_id`). */
export function sessionOf(session: DirectorySession, row: ImpersonationRow): boolean {
  return (
    session.userId === row.userId &&
    session.actor?.['impersonation_id'] === row.id &&
    session.actor['sub'] === row.actorId
  )
}

export class ImpersonationLifecycle {
  /** Clerk's `last_active_at` per session, a few seconds each (the board polls). */
  private readonly lastActive: TtlCache<{ value: string | null }>
  /** Staff emails recorded with an end (`byEmail`), five minutes each. */
  private readonly emails: TtlCache<{ email: string | null }>
  /** How ended impersonations ended, for the refusals of their sessions (they never change). */
  private readonly endings: TtlCache<ImpersonationEnded>

  constructor(private readonly o: LifecycleOptions) {
    const now = () => o.now().getTime()
    this.emails = ttlCache({ max: 1_000, ttlMs: 300_000, now })
    this.endings = ttlCache({ max: 10_000, ttlMs: REVOKED_LOOKBACK_MINUTES * 60_000, now })
    this.lastActive = ttlCache({ max: 1_000, ttlMs: LAST_ACTIVE_CACHE_MS, now })
  }

  /** A staff member's primary email (cached 5 min); null when Clerk does not know or fails. */
  private async emailOf(userId: string): Promise<string | null> {
    const cached = this.emails.get(userId)
    if (cached) return cached.email
    try {
      const user = await this.o.directory.getUser(userId)
      const email = user?.primaryEmail ?? null
      this.emails.set(userId, { email })
      return email
    } catch {
      return null
    }
  }

  async active(_principal: StaffPrincipal): Promise<ImpersonationActiveOutput> {
    const { rows } = await this.o.audit.list({ status: 'signed_in', limit: ACTIVE_LIMIT })
    const items = await Promise.all(rows.map((row) => this.describeActive(row)))
    return { items }
  }

  private async describeActive(row: ImpersonationRow): Promise<ActiveImpersonation> {
    return {
      id: row.id,
      actor: { id: row.actorId, email: row.actorEmail },
      user: { id: row.userId, email: row.userEmail },
      reason: row.reason,
      ticketUrl: row.ticketUrl,
      mode: row.mode,
      clerkSessionId: row.clerkSessionId,
      signedInAt: row.signedInAt?.toISOString() ?? null,
      endsAt: capOf(row)?.toISOString() ?? null,
      lastActiveAt: row.clerkSessionId ? await this.lastActiveOf(row.clerkSessionId) : null,
    }
  }

  /** Clerk's `last_active_at`, cached a few seconds (the board polls); null when Clerk fails. */
  private async lastActiveOf(sessionId: string): Promise<string | null> {
    const cached = this.lastActive.get(sessionId, { noDeleteOnStaleGet: true })
    if (cached) return cached.value
    let value: string | null = null
    try {
      const session = await this.o.directory.getSession(sessionId)
      value = session?.lastActiveAt ? new Date(session.lastActiveAt).toISOString() : null
    } catch {
      // Clerk failed: the last value known, if any (asked again next time).
      return this.lastActive.peek(sessionId, { allowStale: true })?.value ?? null
    }
    this.lastActive.set(sessionId, { value })
    return value
  }

  private async row(id: string): Promise<ImpersonationRow> {
    const row = UUID.test(id) ? await this.o.audit.get(id) : null
    if (!row) throw new ActAsError('IMPERSONATION_NOT_FOUND', 'No impersonation has this id.')
    return row
  }

  /**
   * The Clerk sessions this impersonation became: the recorded one, else the target's sessions
   * whose `actor.impersonation_id` is this one (one `GET /v1/sessions?user_id=…`).
   */
  async findSessions(
    row: ImpersonationRow,
    directory: UserDirectory = this.o.directory,
  ): Promise<DirectorySession[]> {
    const sessions = await directory.listSessions(row.userId)
    return sessions.filter((s) => s.id === row.clerkSessionId || sessionOf(s, row))
  }

  /**
   * Ends an impersonation in Clerk and in the log: revokes the ticket if it may be unused,
   * revokes every session it became, then appends `ended` with the cause. Clerk first: when
   * Clerk cannot be reached nothing is appended (503), so the log never says "ended" while the
   * session lives on. Returns the row after, and whether this call appended the end.
   */
  async terminate(
    row: ImpersonationRow,
    end: {
      cause: EndCause
      by: string | null
      reason?: string | null
      /** Extra event details (flat, scalar), e.g. `byEmail`. */
      data?: Record<string, string | number | boolean | null>
    },
    directory: UserDirectory = this.o.directory,
  ): Promise<{ row: ImpersonationRow; appended: boolean }> {
    if (row.status === 'issued' && row.clerkActorTokenId) {
      try {
        await directory.revokeActorToken(row.clerkActorTokenId)
      } catch (error) {
        // Used, revoked or expired already: the sessions below are what is left to end.
        if (!(error instanceof ActAsError) || error.code === 'SERVICE_UNAVAILABLE') throw error
      }
    }
    const sessions = await this.findSessions(row, directory)
    const live = sessions.filter((s) => s.status === 'active')
    await Promise.all(live.map((s) => directory.revokeSession(s.id)))
    const sessionId = row.clerkSessionId ?? sessions[0]?.id ?? null
    const result = await this.o.audit.appendEvent(row.id, {
      type: 'ended',
      cause: end.cause,
      by: end.by,
      reason: end.reason ?? null,
      clerkSessionId: sessionId,
      data: { ...end.data, sessionsRevoked: live.length },
    })
    await this.o.revocations.ended(result.row)
    if (result.appended) {
      this.o.logger.info(
        { impersonationId: row.id, cause: end.cause, by: end.by, sessionsRevoked: live.length },
        'impersonation ended',
      )
    }
    return { row: result.row, appended: result.appended }
  }

  async end(
    principal: StaffPrincipal,
    params: ImpersonationEndInput,
    request: RequestInfo,
  ): Promise<ImpersonationRecord> {
    const row = await this.row(params.impersonationId)
    if (row.status === 'ended') return toRecord(row)
    if (row.status !== 'issued' && row.status !== 'signed_in') {
      throw new ActAsError(
        'INVALID_INPUT',
        `This impersonation is not live, there is nothing to end (it is ${row.status}).`,
      )
    }
    // Who ended it, as people know them: the ended session's banner says it by email.
    const byEmail = await this.emailOf(principal.userId)
    const ended = await this.terminate(row, {
      cause: 'ended_by_staff',
      by: principal.userId,
      reason: params.reason,
      data: { byEmail },
    })
    this.o.logger.info(
      { impersonationId: row.id, actorId: principal.userId, requestId: request.id },
      'impersonation ended by staff',
    )
    return toRecord(ended.row)
  }

  /**
   * The console's report that the ticket sign-in failed. Only the staff member who started the
   * impersonation; refused (409) once the ticket became a session. The ticket is revoked in
   * Clerk first (a ticket Clerk says was already used is a sign-in, not a failure: refused), then
   * `failed` is appended once; a second report, or one after the ticket expired or was revoked,
   * answers the record unchanged.
   */
  async signInFailed(
    principal: StaffPrincipal,
    params: ImpersonationSignInFailedInput,
    request: RequestInfo,
  ): Promise<ImpersonationRecord> {
    const row = await this.row(params.impersonationId)
    if (row.actorId !== principal.userId)
      throw new ActAsError(
        'FORBIDDEN',
        'Only the staff member who started this impersonation may report its sign-in.',
      )
    const signedIn = (r: ImpersonationRow) =>
      r.status === 'signed_in' || r.signedInAt !== null || r.clerkSessionId !== null
    const refuseSignedIn = () =>
      new ActAsError(
        'TICKET_ALREADY_USED',
        'This ticket already became a session: the sign-in did not fail.',
      )
    if (signedIn(row)) throw refuseSignedIn()
    if (row.status !== 'issued') {
      if (row.status === 'pending')
        throw new ActAsError('INVALID_INPUT', 'This impersonation has no ticket yet.')
      return toRecord(row) // already settled: failed, expired, revoked, denied or ended unused
    }
    if (row.clerkActorTokenId) {
      try {
        await this.o.directory.revokeActorToken(row.clerkActorTokenId)
      } catch (error) {
        if (!(error instanceof ActAsError) || error.code !== 'TICKET_ALREADY_USED') throw error
        // Used, revoked or expired already: did it become a session after all?
        const sessions = await this.findSessions(row)
        if (sessions.length > 0) {
          await this.recordSignIn(row, sessions[0]!.id, 'sign-in-failed report')
          throw refuseSignedIn()
        }
      }
    }
    const result = await this.o.audit.appendEvent(row.id, {
      type: 'failed',
      by: principal.userId,
      data: {
        code: params.code,
        message: 'The ticket sign-in failed in the console.',
        source: 'console',
      },
    })
    if (!result.appended && signedIn(result.row)) throw refuseSignedIn()
    await this.o.revocations.ended(result.row)
    if (result.appended)
      this.o.logger.info(
        { impersonationId: row.id, code: params.code, requestId: request.id },
        'ticket sign-in failed in the console',
      )
    return toRecord(result.row)
  }

  /**
   * How an ended impersonation ended, for the refusal of its session (the banner of the tab that
   * is still impersonating): cause, who (with their email), why, when. Read once from the audit
   * log and kept (an end never changes); falls back to what the registry knows when the read
   * fails.
   */
  async describeEnd(ended: EndedImpersonation): Promise<ImpersonationEnded> {
    const known = this.endings.get(ended.impersonationId)
    if (known) return known
    const fallback: ImpersonationEnded = {
      impersonationId: ended.impersonationId,
      status: ended.status as ImpersonationEnded['status'],
      cause: ended.cause as ImpersonationEnded['cause'],
      endedBy: ended.endedBy ? { id: ended.endedBy, email: null } : null,
      reason: ended.endReason,
      endedAt: null,
    }
    try {
      const row = await this.o.audit.get(ended.impersonationId)
      if (!row) return fallback
      const events = await this.o.audit.events(row.id)
      const last = events.at(-1)
      const data = last ? (JSON.parse(last.data) as Record<string, unknown>) : {}
      const by = row.endedBy
      const email =
        typeof data['byEmail'] === 'string'
          ? data['byEmail']
          : by === row.actorId
            ? row.actorEmail
            : by && by !== 'system'
              ? await this.emailOf(by)
              : null
      const described: ImpersonationEnded = {
        impersonationId: row.id,
        status: row.status,
        cause: row.endCause as EndCause | null,
        endedBy: by ? { id: by, email } : null,
        reason: row.endReason,
        endedAt: row.endedAt?.toISOString() ?? null,
      }
      this.endings.set(row.id, described)
      return described
    } catch (error) {
      this.o.logger.warn(
        { err: error, impersonationId: ended.impersonationId },
        'could not read how an impersonation ended',
      )
      return fallback
    }
  }

  /** The row an impersonated principal's `act` claim names, if it really is that row's session. */
  private async ownRow(principal: UserPrincipal): Promise<ImpersonationRow> {
    const actor = principal.actor
    const id = actor?.impersonationId
    const row = id && UUID.test(id) ? await this.o.audit.get(id) : null
    if (
      !actor ||
      !row ||
      row.actorId !== actor.sub ||
      row.userId !== principal.userId ||
      (row.clerkSessionId !== null && row.clerkSessionId !== principal.sessionId)
    ) {
      throw new ActAsError('FORBIDDEN', 'This session is not an impersonation ActAs started.')
    }
    return row
  }

  /** Appends `signed_in` for a verified impersonated session, if not recorded yet. */
  private async recordSignIn(
    row: ImpersonationRow,
    sessionId: string | null,
    source: string,
  ): Promise<ImpersonationRow> {
    if (row.status !== 'issued' || !sessionId) return row
    const result = await this.o.audit.appendEvent(row.id, {
      type: 'signed_in',
      clerkSessionId: sessionId,
      data: { source },
    })
    return result.row
  }

  async signedIn(
    principal: UserPrincipal,
    sessionToken: string,
    _request: RequestInfo,
  ): Promise<ImpersonationRecord> {
    const inspected = await this.o.sessions.inspect(sessionToken)
    if (!inspected.valid)
      throw new ActAsError('INVALID_INPUT', 'This session token does not verify.')
    if (inspected.sessionId !== principal.sessionId || inspected.userId !== principal.userId)
      throw new ActAsError('FORBIDDEN', 'A session may only report its own sign-in.')
    const row = await this.ownRow({
      ...principal,
      actor: inspected.actor
        ? {
            sub: inspected.actor.userId,
            impersonationId: inspected.actor.impersonationId,
            reason: inspected.actor.reason,
            mode: inspected.actor.mode,
          }
        : null,
    })
    return toRecord(await this.recordSignIn(row, inspected.sessionId, 'console'))
  }

  async stop(
    principal: UserPrincipal,
    params: ImpersonationStopInput,
    request: RequestInfo,
  ): Promise<ImpersonationStopOutput> {
    let row = await this.ownRow(principal)
    // The verified token proves the ticket became this session, whatever we heard so far.
    row = await this.recordSignIn(row, principal.sessionId, 'stop')
    if (row.status !== 'signed_in') {
      return { impersonation: toRecord(row), returnTicket: null, returnRefused: 'not_live' }
    }
    // Judged before the end (which changes what "live" means), used only if this call ends it.
    const refused = await this.returnRefusal(row, params.returnSecret)
    const ended = await this.terminate(row, { cause: 'stopped_by_actor', by: row.actorId })
    let returnRefused: ReturnRefusal | null = ended.appended ? refused : 'not_live'
    let returnTicket: string | null = null
    if (returnRefused === null) {
      try {
        const token = await this.o.directory.createSignInToken(
          row.actorId,
          Math.min(60, this.o.returnTicketSeconds ?? 60),
        )
        returnTicket = token.token
      } catch (error) {
        this.o.logger.warn(
          { err: error, impersonationId: row.id },
          'no sign-in token for the way back',
        )
        returnRefused = 'clerk_unavailable'
      }
    }
    this.o.logger.info(
      {
        impersonationId: row.id,
        actorId: row.actorId,
        requestId: request.id,
        returned: returnTicket !== null,
        returnRefused,
      },
      'impersonation stopped by the actor',
    )
    return { impersonation: toRecord(ended.row), returnTicket, returnRefused }
  }

  /**
   * What a Clerk session event (webhook, or the reconciler's read) says about one of our
   * impersonations: `created` → signed in; `ended`/`revoked`/`removed` (or any status that is no
   * longer active) → ended, `signed_out` unless ActAs ended it first (then a no-op). Sessions
   * that are not ours (no `actor.impersonation_id`, or one whose row names another actor or user)
   * are ignored. Idempotent and order-independent: an end heard before the sign-in ends it.
   */
  async onSession(session: DirectorySession, event: 'created' | 'ended'): Promise<string> {
    const id = session.actor?.['impersonation_id']
    const row = typeof id === 'string' && UUID.test(id) ? await this.o.audit.get(id) : null
    if (!row || !sessionOf(session, row)) return 'not ours'
    if (event === 'created') {
      const after = await this.recordSignIn(row, session.id, 'webhook')
      return after === row ? `unchanged (${row.status})` : 'signed_in'
    }
    const cause: EndCause =
      session.status === 'expired'
        ? 'expired_at_cap'
        : session.status === 'abandoned'
          ? 'expired_inactivity'
          : 'signed_out'
    const result = await this.o.audit.appendEvent(row.id, {
      type: 'ended',
      cause,
      by: 'system',
      clerkSessionId: session.id,
      data: { clerkStatus: session.status },
    })
    await this.o.revocations.ended(result.row)
    return result.appended ? `ended (${cause})` : `unchanged (${row.status})`
  }

  /** Why Stop may not hand back a way in for the staff member, or null when it may. */
  private async returnRefusal(
    row: ImpersonationRow,
    secret: string | undefined,
  ): Promise<ReturnRefusal | null> {
    if (!this.o.returnToConsole) return 'disabled'
    if (!secret) return 'no_secret'
    const stored = await this.storedSecretHash(row.id)
    const given = Buffer.from(sha256Hex(secret), 'hex')
    if (!stored || stored.length !== given.length || !timingSafeEqual(stored, given))
      return 'secret_mismatch'
    const cap = capOf(row)
    if (cap && this.o.now() >= cap) return 'past_cap'
    try {
      const [actor, memberships] = await Promise.all([
        this.o.directory.getUser(row.actorId),
        this.o.directory.getMemberships(row.actorId, { fresh: true }),
      ])
      if (!actor || actor.banned || actor.locked) return 'actor_not_allowed'
      const staffOrgs = await this.o.staffOrganizations.ids()
      const allowed = memberships.some(
        (m) => staffOrgs.has(m.organizationId) && m.permissions.includes(IMPERSONATE_PERMISSION),
      )
      return allowed ? null : 'actor_not_allowed'
    } catch {
      return 'clerk_unavailable'
    }
  }

  private async storedSecretHash(id: string): Promise<Buffer | null> {
    const events = await this.o.audit.events(id)
    const requested = events.find((e) => e.type === 'requested')
    if (!requested) return null
    const data = JSON.parse(requested.data) as Record<string, unknown>
    const hash = data['returnSecretHash']
    return typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) ? Buffer.from(hash, 'hex') : null
  }
}
