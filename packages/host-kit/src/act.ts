// The session token's claims the banner shows: whom the token is for (`sub`, the customer) and
// who is really acting (`act`, read by contracts' `parseActorClaim`, the one reader of ActAs's
// actor payload). Display only: the token is not verified here (the host application's server
// verifies every request, e.g. with @actas/guard); a forged token only changes what this banner
// says in its own tab.
import { parseActorClaim } from '@actas/contracts/facts'
import type { ActorClaim } from '@actas/contracts/facts'

export type { ActorClaim }

export interface SessionClaims {
  /** The signed-in user (the customer, when impersonated). */
  userId: string
  sessionId: string | null
  /** Who is really acting; null when the session is not an impersonation. */
  actor: ActorClaim | null
}

function base64UrlDecode(part: string): string {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/')
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4)
  const binary = atob(padded)
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
  return new TextDecoder().decode(bytes)
}

/** The claims of a Clerk session token (a JWT), or null when it is not one. */
export function readSessionToken(token: string | null | undefined): SessionClaims | null {
  if (!token) return null
  const payload = token.split('.')[1]
  if (!payload) return null
  try {
    const claims = JSON.parse(base64UrlDecode(payload)) as Record<string, unknown>
    if (typeof claims['sub'] !== 'string' || claims['sub'] === '') return null
    return {
      userId: claims['sub'],
      sessionId: typeof claims['sid'] === 'string' ? claims['sid'] : null,
      actor: parseActorClaim(claims['act']),
    }
  } catch {
    return null
  }
}
