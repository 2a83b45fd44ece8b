// Local verification of Clerk session tokens with @clerk/backend's `verifyToken`: networkless
// with `jwtKey`, otherwise with the instance's JWKS (fetched with the secret key and cached by
// @clerk/backend). A verified token's claims are kept until its `exp` (≤ 60 s for Clerk session
// tokens), so a request with a token already seen costs a map lookup, not a signature check.
import { verifyToken } from '@clerk/backend'

/** How a Clerk instance's session tokens are verified. */
export interface ClerkVerifyOptions {
  /** The instance's JWT public key (PEM): verification without any network call. */
  jwtKey?: string
  /** Without `jwtKey`: the secret key that fetches the JWKS (cached by @clerk/backend). */
  secretKey?: string
  /** Clerk's Backend API (default https://api.clerk.com). */
  apiUrl?: string
  /** The origins allowed in `azp` (recommended; Clerk's own check against subdomain cookie leaks). */
  authorizedParties?: string[]
  /** Allowed clock difference with Clerk (default 5,000 ms). */
  clockSkewInMs?: number
}

/** The claims of a verified session token the guard uses. */
export interface VerifiedSession {
  userId: string
  sessionId: string
  /** `exp` in ms. */
  expiresAt: number
  /** The raw `act` claim, when the session is an impersonated one. */
  act: unknown
}

export type VerifyResult =
  | { ok: true; session: VerifiedSession }
  | { ok: false; reason: 'expired' | 'invalid' | 'unavailable' }

/** Failures that say nothing about the token: the keys could not be loaded. */
const UNAVAILABLE = new Set([
  'jwk-remote-failed-to-load',
  'jwk-failed-to-resolve',
  'jwk-remote-missing',
  'secret-key-invalid',
  'jwk-local-missing',
])

export class SessionVerifier {
  private readonly cache = new Map<string, VerifiedSession>()

  constructor(
    private readonly options: ClerkVerifyOptions,
    private readonly now: () => number,
    /** At most this many verified tokens are kept (oldest dropped first). */
    private readonly cacheSize = 10_000,
  ) {
    if (!options.jwtKey && !options.secretKey)
      throw new Error('@actas/guard: give clerk.jwtKey (networkless) or clerk.secretKey (JWKS)')
  }

  /** Verifies `token`; a token verified before answers from memory until its `exp`. */
  async verify(token: string): Promise<VerifyResult> {
    const cached = this.cache.get(token)
    if (cached) {
      if (cached.expiresAt > this.now()) return { ok: true, session: cached }
      this.cache.delete(token)
    }
    let claims: Awaited<ReturnType<typeof verifyToken>>
    try {
      claims = await verifyToken(token, {
        ...(this.options.jwtKey ? { jwtKey: this.options.jwtKey } : {}),
        ...(this.options.secretKey ? { secretKey: this.options.secretKey } : {}),
        ...(this.options.apiUrl ? { apiUrl: this.options.apiUrl } : {}),
        ...(this.options.authorizedParties?.length
          ? { authorizedParties: this.options.authorizedParties }
          : {}),
        ...(this.options.clockSkewInMs === undefined
          ? {}
          : { clockSkewInMs: this.options.clockSkewInMs }),
      })
    } catch (error) {
      const reason = (error as { reason?: unknown } | null)?.reason
      if (typeof reason === 'string' && UNAVAILABLE.has(reason))
        return { ok: false, reason: 'unavailable' }
      return { ok: false, reason: reason === 'token-expired' ? 'expired' : 'invalid' }
    }
    const userId = typeof claims.sub === 'string' ? claims.sub : ''
    const sessionId = typeof claims.sid === 'string' ? claims.sid : ''
    // Session tokens only: an M2M JWT (`sub` mch_…) or a token without a session is not one.
    if (!userId.startsWith('user_') || !sessionId) return { ok: false, reason: 'invalid' }
    const session: VerifiedSession = {
      userId,
      sessionId,
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : this.now(),
      act: (claims as { act?: unknown }).act ?? null,
    }
    if (this.cacheSize <= 0) return { ok: true, session }
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next()
      if (!oldest.done) this.cache.delete(oldest.value)
    }
    this.cache.set(token, session)
    return { ok: true, session }
  }
}
