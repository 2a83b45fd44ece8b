// sessions.inspect: verifies a Clerk session token that another service received (same key,
// JWKS and authorized parties as the API's own authentication) and says whether the session is
// an impersonated one, by whom and why. The token is never logged nor echoed back.
import { verifyToken } from '@clerk/backend'
import { ActAsError, parseActorClaim } from '@actas/contracts'
import type { SessionInspectOutput, SessionsPort } from '@actas/contracts'
import type { RevocationRegistry } from './revocations.js'

export interface SessionInspectorOptions {
  /** Impersonated sessions ActAs ended (answered `revoked: true`). */
  revocations?: Pick<RevocationRegistry, 'lookup'> | null
  secretKey: string
  apiUrl: string
  jwtKey: string | undefined
  authorizedParties: readonly string[]
}

/** Verification failures that say nothing about the token: Clerk or the key is unreachable. */
const UNAVAILABLE = new Set([
  'jwk-remote-failed-to-load',
  'jwk-failed-to-resolve',
  'secret-key-invalid',
  'jwk-local-missing',
])

const INVALID: SessionInspectOutput = {
  valid: false,
  invalidReason: 'invalid',
  userId: null,
  sessionId: null,
  impersonated: false,
  actor: null,
  expiresAt: null,
  revoked: false,
}

const str = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 ? value : null

export class SessionInspector implements SessionsPort {
  constructor(private readonly o: SessionInspectorOptions) {}

  async inspect(token: string): Promise<SessionInspectOutput> {
    // @clerk/backend's public verifyToken returns the payload and throws a
    // TokenVerificationError (with `reason`) when the token is refused.
    let data: Awaited<ReturnType<typeof verifyToken>>
    try {
      data = await verifyToken(token, {
        secretKey: this.o.secretKey,
        apiUrl: this.o.apiUrl,
        ...(this.o.jwtKey ? { jwtKey: this.o.jwtKey } : {}),
        ...(this.o.authorizedParties.length > 0
          ? { authorizedParties: [...this.o.authorizedParties] }
          : {}),
      })
    } catch (error) {
      const reason = (error as { reason?: unknown } | null)?.reason
      if (typeof reason === 'string' && UNAVAILABLE.has(reason)) {
        throw new ActAsError(
          'SERVICE_UNAVAILABLE',
          'Clerk could not be reached to check this token; retry shortly.',
          { retryAfterSeconds: 5 },
        )
      }
      return { ...INVALID, invalidReason: reason === 'token-expired' ? 'expired' : 'invalid' }
    }
    // Only session tokens: an M2M JWT (sub mch_…) or a token without a session is not one.
    const userId = str(data.sub)
    const sessionId = str(data.sid)
    if (!userId?.startsWith('user_') || !sessionId) return INVALID
    const act = parseActorClaim(data.act)
    return {
      valid: true,
      invalidReason: null,
      userId,
      sessionId,
      impersonated: act !== null,
      actor: act
        ? {
            userId: act.sub,
            reason: act.reason,
            impersonationId: act.impersonationId,
            mode: act.mode,
          }
        : null,
      expiresAt: typeof data.exp === 'number' ? new Date(data.exp * 1000).toISOString() : null,
      revoked:
        act !== null &&
        (this.o.revocations?.lookup(sessionId, act.impersonationId) ?? null) !== null,
    }
  }
}
