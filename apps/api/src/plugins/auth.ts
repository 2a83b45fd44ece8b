// The one place that turns a Clerk session or M2M token into a Principal. Only
// `Authorization: Bearer …` is read (no cookies, never a handshake redirect). Over public APIs only:
// - session JWTs: `SessionVerifier` (sessions/verifier.ts: @clerk/backend's `authenticateRequest`
//   with jwtKey or JWKS and authorizedParties), verdicts kept until the token's `exp`;
// - `mt_…` M2M tokens: Clerk's Backend API (`POST /m2m_tokens/verify`), one call per token per
//   minute at most: an accepted token is kept until its expiry (≤ 60 s), a refused one for 60 s;
//   a Clerk error is a 503 that is not kept.
// What may reach Clerk is bounded: per client IP, every credential that must be verified (not
// cached) takes a point of `ipLimiter` first, and an accepted one gives it back (429 past the
// limit, before any Clerk call); without a fixed jwtKey, a JWT naming a `kid` that is not among
// Clerk's JWKS (fetched at most once per CLERK_JWKS_UNKNOWN_KID_INTERVAL_SECONDS) is refused
// without verifying, so unknown kids never make @clerk/backend fetch the JWKS.
// Caches are keyed by SHA-256 digests of the token and hold no bearer credential. Nothing below
// this file knows about Clerk.
import { createClerkClient } from '@clerk/backend'
import { isClerkAPIResponseError } from '@clerk/shared/error'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { parseActorClaim } from '@actas/contracts'
import type { Principal } from '@actas/contracts'
import type { Config } from '../config.js'
import type { IpRateLimiter } from '../rate-limit.js'
import type { StaffOrganizations } from '../directory/staff-organizations.js'
import type { SessionVerifier, VerifiedSession } from '../sessions/verifier.js'
import { VerifiedTokens } from '../ttl-cache.js'
import type { TokenVerdict } from '../ttl-cache.js'

type BackendClient = ReturnType<typeof createClerkClient>

/** What Clerk said about a valid M2M token. */
export interface VerifiedMachine {
  id: string
  machineId: string
  scopes: string[]
}

/** What Clerk said about an M2M token. */
export type M2MVerdict =
  | (VerifiedMachine & {
      kind: 'valid'
      /** Epoch ms, or null when the token never expires. */
      expiresAt: number | null
    })
  | { kind: 'invalid' }
  /** Clerk could not answer (outage, timeout): refused, not cached. */
  | { kind: 'unavailable' }

/** The verified credential of a request (set by the hook registerAuth adds). */
export type RequestCredential =
  | { kind: 'session'; session: VerifiedSession }
  | { kind: 'machine'; machine: VerifiedMachine }
  | null

declare module 'fastify' {
  interface FastifyRequest {
    actasCredential: RequestCredential
  }
}

/** How long a caller waits before retrying when Clerk cannot verify a token. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5
/** How long an M2M verdict is kept at most (a refusal: exactly this long). */
const M2M_MAX_AGE_MS = 60_000
function backendClient(config: Config): BackendClient {
  return createClerkClient({
    secretKey: config.clerk.secretKey,
    apiUrl: config.clerk.apiUrl,
    ...(config.clerk.machineSecretKey ? { machineSecretKey: config.clerk.machineSecretKey } : {}),
  })
}

/** `promise`, or a rejection after `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** The kids of Clerk's current JWKS (`GET /v1/jwks`), bounded by CLERK_TIMEOUT_MS. */
export function createJwksKids(config: Config, clerk = backendClient(config)) {
  return async (): Promise<string[]> => {
    const jwks = await bounded(clerk.jwks.getJwks(), config.clerk.timeoutMs, 'JWKS fetch')
    return (jwks.keys ?? [])
      .map((k) => k.kid)
      .filter((kid): kid is string => typeof kid === 'string')
  }
}

