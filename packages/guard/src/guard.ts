// The framework-agnostic core: one Guard per process. `check` verifies a session token locally
// and says whether it is impersonated, by whom, in which mode and whether ActAs ended it;
// `decide` applies a route's rules; `record` adds an answered request to the action trail.
import { parseActorClaim, SAFE_METHODS, SESSIONS_ENDED_PATH } from '@actas/contracts'
import { createActAsClient } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import { RevokedSessions } from './revoked.js'
import type { RevokedPushOptions, RevokedSyncStats } from './revoked.js'
import { ActionTrail } from './trail.js'
import type { ActionTrailOptions, ActionTrailStats, RecordedAction } from './trail.js'
import type {
  GuardLogger,
  GuardRefusal,
  GuardRefusalCode,
  GuardRouteOptions,
  GuardVerdict,
  ImpersonationMode,
} from './types.js'
import { SessionVerifier } from './verify.js'
import type { ClerkVerifyOptions } from './verify.js'

export interface GuardOptions {
  /** How to verify Clerk session tokens (`jwtKey` for no network at all). */
  clerk: ClerkVerifyOptions
  /**
   * ActAs: a typed client (`createActAsClient`), or its tRPC URL and a function returning this
   * service's Clerk M2M token. The machine needs `sessions.revoked` and, for the trail,
   * `impersonation.actions` (ActAs's MACHINE_PERMISSIONS).
   */
  actas: ActAsClient | { url: string; getToken: () => string | Promise<string> }
  /** Poll `sessions.revoked` this often (default 1,000 ms): the backstop of the push. */
  revokedRefreshMs?: number
  /**
   * ActAs's push of ends (`GET /v1/sessions/ended`, server-sent events): an end is refused within
   * milliseconds instead of at the next poll. Default: on when `actas` is `{ url, getToken }` (the
   * stream at the same origin, `/v1/sessions/ended`); give `{ url, getToken }` when `actas` is a
   * client or ActAs is behind a path prefix; `false` for the poll alone.
   */
  revokedPush?: RevokedPushOptions | false
  /**
   * When the list of ended impersonations has not been refreshed for this long (ActAs
   * unreachable), impersonated sessions are refused with 503 until it is (default 30,000 ms;
   * 0 = never: keep serving them on the last list). Sessions that are not impersonated are never
   * affected.
   */
  failClosedAfterMs?: number
  /**
   * How many verified tokens are kept until their `exp` (default 10,000; 0 = verify the signature
   * on every request).
   */
  verifiedTokenCacheSize?: number
  /** The action trail (`false`: record nothing). */
  trail?: ActionTrailOptions | false
  logger?: GuardLogger
  /** The clock (ms); tests only. */
  now?: () => number
}

export type GuardCheck =
  | { ok: true; verdict: GuardVerdict }
  | { ok: false; reason: 'missing' | 'expired' | 'invalid' | 'unavailable' }

export interface GuardStats {
  revoked: RevokedSyncStats
  trail: ActionTrailStats | null
}

const consoleLogger: GuardLogger = {
  warn: (details, message) => console.warn(message, details),
}

function refusal(
  status: GuardRefusal['status'],
  code: GuardRefusalCode,
  message: string,
  retryAfterSeconds?: number,
): GuardRefusal {
  return {
    status,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    body: { error: { code, message } },
  }
}

