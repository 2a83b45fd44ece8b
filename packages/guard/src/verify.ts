// Local verification of Clerk session tokens with @clerk/backend's `verifyToken`: networkless
// with `jwtKey`, otherwise with the instance's JWKS (fetched with the secret key and cached by
// @clerk/backend). A verified token's claims are kept until its `exp` (≤ 60 s for Clerk session
// tokens), so a request with a token already seen costs a cache lookup, not a signature check.
import { verifyToken } from '@clerk/backend'
import { classifyTokenFailure } from '@actas/contracts'
import { VerifiedTokens } from '@actas/contracts/ttl-cache'
import type { TokenVerdict } from '@actas/contracts/ttl-cache'

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

export class SessionVerifier {
  /** Verified tokens until their `exp` (@actas/contracts/ttl-cache: keyed by a hash, never the token). */
  private readonly tokens: VerifiedTokens<VerifiedSession>

  constructor(
    private readonly options: ClerkVerifyOptions,
    now: () => number,
    /** At most this many verified tokens are kept (least recently used dropped first). */
    cacheSize = 10_000,
  ) {
    if (!options.jwtKey && !options.secretKey)
      throw new Error('@actas/guard: give clerk.jwtKey (networkless) or clerk.secretKey (JWKS)')
    this.tokens = new VerifiedTokens({
      verify: (token) => this.verifyNow(token),
      max: cacheSize,
      now,
    })
  }

  /** Verifies `token`; a token verified before answers from memory until its `exp`. */
  async verify(token: string): Promise<VerifyResult> {
    const verdict = await this.tokens.check(token)
    return verdict.ok ? { ok: true, session: verdict.value } : verdict
  }

  private async verifyNow(token: string): Promise<TokenVerdict<VerifiedSession>> {
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
      // The one classification of the API and the guard (@actas/contracts).
      return { ok: false, reason: classifyTokenFailure(error) }
    }
    const userId = typeof claims.sub === 'string' ? claims.sub : ''
    const sessionId = typeof claims.sid === 'string' ? claims.sid : ''
    // Session tokens only: an M2M JWT (`sub` mch_…) or a token without a session is not one.
    if (!userId.startsWith('user_') || !sessionId || typeof claims.exp !== 'number')
      return { ok: false, reason: 'invalid' }
    const session: VerifiedSession = {
      userId,
      sessionId,
      expiresAt: claims.exp * 1000,
      act: (claims as { act?: unknown }).act ?? null,
    }
    return { ok: true, value: session, expiresAt: session.expiresAt }
  }
}
