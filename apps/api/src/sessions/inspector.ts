// sessions.inspect: verifies a Clerk session token that another service received (the API's own
// verifier: same key, JWKS and authorized parties as its authentication, and the same cache) and
// says whether the session is an impersonated one, by whom and why. The token is never logged
// nor echoed back.
import { ActAsError, parseActorClaim } from '@actas/contracts'
import type { SessionInspectOutput, SessionsPort } from '@actas/contracts'
import type { RevocationRegistry } from './revocations.js'
import type { SessionVerifier } from './verifier.js'

export interface SessionInspectorOptions {
  /** Impersonated sessions ActAs ended (answered `revoked: true`). */
  revocations?: Pick<RevocationRegistry, 'lookup'> | null
  verifier: SessionVerifier
}
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

export class SessionInspector implements SessionsPort {
  constructor(private readonly o: SessionInspectorOptions) {}

  async inspect(token: string): Promise<SessionInspectOutput> {
    const verdict = await this.o.verifier.tokens.check(token)
    if (!verdict.ok) {
      if (verdict.reason === 'unavailable')
        throw new ActAsError(
          'SERVICE_UNAVAILABLE',
          'Clerk could not be reached to check this token; retry shortly.',
          { retryAfterSeconds: 5 },
        )
      return { ...INVALID, invalidReason: verdict.reason === 'expired' ? 'expired' : 'invalid' }
    }
    // Only session tokens: an M2M JWT (sub mch_…) or a token without a session is not one.
    const { userId, sessionId, expiresAt } = verdict.value
    if (!userId.startsWith('user_')) return INVALID
    const act = parseActorClaim(verdict.value.actor)
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
      expiresAt: new Date(expiresAt).toISOString(),
      revoked:
        act !== null &&
        (this.o.revocations?.lookup(sessionId, act.impersonationId) ?? null) !== null,
    }
  }
}
