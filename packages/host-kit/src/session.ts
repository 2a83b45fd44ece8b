// Where the banner gets the session: anything with `getToken()`; by default clerk-js
// (`window.Clerk`), read afresh on every use (clerk-js replaces its session object).

export interface HostSession {
  /** The current session token (a JWT), or null when signed out. */
  getToken(): Promise<string | null>
  /** When the session ends at the latest (Clerk's `session.expireAt`): the countdown. */
  expireAt(): Date | null
  /** The signed-in user's name, for "acting as …". */
  userName(): string | null
}

/** The part of clerk-js (`window.Clerk`) the banner reads. */
export interface ClerkLike {
  session?: {
    getToken(): Promise<string | null>
    expireAt?: Date | null
  } | null
  user?: {
    fullName?: string | null
    primaryEmailAddress?: { emailAddress: string } | null
  } | null
}

/** A HostSession over clerk-js (`window.Clerk` unless given). */
export function clerkSession(clerk?: ClerkLike): HostSession {
  const current = (): ClerkLike | undefined => clerk ?? (globalThis as { Clerk?: ClerkLike }).Clerk
  return {
    async getToken() {
      const session = current()?.session
      return session ? session.getToken() : null
    },
    expireAt() {
      const at = current()?.session?.expireAt
      return at instanceof Date && !Number.isNaN(at.getTime()) ? at : null
    },
    userName() {
      const user = current()?.user
      return user?.fullName || user?.primaryEmailAddress?.emailAddress || null
    },
  }
}