/** Reads a bearer token from an `Authorization` header value. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim())
  return match?.[1] ?? null
}

export class Guard {
  private readonly verifier: SessionVerifier
  private readonly revoked: RevokedSessions
  private readonly trail: ActionTrail | null
  private readonly now: () => number
  private readonly failClosedAfterMs: number
  private readonly refreshMs: number
  private started: Promise<void> | null = null

  constructor(options: GuardOptions) {
    this.now = options.now ?? Date.now
    const logger = options.logger ?? consoleLogger
    const client =
      'url' in options.actas
        ? createActAsClient({ url: options.actas.url, getToken: options.actas.getToken })
        : options.actas
    this.verifier = new SessionVerifier(
      options.clerk,
      this.now,
      options.verifiedTokenCacheSize ?? 10_000,
    )
    this.refreshMs = options.revokedRefreshMs ?? 1_000
    const push =
      options.revokedPush === false
        ? null
        : (options.revokedPush ??
          ('url' in options.actas
            ? {
                url: new URL(SESSIONS_ENDED_PATH, options.actas.url).href,
                getToken: options.actas.getToken,
              }
            : null))
    this.revoked = new RevokedSessions(client, this.refreshMs, this.now, logger, push)
    this.failClosedAfterMs = options.failClosedAfterMs ?? 30_000
    this.trail =
      options.trail === false ? null : new ActionTrail(client, this.now, logger, options.trail)
  }

  /**
   * Loads the ended impersonations once (awaited; a failure is retried by the poll, and until one
   * succeeds impersonated sessions get 503), then keeps polling and flushing in the background.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.revoked.start()
      this.trail?.start()
    })()
    return this.started
  }

  /** Stops polling and sends the buffered actions once more. */
  async close(): Promise<void> {
    this.revoked.stop()
    await this.trail?.close()
  }

  /** Verifies a session token (locally) and describes the session. */
  async check(token: string | null | undefined): Promise<GuardCheck> {
    if (!token) return { ok: false, reason: 'missing' }
    const result = await this.verifier.verify(token)
    if (!result.ok) return result
    const { session } = result
    const act = parseActorClaim(session.act)
    if (!act) {
      return {
        ok: true,
        verdict: {
          userId: session.userId,
          sessionId: session.sessionId,
          impersonated: false,
          actor: null,
          impersonationId: null,
          mode: null,
          revoked: false,
        },
      }
    }
    // Contracts' reading: absent → full; anything but full/read_only → read_only (fail closed).
    const mode: ImpersonationMode = act.mode
    return {
      ok: true,
      verdict: {
        userId: session.userId,
        sessionId: session.sessionId,
        impersonated: true,
        actor: { userId: act.sub, reason: act.reason },
        impersonationId: act.impersonationId,
        mode,
        revoked: this.revoked.isRevoked(session.sessionId, act.impersonationId),
      },
    }
  }

  /**
   * The refusal for this request, or null when it may go on: an ended impersonation (401), an
   * impersonated session on a `blockWhileImpersonated` route or a read-only one using a method
   * that is not safe (403), or an impersonated session while the list of ended ones is stale (503).
   */
  decide(
    verdict: GuardVerdict,
    method: string,
    route: GuardRouteOptions = {},
  ): GuardRefusal | null {
    if (!verdict.impersonated) return null
    if (verdict.revoked)
      return refusal(
        401,
        'IMPERSONATION_ENDED',
        'This impersonation was ended in ActAs; its session is refused. Sign in again.',
      )
    if (this.failClosedAfterMs > 0) {
      const last = this.revoked.stats().lastSyncAt
      if (last === null || this.now() - last > this.failClosedAfterMs)
        return refusal(
          503,
          'REVOCATIONS_STALE',
          'ActAs cannot be reached to confirm this impersonation is still live; try again shortly.',
          Math.ceil(this.refreshMs / 1000) + 1,
        )
    }
    if (route.blockWhileImpersonated)
      return refusal(
        403,
        'BLOCKED_WHILE_IMPERSONATED',
        'Support staff acting as this user may not do this; only the user themselves can.',
      )
    if (verdict.mode === 'read_only' && !SAFE_METHODS.includes(method.toUpperCase()))
      return refusal(
        403,
        'READ_ONLY_IMPERSONATION',
        `This is a read-only impersonation: ${method.toUpperCase()} is refused (only GET, HEAD and OPTIONS).`,
      )
    return null
  }

  /** The refusal for a request without a valid session, when the caller requires one. */
  unauthenticated(reason: Exclude<GuardCheck, { ok: true }>['reason']): GuardRefusal {
    return reason === 'unavailable'
      ? refusal(
          503,
          'VERIFICATION_UNAVAILABLE',
          "Clerk's keys could not be loaded to verify the session; try again shortly.",
          5,
        )
      : refusal(
          401,
          'UNAUTHENTICATED',
          reason === 'missing'
            ? 'Sign in first: no session token was sent.'
            : `The session token is ${reason}.`,
        )
  }

  /**
   * Adds an answered request of an impersonated session to the trail (nothing for other
   * sessions). `route` is the route pattern (`/orders/:id`), never the path with its values.
   */
  record(verdict: GuardVerdict | null, action: Omit<RecordedAction, 'at'> & { at?: number }): void {
    if (!verdict?.impersonated || !this.trail) return
    this.trail.record(verdict.sessionId, { ...action, at: action.at ?? this.now() })
  }

  /** Polls `sessions.revoked` now (tests, or after an outage). */
  refreshRevoked(): Promise<void> {
    return this.revoked.sync()
  }

  /** Sends the buffered actions now. */
  flushTrail(): Promise<void> {
    return this.trail?.flush() ?? Promise.resolve()
  }

  stats(): GuardStats {
    return { revoked: this.revoked.stats(), trail: this.trail?.stats() ?? null }
  }
}

export function createGuard(options: GuardOptions): Guard {
  return new Guard(options)
}
