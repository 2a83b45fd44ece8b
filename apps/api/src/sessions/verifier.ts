// The API's one verifier of Clerk session tokens, over @clerk/backend's public
// `authenticateRequest` (a `Request` carrying the bearer token; `toAuth()` reads the organization
// claims of v1 and v2 tokens, `fva` and `act` the way Clerk's own SDKs do). Used by the API's
// authentication (plugins/auth.ts) and by `sessions.inspect` (sessions/inspector.ts).
//
// Verdicts are kept in `VerifiedTokens` (@actas/contracts/ttl-cache, shared with the guard): an
// accepted token until its `exp` (stricter than Clerk, which tolerates a clock skew past it) and
// at most 60 s, keyed by a SHA-256 digest of the token; refusals are never kept. Revocation is not
// Clerk's to tell here (networkless verification): ActAs's own ends are refused by the
// revocation registry; the 60-s token lifetime bounds the rest.
import { createClerkClient } from '@clerk/backend'
import { classifyTokenFailure } from '@actas/contracts'
import { VerifiedTokens } from '../ttl-cache.js'
import type { TokenVerdict } from '../ttl-cache.js'

/** What a verified session token says (the parts ActAs reads). */
export interface VerifiedSession {
  userId: string
  sessionId: string
  orgId: string | null
  orgSlug: string | null
  orgRole: string | null
  orgPermissions: string[]
  factorVerificationAge: [number, number] | null
  /** The raw `act` claim (impersonated sessions). */
  actor: unknown
  /** `exp`, epoch ms. */
  expiresAt: number
}

export interface SessionVerifierOptions {
  secretKey: string
  publishableKey: string
  apiUrl: string
  jwtKey: string | undefined
  authorizedParties: readonly string[]
  /** Verified tokens kept (default 10,000). */
  cacheSize?: number
  now?: () => number
}

/** Any URL: a bearer token in a header is authenticated from the token alone. */
const REQUEST_URL = 'http://actas.invalid/'

export class SessionVerifier {
  readonly tokens: VerifiedTokens<VerifiedSession>

  constructor(o: SessionVerifierOptions) {
    const now = o.now ?? Date.now
    const clerk = createClerkClient({
      secretKey: o.secretKey,
      publishableKey: o.publishableKey,
      apiUrl: o.apiUrl,
      ...(o.jwtKey ? { jwtKey: o.jwtKey } : {}),
      telemetry: { disabled: true },
    })
    const options = {
      acceptsToken: 'session_token' as const,
      ...(o.jwtKey ? { jwtKey: o.jwtKey } : {}),
      ...(o.authorizedParties.length > 0 ? { authorizedParties: [...o.authorizedParties] } : {}),
    }
    const verify = async (token: string): Promise<TokenVerdict<VerifiedSession>> => {
      let state: Awaited<ReturnType<typeof clerk.authenticateRequest>>
      try {
        state = await clerk.authenticateRequest(
          new Request(REQUEST_URL, { headers: { authorization: `Bearer ${token}` } }),
          options,
        )
      } catch (error) {
        return { ok: false, reason: classifyTokenFailure(error) }
      }
      if (state.status !== 'signed-in')
        return { ok: false, reason: classifyTokenFailure(state.reason) }
      // A pending session (tasks left) is signed out, as Clerk's SDKs treat it by default.
      const auth = state.toAuth()
      const exp = auth.sessionClaims?.exp
      if (!auth.isAuthenticated || !auth.userId || !auth.sessionId || typeof exp !== 'number')
        return { ok: false, reason: 'invalid' }
      return {
        ok: true,
        expiresAt: exp * 1000,
        value: {
          userId: auth.userId,
          sessionId: auth.sessionId,
          orgId: auth.orgId ?? null,
          orgSlug: auth.orgSlug ?? null,
          orgRole: auth.orgRole ?? null,
          orgPermissions: auth.orgPermissions ?? [],
          factorVerificationAge: auth.factorVerificationAge ?? null,
          actor: auth.actor ?? null,
          expiresAt: exp * 1000,
        },
      }
    }
    this.tokens = new VerifiedTokens({ verify, max: o.cacheSize ?? 10_000, now })
  }
}
