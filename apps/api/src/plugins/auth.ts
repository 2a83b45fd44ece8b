// The one place that turns a Clerk session or M2M token into a Principal. Only
// `Authorization: Bearer …` is read (no cookies). `clerkPlugin` verifies session JWTs (jwtKey or
// JWKS, authorizedParties); `mt_…` M2M tokens are verified here with Clerk's Backend API
// (`POST /m2m_tokens/verify`, as clerkPlugin would) so that the verdict can be cached until the
// token expires. The gate in session-cache.ts bounds what reaches Clerk (verdict caches, a
// per-IP limit on verifications, one JWKS fetch per interval for unknown kids). Nothing below
// this file knows about Clerk.
import { createClerkClient } from '@clerk/backend'
import { clerkPlugin, getAuth } from '@clerk/fastify'
import { isClerkAPIResponseError } from '@clerk/shared/error'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { parseActorClaim } from '@actas/contracts'
import type { Principal } from '@actas/contracts'
import type { Config } from '../config.js'
import type { IpRateLimiter } from '../rate-limit.js'
import type { StaffOrganizations } from '../directory/staff-organizations.js'
import { registerWithSessionCache } from './session-cache.js'
import type { M2MVerdict } from './session-cache.js'

type BackendClient = ReturnType<typeof createClerkClient>

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
        claims: (verified.claims as Record<string, unknown> | null) ?? null,
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

export interface ClerkGate {
  ipLimiter?: IpRateLimiter
  /** Answer when the per-IP limit refuses a request. */
  onLimited?: (reply: FastifyReply, retryAfterSeconds: number) => unknown
  /** Answer when Clerk cannot verify an M2M token (an outage): a 503, not a 401. */
  onUnavailable?: (reply: FastifyReply, retryAfterSeconds: number) => unknown
}

export async function registerClerk(
  scope: FastifyInstance,
  config: Config,
  gate: ClerkGate = {},
): Promise<void> {
  const clerk = backendClient(config)
  // clerkPlugin's hook sits behind the gate (see session-cache.ts); it verifies every session
  // token the gate lets through and has no verdict for.
  await registerWithSessionCache(
    scope,
    clerkPlugin,
    {
      secretKey: config.clerk.secretKey,
      publishableKey: config.clerk.publishableKey,
      // Must be passed: the plugin ignores CLERK_API_URL.
      apiUrl: config.clerk.apiUrl,
      ...(config.clerk.jwtKey ? { jwtKey: config.clerk.jwtKey } : {}),
      // M2M tokens are verified with this key when set, else with the secret key. (The plugin
      // would also read CLERK_MACHINE_SECRET_KEY from the environment itself at import time.)
      ...(config.clerk.machineSecretKey ? { machineSecretKey: config.clerk.machineSecretKey } : {}),
      ...(config.clerk.authorizedParties.length > 0
        ? { authorizedParties: config.clerk.authorizedParties }
        : {}),
      // Bearer tokens only: no cookie handshake redirects for an API.
      hookName: 'preHandler',
    },
    {
      verifyM2M: createM2MVerifier(config, clerk),
      ...(gate.ipLimiter ? { ipLimiter: gate.ipLimiter } : {}),
      ...(gate.onLimited ? { onLimited: gate.onLimited } : {}),
      ...(gate.onUnavailable ? { onUnavailable: gate.onUnavailable } : {}),
      ...(config.clerk.jwtKey
        ? {}
        : {
            jwks: {
              kids: createJwksKids(config, clerk),
              minIntervalMs: config.clerk.jwksUnknownKidIntervalSeconds * 1000,
            },
          }),
    },
  )
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
  // Any other token type (API key, OAuth token) is refused as if no token had been sent.
  const auth = getAuth(req, { acceptsToken: ['session_token', 'm2m_token'] })
  if (auth.tokenType === 'm2m_token') {
    if (!auth.isAuthenticated || !auth.machineId) return null
    return {
      kind: 'machine',
      machineId: auth.machineId,
      tokenId: auth.id,
      scopes: auth.scopes,
    }
  }
  if (auth.tokenType !== 'session_token' || !auth.userId) return null
  const orgId = auth.orgId ?? null
  return {
    kind: 'user',
    userId: auth.userId,
    sessionId: auth.sessionId ?? null,
    orgId,
    orgSlug: auth.orgSlug ?? null,
    orgRole: auth.orgRole ?? null,
    permissions: auth.orgPermissions ?? [],
    staffOrganization: orgId !== null && (await staff.includes(orgId)),
    actor: parseActorClaim(auth.actor),
    factorVerificationAge: auth.factorVerificationAge ?? null,
  }
}
