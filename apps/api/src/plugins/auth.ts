// The one place that turns a Clerk session or M2M token into a Principal. `clerkPlugin`
// verifies the bearer token (session JWT: jwtKey or JWKS, authorizedParties; `mt_…` M2M token:
// BAPI `POST /m2m_tokens/verify` with the secret key); nothing below this file knows about Clerk.
import { clerkPlugin, getAuth } from '@clerk/fastify'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Principal } from '@actas/contracts'
import type { Config } from '../config.js'
import type { StaffOrganizations } from '../directory/staff-organizations.js'
import { registerWithSessionCache } from './session-cache.js'

export async function registerClerk(scope: FastifyInstance, config: Config): Promise<void> {
  // clerkPlugin's hook sits behind a cache of signed-in session-token verdicts (see
  // session-cache.ts); it verifies every token the cache has not seen.
  await registerWithSessionCache(scope, clerkPlugin, {
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
  })
}

const str = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 ? value : null

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
  const actor = auth.actor as Record<string, unknown> | null | undefined
  const actorSub = str(actor?.['sub'])
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
    actor: actorSub
      ? {
          sub: actorSub,
          impersonationId: str(actor?.['impersonation_id']),
          reason: str(actor?.['reason']),
        }
      : null,
  }
}