/** Verifies M2M tokens with Clerk, bounded by CLERK_TIMEOUT_MS. */
export function createM2MVerifier(
  config: Config,
  clerk = backendClient(config),
): (token: string) => Promise<M2MVerdict> {
  return async (token) => {
    try {
      const verified = await bounded(
        clerk.m2m.verify({ token }),
        config.clerk.timeoutMs,
        'M2M verification',
      )
      const expiresAt = verified.expiration ?? null
      if (verified.revoked || verified.expired || (expiresAt !== null && expiresAt <= Date.now()))
        return { kind: 'invalid' }
      return {
        kind: 'valid',
        id: verified.id,
        machineId: verified.subject,
        scopes: verified.scopes ?? [],
        expiresAt,
      }
    } catch (error) {
      // Clerk refused the token (unknown, revoked, not granted to ActAs's machine): cacheable.
      // Anything else (an outage, a timeout) says nothing about the token.
      if (
        isClerkAPIResponseError(error) &&
        error.status >= 400 &&
        error.status < 500 &&
        error.status !== 429
      )
        return { kind: 'invalid' }
      return { kind: 'unavailable' }
    }
  }
}

export interface AuthGate {
  /** Verifies session tokens (shared with `sessions.inspect`). */
  verifier: SessionVerifier
  ipLimiter?: IpRateLimiter
  /** Answer when the per-IP limit refuses a request. */
  onLimited: (reply: FastifyReply, retryAfterSeconds: number) => unknown
  /** Answer when Clerk cannot verify a token (an outage): a 503, not a 401. */
  onUnavailable: (reply: FastifyReply, retryAfterSeconds: number) => unknown
  now?: () => number
  /** Verifies M2M tokens (default: Clerk's BAPI, see createM2MVerifier). */
  verifyM2M?: (token: string) => Promise<M2MVerdict>
  /** Kids of Clerk's JWKS (default: Clerk's BAPI; unused with a fixed jwtKey). */
  jwksKids?: () => Promise<string[]>
}

/** The `kid` in a JWT's header, or null when the token is not a readable JWT. */
function jwtKid(token: string): string | null {
  const dot = token.indexOf('.')
  if (dot <= 0 || dot > 2048) return null
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString())
    const kid = (header as { kid?: unknown } | null)?.kid
    return typeof kid === 'string' && kid.length <= 256 ? kid : null
  } catch {
    return null
  }
}

/**
 * Adds the hook that verifies the bearer credential of every request in `scope` and sets
 * `req.actasCredential` (read by `principalFromRequest`). Returns the two verdict caches.
 */
