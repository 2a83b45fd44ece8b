// The console's view of authentication: small, domain-shaped, and free of Clerk types.
// auth/adapter.ts implements it with @clerk/vue; everything else depends on this file only.
import type { ImpersonationMode } from '@actas/contracts/facts'
import type { ComputedRef, InjectionKey, Ref } from 'vue'
import { inject } from 'vue'

export interface AuthUser {
  id: string
  fullName: string | null
  primaryEmail: string | null
  username: string | null
  imageUrl: string | null
  createdAt: Date | null
  lastSignInAt: Date | null
  organizations: string[]
}

/** The `act` claim of an impersonated session, as ActAs sets it. */
export interface AuthActor {
  /** The staff user who is impersonating. */
  sub: string
  reason: string | null
  impersonationId: string | null
  /** `act.mode`: `read_only` or `full`. */
  mode: ImpersonationMode
}

export interface AuthSession {
  id: string
  expireAt: Date | null
  /** When this session began (its sign-in). */
  createdAt: Date | null
  actor: AuthActor | null
}

export type AuthErrorKind =
  | 'identifier_not_found'
  | 'password_incorrect'
  | 'invalid_input'
  | 'banned'
  | 'locked'
  | 'session_exists'
  | 'ticket_expired'
  | 'ticket_used'
  | 'ticket_invalid'
  | 'rate_limited'
  | 'unavailable'
  /** The request did not get through (offline, connection dropped): worth trying again. */
  | 'network'
  | 'incomplete'
  | 'unknown'

/** A sign-in failure, in plain words (never contains a ticket or a password). */
export class AuthError extends Error {
  override readonly name = 'AuthError'
  constructor(
    readonly kind: AuthErrorKind,
    message: string,
    /** The form field the error belongs to, when there is one. */
    readonly field: 'identifier' | 'password' | null = null,
  ) {
    super(message)
  }
}

export interface Auth {
  /** True once clerk-js has loaded (signed in or not). */
  isLoaded: Readonly<Ref<boolean>>
  /** True when clerk-js could not be loaded (script or Frontend API unreachable). */
  loadFailed: Readonly<Ref<boolean>>
  user: ComputedRef<AuthUser | null>
  session: ComputedRef<AuthSession | null>
  /** Resolves when clerk-js has loaded; rejects if it cannot load. */
  whenLoaded(): Promise<void>
  signInWithPassword(identifier: string, password: string): Promise<void>
  /** Signs in with a one-time ticket and makes that session the active one. */
  signInWithTicket(ticket: string): Promise<void>
  /**
   * Step-up: verifies the current session's password again (Clerk's session reverification,
   * first factor), so the next session token's `fva` shows it verified now. Rejects with an
   * AuthError (`password_incorrect`, …) and changes nothing when it fails.
   */
  reverifyWithPassword(password: string): Promise<void>
  /** Ends the current session; `redirectTo` is an in-app path. */
  signOut(redirectTo: string): Promise<void>
  /** The current session token, or null when signed out. */
  getToken(): Promise<string | null>
  /**
   * `url` (another origin, e.g. the host application) carrying this browser's Clerk session the
   * way Clerk does (clerk-js `buildUrlWithAuth`): development instances add the dev browser token
   * (`__clerk_db_jwt`); production instances share it through the primary or satellite domains.
   */
  buildUrlWithAuth(url: string): string
}

export const AuthKey: InjectionKey<Auth> = Symbol('actas.auth')

export function useAuth(): Auth {
  const auth = inject(AuthKey, null)
  if (!auth) throw new Error('useAuth() needs the auth adapter: app.provide(AuthKey, …) in main.ts')
  return auth
}
