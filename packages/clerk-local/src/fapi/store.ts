import { randomBytes } from 'node:crypto'
import type { Actor, ActorToken, Client, LocalUser, Session } from '../model.js'
import { newId, type ClerkState } from '../state.js'

/** A normal session lives 7 days (Clerk's default lifetime); it has no separate inactivity timeout. */
export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000
/** Actor (impersonation) sessions are abandoned after 10 minutes without touch/token activity. */
export const ACTOR_IDLE_MS = 10 * 60 * 1000
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
    const now = this.state.now()
    const client: Client = {
      id: newId('client'),
      sessionIds: [],
      lastActiveSessionId: null,
      signInId: null,
      createdAt: now,
      updatedAt: now,
    }
    this.state.clients.set(client.id, client)
    return client
  }

  /**
   * The session's status now: an active session past `expireAt` becomes `expired`, past
   * `abandonAt` (idle) `abandoned`. Evaluated lazily on every read, so `now()` drives it.
   */
  liveStatus(session: Session): Session['status'] {
    if (session.status !== 'active') return session.status
    const now = this.state.now()
    // Whichever deadline came first decides how the session ended.
    if (now >= session.abandonAt && session.abandonAt < session.expireAt)
      this.#setStatus(session, 'abandoned', session.abandonAt)
    else if (now >= session.expireAt) this.#setStatus(session, 'expired', session.expireAt)
    return session.status
  }

  isActive(session: Session): boolean {
    return this.liveStatus(session) === 'active'
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
    if (this.liveStatus(session) !== 'active' && status === 'ended') return
    this.#setStatus(session, status, this.state.now())
    const client = this.state.clients.get(session.clientId)
    if (client && client.lastActiveSessionId === session.id) {
      client.lastActiveSessionId = null
      client.updatedAt = this.state.now()
    }
  }

  #setStatus(session: Session, status: Session['status'], at: number): void {
    session.status = status
    session.updatedAt = Math.max(session.updatedAt, Math.min(at, this.state.now()))
  }

  /** Organization a new session starts in: the user's first membership (by creation), else none. */
  defaultOrganizationId(userId: string): string | null {
    const memberships = this.state
      .membershipsOfUser(userId)
      .filter((m) => this.state.organizations.has(m.organizationId))
    memberships.sort((a, b) => a.createdAt - b.createdAt)
    return memberships[0]?.organizationId ?? null
  }

  createSession(client: Client, user: LocalUser, actorToken?: ActorToken): Session {
    const now = this.state.now()
    const actor: Actor | null = actorToken ? { ...actorToken.actor } : null
    const expireAt = actorToken
      ? now + actorToken.sessionMaxDurationSeconds * 1000
      : now + SESSION_LIFETIME_MS
    const session: Session = {
      id: newId('sess'),
      clientId: client.id,
      userId: user.id,
      status: 'active',
      actor,
      lastActiveOrganizationId: this.defaultOrganizationId(user.id),
      expireAt,
      abandonAt: actorToken ? Math.min(expireAt, now + ACTOR_IDLE_MS) : expireAt,
      lastActiveAt: now,
      createdAt: now,
      updatedAt: now,
    }
    this.state.sessions.set(session.id, session)
    client.sessionIds.push(session.id)
    client.lastActiveSessionId = session.id
    client.updatedAt = now
    user.lastSignInAt = now
    user.lastActiveAt = now
    return session
  }

  /** Activity on a session (touch, token): pushes the idle deadline of actor sessions. */
  recordActivity(session: Session): void {
    const now = this.state.now()
    session.lastActiveAt = now
    session.updatedAt = now
    if (session.actor) session.abandonAt = Math.min(session.expireAt, now + ACTOR_IDLE_MS)
    const user = this.state.users.get(session.userId)
    if (user) user.lastActiveAt = now
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
