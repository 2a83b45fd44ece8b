// The one place that turns a Clerk session into a Principal. `clerkPlugin` verifies the bearer
// token (jwtKey or JWKS, authorizedParties); nothing below this file knows about Clerk.
import { clerkPlugin, getAuth } from '@clerk/fastify'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Principal } from '@actas/contracts'
import type { Config } from '../config.js'
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
    ...(config.clerk.authorizedParties.length > 0
      ? { authorizedParties: config.clerk.authorizedParties }
      : {}),
    // Bearer tokens only: no cookie handshake redirects for an API.
    hookName: 'preHandler',
  })
}

const str = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 ? value : null

export function principalFromRequest(req: FastifyRequest): Principal | null {
  const auth = getAuth(req)
  if (auth.tokenType !== 'session_token' || !auth.userId) return null
  const actor = auth.actor as Record<string, unknown> | null | undefined
  const actorSub = str(actor?.['sub'])
  return {
    userId: auth.userId,
    sessionId: auth.sessionId ?? null,
    orgId: auth.orgId ?? null,
    orgSlug: auth.orgSlug ?? null,
    orgRole: auth.orgRole ?? null,
    permissions: auth.orgPermissions ?? [],
    actor: actorSub
      ? {
          sub: actorSub,
          impersonationId: str(actor?.['impersonation_id']),
          reason: str(actor?.['reason']),
        }
      : null,
  }
}