export function registerAuth(
  scope: FastifyInstance,
  config: Config,
  gate: AuthGate,
): { sessions: VerifiedTokens<VerifiedSession>; machines: VerifiedTokens<VerifiedMachine> } {
  const now = gate.now ?? Date.now
  const clerk = backendClient(config)
  const verifyM2M = gate.verifyM2M ?? createM2MVerifier(config, clerk)
  const machines = new VerifiedTokens<VerifiedMachine>({
    max: 10_000,
    maxAgeMs: M2M_MAX_AGE_MS,
    now,
    verify: async (token): Promise<TokenVerdict<VerifiedMachine>> => {
      const verdict = await verifyM2M(token)
      if (verdict.kind !== 'valid') return { ok: false, reason: verdict.kind }
      const { id, machineId, scopes } = verdict
      return {
        ok: true,
        value: { id, machineId, scopes },
        expiresAt: verdict.expiresAt ?? now() + M2M_MAX_AGE_MS,
      }
    },
  })
  // A refused M2M token is refused again for a minute without asking Clerk.
  const refusedMachines = new VerifiedTokens<true>({
    max: 10_000,
    maxAgeMs: M2M_MAX_AGE_MS,
    now,
    verify: () => Promise.resolve({ ok: true, value: true, expiresAt: now() + M2M_MAX_AGE_MS }),
  })
  const sessions = gate.verifier.tokens

  const jwks = config.clerk.jwtKey
    ? null
    : {
        kids: gate.jwksKids ?? createJwksKids(config, clerk),
        minIntervalMs: config.clerk.jwksUnknownKidIntervalSeconds * 1000,
      }
  let knownKids = new Set<string>()
  let lastKidsFetch = Number.NEGATIVE_INFINITY
  /** Whether `kid` is one of Clerk's current signing keys (refreshing them at most once per interval). */
  const kidIsKnown = async (kid: string, source: NonNullable<typeof jwks>) => {
    if (knownKids.has(kid)) return true
    if (now() - lastKidsFetch < source.minIntervalMs) return false
    lastKidsFetch = now()
    try {
      knownKids = new Set((await source.kids()).slice(0, 64))
    } catch {
      // Clerk unreachable: keep what we had; @clerk/backend could not fetch either.
    }
    return knownKids.has(kid)
  }

  scope.decorateRequest('actasCredential', null)
  scope.addHook('preHandler', async (req, reply) => {
    req.actasCredential = null
    const header = req.headers.authorization
    const bearer =
      typeof header === 'string' && /^Bearer [^\s]+$/.test(header) ? header.slice(7) : undefined
    // Bearer only: cookies and handshake parameters are never looked at.
    if (bearer === undefined) return
    const machine = bearer.startsWith('mt_')
    if (machine) {
      const hit = machines.cached(bearer)
      if (hit) {
        req.actasCredential = { kind: 'machine', machine: hit.value }
        return
      }
      if (refusedMachines.cached(bearer)) return
    } else {
      const hit = sessions.cached(bearer)
      if (hit) {
        req.actasCredential = { kind: 'session', session: hit.value }
        return
      }
    }

    const ip = req.ip
    if (gate.ipLimiter) {
      const taken = await gate.ipLimiter.take(ip)
      if (!taken.allowed) {
        req.log.warn({ ip }, 'too many unverified credentials from this address; refused')
        return gate.onLimited(reply, taken.retryAfterSeconds)
      }
    }

    if (!machine && jwks && bearer.split('.').length === 3) {
      const kid = jwtKid(bearer)
      // Would make @clerk/backend fetch the JWKS: refused as an invalid token.
      if (kid === null || !(await kidIsKnown(kid, jwks))) return
    }
    const verdict = machine ? await machines.verify(bearer) : await sessions.verify(bearer)
    if (verdict.ok) {
      await gate.ipLimiter?.giveBack(ip)
      req.actasCredential = machine
        ? { kind: 'machine', machine: verdict.value as VerifiedMachine }
        : { kind: 'session', session: verdict.value as VerifiedSession }
      return
    }
    if (verdict.reason === 'unavailable')
      // Clerk said nothing about the token: the caller retries, it is not told it is invalid.
      return gate.onUnavailable(reply, UNAVAILABLE_RETRY_AFTER_SECONDS)
    if (machine) await refusedMachines.verify(bearer)
  })
  return { sessions, machines }
}

/**
 * The caller. A person's `staffOrganization` says whether its active organization is one of the
 * staff organizations (the only place permissions count); rejects with SERVICE_UNAVAILABLE while
 * those cannot be resolved.
 */
export async function principalFromRequest(
  req: FastifyRequest,
  staff: Pick<StaffOrganizations, 'includes'>,
): Promise<Principal | null> {
  const credential = req.actasCredential
  if (!credential) return null
  if (credential.kind === 'machine') {
    const { machineId, id, scopes } = credential.machine
    return { kind: 'machine', machineId, tokenId: id, scopes }
  }
  const session = credential.session
  const orgId = session.orgId
  return {
    kind: 'user',
    userId: session.userId,
    sessionId: session.sessionId,
    orgId,
    orgSlug: session.orgSlug,
    orgRole: session.orgRole,
    permissions: session.orgPermissions,
    staffOrganization: orgId !== null && (await staff.includes(orgId)),
    actor: parseActorClaim(session.actor),
    factorVerificationAge: session.factorVerificationAge,
  }
}
