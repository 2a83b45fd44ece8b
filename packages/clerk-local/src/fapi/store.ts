import { randomBytes } from 'node:crypto'
import type { ActorToken, Client, LocalUser, Session } from '../model.js'
import { newId, type ClerkState } from '../state.js'

export { ACTOR_IDLE_MS, SESSION_LIFETIME_MS } from '../state.js'
/** An unfinished sign-in attempt is abandoned after 24 hours, as in Clerk. */
export const SIGN_IN_LIFETIME_MS = 24 * 60 * 60 * 1000

export type SignInStatus = 'needs_identifier' | 'needs_first_factor' | 'complete' | 'abandoned'

export interface SignInAttempt {
  id: string
  clientId: string
  status: SignInStatus
  identifier: string | null
  userId: string | null
  firstFactor: {
    strategy: 'password' | 'ticket'
    status: 'unverified' | 'verified'
    attempts: number
  } | null
  createdSessionId: string | null
  abandonAt: number
  createdAt: number
}

/**
 * FAPI-only state: dev browsers and sign-in attempts. Clients and sessions live in the shared
 * `ClerkState` (BAPI reads and revokes them too).
 */
export class FapiStore {
  /** dev browser id (`__clerk_db_jwt`) → client id, or null before the first sign-in. */
  readonly devBrowsers = new Map<string, string | null>()
  readonly signIns = new Map<string, SignInAttempt>()
  /** client id → the browser origin it last called from (the `azp` of its tokens). */
  readonly clientOrigins = new Map<string, string>()

  constructor(readonly state: ClerkState) {}

  newDevBrowser(): string {
    const id = `dvb_${randomBytes(20).toString('base64url').replace(/[-_]/g, '').slice(0, 27)}`
    this.devBrowsers.set(id, null)
    return id
  }

  newClient(): Client {
    return this.state.newClient()
  }

  /** The session's status now (expiry and idleness are evaluated lazily; see ClerkState). */
  liveStatus(session: Session): Session['status'] {
    return this.state.sessionStatus(session)
  }

  isActive(session: Session): boolean {
    return this.state.isSessionActive(session)
  }

  activeSessionsOf(client: Client): Session[] {
    const out: Session[] = []
    for (const id of client.sessionIds) {
      const s = this.state.sessions.get(id)
      if (s && s.clientId === client.id && this.isActive(s)) out.push(s)
    }
    return out
  }

  endSession(session: Session, status: 'ended' | 'removed'): void {
    this.state.endSession(session, status)
  }

  createSession(client: Client, user: LocalUser, actorToken?: ActorToken): Session {
    return this.state.createSession(client, user, actorToken)
  }

  /** Activity on a session (touch, token): pushes the idle deadline of actor sessions. */
  recordActivity(session: Session): void {
    this.state.recordActivity(session)
  }

  newSignIn(client: Client): SignInAttempt {
    const now = this.state.now()
    const signIn: SignInAttempt = {
      id: newId('sia'),
      clientId: client.id,
      status: 'needs_identifier',
      identifier: null,
      userId: null,
      firstFactor: null,
      createdSessionId: null,
      abandonAt: now + SIGN_IN_LIFETIME_MS,
      createdAt: now,
    }
    this.signIns.set(signIn.id, signIn)
    client.signInId = signIn.id
    client.updatedAt = now
    return signIn
  }

  /** Find a user by email address (case-insensitive), username or phone number. */
  findUserByIdentifier(identifier: string): LocalUser | undefined {
    const needle = identifier.trim().toLowerCase()
    if (!needle) return undefined
    for (const user of this.state.users.values()) {
      if (user.emailAddresses.some((e) => e.emailAddress.toLowerCase() === needle)) return user
      if (user.username && user.username.toLowerCase() === needle) return user
      if (user.phoneNumbers.some((p) => p.phoneNumber === identifier.trim())) return user
    }
    return undefined
  }
}
