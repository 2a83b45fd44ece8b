// An impersonation after its ticket was handed out: the board of live ones, the kill switch,
// the impersonated session's own Stop (with the way back to the console) and the console's
// report that the ticket became a session. Every change is an event appended through
// AuditStore.appendEvent (which refuses transitions lifecycle.ts does not allow, so duplicates
// and races are no-ops); every end is announced to the revocation registry at once.
import { createHash } from 'node:crypto'
import { ActAsError, REVOKED_LOOKBACK_MINUTES } from '@actas/contracts'
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
import type { DirectorySession, UserDirectory } from '../directory/user-directory.js'
import type { EndedImpersonation, RevocationRegistry } from '../sessions/revocations.js'
import type { ImpersonationPolicy } from './policy-facts.js'
import { returnVerification } from './step-up.js'
import type { ReturnTrace } from './step-up.js'
import { ttlCache } from '../ttl-cache.js'
import type { TtlCache } from '../ttl-cache.js'

export interface LifecycleOptions {
  directory: UserDirectory
  audit: AuditStore
  sessions: SessionsPort
  revocations: Pick<RevocationRegistry, 'ended'>
  now: () => Date
  logger: Logger
  /** The policy: judges the way back to the console. */
  policy: Pick<ImpersonationPolicy, 'atReturn' | 'continuousCause'>
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
  /** Clerk's `last_active_at` of live sessions, a few seconds each (the board polls). */
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
  async emailOf(userId: string): Promise<string | null> {
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
    const cached = this.lastActive.get(sessionId)
    if (cached) return cached.value
    let value: string | null = null
    try {
      const session = await this.o.directory.getSession(sessionId)
      value = session?.lastActiveAt ? new Date(session.lastActiveAt).toISOString() : null
    } catch {
      return null
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
   * The Clerk sessions this impersonation became: the recorded one, asked by id
   * (`GET /v1/sessions/{id}`); else every session of the target (every page; only the active
   * ones with `status`) whose `actor.impersonation_id` is this one.
   */
  async findSessions(
    row: ImpersonationRow,
    directory: UserDirectory = this.o.directory,
    options: { status?: 'active' } = {},
  ): Promise<DirectorySession[]> {
    if (row.clerkSessionId) {
      const session = await directory.getSession(row.clerkSessionId)
      if (!session || (options.status && session.status !== options.status)) return []
      return [session]
    }
    const sessions = await directory.listSessions(row.userId, options)
    return sessions.filter((s) => sessionOf(s, row))
  }

  /**
   * Ends an impersonation, its cause decided here once: revokes the ticket if it may be unused
   * (Clerk first: when Clerk cannot be reached nothing is appended, 503), finds the live
   * sessions it became, appends `ended` with the cause, announces it to the revocation registry
   * (ActAs and the guards refuse the session from now on), and only then revokes the sessions in
   * Clerk. So the webhook that revocation causes (`session.revoked`) always arrives after the end
   * and is a no-op: a kill switch is never recorded as "signed out". A revocation Clerk refuses
   * now is a 503 after the end was recorded; `end` again (or the reconciler) revokes it then.
   * Returns the row after, and whether this call appended the end.
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
    const live = await this.findSessions(row, directory, { status: 'active' })
    const sessionId = row.clerkSessionId ?? live[0]?.id ?? null
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
    await this.revokeInClerk(row.id, live, directory)
    return { row: result.row, appended: result.appended }
  }

  /** Revokes `sessions` in Clerk; a failure is a 503 (the end is recorded; a retry revokes). */
  private async revokeInClerk(
    impersonationId: string,
    sessions: readonly DirectorySession[],
    directory: UserDirectory,
  ): Promise<void> {
    const failed = (await Promise.allSettled(sessions.map((s) => directory.revokeSession(s.id))))
      .map((r) => (r.status === 'rejected' ? (r.reason as unknown) : null))
      .filter((e) => e !== null)
    if (failed.length === 0) return
    this.o.logger.error(
      { err: failed[0], impersonationId, sessions: failed.length },
      'impersonation ended, but Clerk did not revoke its session yet',
    )
    throw new ActAsError(
      'SERVICE_UNAVAILABLE',
      'The impersonation is ended (ActAs and the guards refuse its session), but Clerk could not revoke the session yet; try again in a moment.',
      { retryAfterSeconds: 5 },
    )
  }

  async end(
    principal: Pick<StaffPrincipal, 'userId'>,
    params: ImpersonationEndInput,
    request: RequestInfo,
    /** The machine that ends it on behalf of `principal` (recorded in the event), or null. */
    via: string | null = null,
  ): Promise<ImpersonationRecord> {
    const row = await this.row(params.impersonationId)
    if (row.status === 'ended') {
      // Already ended: make sure Clerk revoked its session too (a revocation that failed then).
      if (row.clerkSessionId)
        await this.revokeInClerk(
          row.id,
          await this.findSessions(row, this.o.directory, { status: 'active' }),
          this.o.directory,
        )
      return toRecord(row)
    }
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
      data: { byEmail, ...(via ? { via } : {}) },
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
    const events = await this.o.audit.events(row.id)
    const refused = await this.o.policy.atReturn({
      row,
      events,
      secret: params.returnSecret,
      enabled: this.o.returnToConsole,
    })
    // A return ticket offered carries the staff member's last real verification with it: the
    // next start's step-up counts that one, not the ticket sign-in's (step-up.ts).
    const trace: ReturnTrace | null =
      refused === null ? { returnOffered: true, actorVerifiedAt: returnVerification(events) } : null
    const ended = await this.terminate(row, {
      cause: 'stopped_by_actor',
      by: row.actorId,
      ...(trace ? { data: { ...trace } } : {}),
    })
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
   *
   * A webhook's session is not believed as it stands: Clerk's own session of that id
   * (`GET /v1/sessions/{id}`) must be the impersonation's (user, `actor.sub`,
   * `actor.impersonation_id`) and its status decides (a `created` whose session already ended
   * ends the impersonation; an end whose session Clerk says is active changes nothing). With
   * `readFromClerk`, `session` was just read from Clerk (the reconciler) and is used as it is.
   */
  async onSession(
    heard: DirectorySession,
    event: 'created' | 'ended',
    options: {
      readFromClerk?: boolean
      /** The policy was judged on this row just now and found nothing (the reconciler). */
      policyAllows?: boolean
    } = {},
  ): Promise<string> {
    const id = heard.actor?.['impersonation_id']
    const row = typeof id === 'string' && UUID.test(id) ? await this.o.audit.get(id) : null
    if (!row || !sessionOf(heard, row)) return 'not ours'
    const session = options.readFromClerk ? heard : await this.o.directory.getSession(heard.id)
    if (!session || !sessionOf(session, row)) return 'not ours (Clerk does not confirm it)'
    if (session.status !== 'active') event = 'ended'
    else if (event === 'ended') return `unchanged (Clerk says the session is active)`
    if (event === 'created') {
      const after = await this.recordSignIn(row, session.id, 'webhook')
      return after === row ? `unchanged (${row.status})` : 'signed_in'
    }
    if (row.status !== 'issued' && row.status !== 'signed_in') return `unchanged (${row.status})`
    // Revoked in Clerk without ActAs (ActAs appends its own end before revoking): by a ban, or an
    // admin of the application. When the policy says why (the target was banned), that is the
    // cause; else the session was signed out.
    const cause: EndCause =
      session.status === 'expired'
        ? 'expired_at_cap'
        : session.status === 'abandoned'
          ? 'expired_inactivity'
          : session.status === 'revoked' && !options.policyAllows
            ? ((await this.o.policy.continuousCause(row)) ?? 'signed_out')
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
}
