import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import type {
  Actor,
  ActorToken,
  Client,
  LocalUser,
  Organization,
  OrganizationMembership,
  SeededAccount,
  Session,
  SignInToken,
} from './model.js'
import type { StateEvent } from './events.js'
import { UserIndex } from './search.js'

/** Clerk-style ids: a prefix and 27 base62-ish characters. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(20).toString('base64url').replace(/[-_]/g, '').slice(0, 27)}`
}

export function passwordDigest(password: string, salt = randomBytes(8).toString('hex')): string {
  return `${salt}:${scryptSync(password, salt, 32, { N: 1024 }).toString('hex')}`
}

export function verifyPassword(digest: string | null, password: string): boolean {
  if (!digest) return false
  const [salt, hash] = digest.split(':')
  if (!salt || !hash) return false
  const expected = Buffer.from(hash, 'hex')
  const actual = scryptSync(password, salt, 32, { N: 1024 })
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

/** A normal session lives 7 days (Clerk's default lifetime); it has no separate inactivity timeout. */
export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000
/** Actor (impersonation) sessions end after 10 minutes without touch/token activity, as Clerk's. */
export const ACTOR_IDLE_MS = 10 * 60 * 1000

export interface ClerkStateSettings {
  /** Inactivity after which an actor (impersonation) session is abandoned (default 10 minutes). */
  actorIdleMs?: number
}

/**
 * Everything the local server knows, in memory. BAPI and FAPI share one instance.
 * `now()` is injectable so tests can move time (ticket expiry, idle sessions).
 * Changes that Clerk announces by webhook are emitted as `StateEvent`s (see `onEvent`).
 */
export class ClerkState {
  readonly users = new Map<string, LocalUser>()
  readonly organizations = new Map<string, Organization>()
  readonly memberships = new Map<string, OrganizationMembership>()
  readonly actorTokens = new Map<string, ActorToken>()
  readonly signInTokens = new Map<string, SignInToken>()
  readonly sessions = new Map<string, Session>()
  readonly clients = new Map<string, Client>()
  readonly accounts: SeededAccount[] = []
  /** Search index over `users` (see search.ts). Add users with `addUser`, not `users.set`. */
  readonly userIndex = new UserIndex()

  readonly actorIdleMs: number
  readonly #listeners: Array<(event: StateEvent) => void> = []

  constructor(
    readonly now: () => number = Date.now,
    settings: ClerkStateSettings = {},
  ) {
    this.actorIdleMs = settings.actorIdleMs ?? ACTOR_IDLE_MS
  }

  /** Subscribes to changes (sessions, users, memberships); returns the unsubscribe function. */
  onEvent(listener: (event: StateEvent) => void): () => void {
    this.#listeners.push(listener)
    return () => {
      const i = this.#listeners.indexOf(listener)
      if (i >= 0) this.#listeners.splice(i, 1)
    }
  }

  emit(event: StateEvent): void {
    for (const listener of this.#listeners) listener(event)
  }

  // --- sessions --------------------------------------------------------------------------------

  /**
   * The session's status now: an active session past `expireAt` becomes `expired`, past
   * `abandonAt` (idle) `abandoned`. Evaluated lazily on every read, so `now()` drives it.
   */
  sessionStatus(session: Session): Session['status'] {
    if (session.status !== 'active') return session.status
    const now = this.now()
    // Whichever deadline came first decides how the session ended.
    if (now >= session.abandonAt && session.abandonAt < session.expireAt)
      this.#setSessionStatus(session, 'abandoned', session.abandonAt)
    else if (now >= session.expireAt) this.#setSessionStatus(session, 'expired', session.expireAt)
    return session.status
  }

  isSessionActive(session: Session): boolean {
    return this.sessionStatus(session) === 'active'
  }

  /**
   * Ends a session: `ended` (sign-out), `removed` (removed from the client) or `revoked` (BAPI).
   * Ending or revoking a session that is no longer active changes nothing (returns false);
   * `removed` also applies to an ended session.
   */
  endSession(session: Session, status: 'ended' | 'removed' | 'revoked'): boolean {
    const current = this.sessionStatus(session)
    if (current !== 'active' && !(status === 'removed' && current === 'ended')) return false
    this.#setSessionStatus(session, status, this.now())
    const client = this.clients.get(session.clientId)
    if (client && client.lastActiveSessionId === session.id) {
      client.lastActiveSessionId = null
      client.updatedAt = this.now()
    }
    this.emit({ type: `session.${status}`, session })
    return true
  }

  #setSessionStatus(session: Session, status: Session['status'], at: number): void {
    session.status = status
    session.updatedAt = Math.max(session.updatedAt, Math.min(at, this.now()))
  }

  /** Organization a new session starts in: the user's first membership (by creation), else none. */
  defaultOrganizationId(userId: string): string | null {
    const memberships = this.membershipsOfUser(userId).filter((m) =>
      this.organizations.has(m.organizationId),
    )
    memberships.sort((a, b) => a.createdAt - b.createdAt)
    return memberships[0]?.organizationId ?? null
  }

  /**
   * A new active session of `user` on `client`; an actor token makes it an actor session.
   * `organizationId` (a sign-in token's `org_id`) overrides the organization it starts in.
   */
  createSession(
    client: Client,
    user: LocalUser,
    actorToken?: ActorToken,
    organizationId?: string,
  ): Session {
    const now = this.now()
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
      lastActiveOrganizationId: organizationId ?? this.defaultOrganizationId(user.id),
      expireAt,
      abandonAt: actorToken ? Math.min(expireAt, now + this.actorIdleMs) : expireAt,
      lastActiveAt: now,
      firstFactorVerifiedAt: now,
      createdAt: now,
      updatedAt: now,
    }
    this.sessions.set(session.id, session)
    client.sessionIds.push(session.id)
    client.lastActiveSessionId = session.id
    client.updatedAt = now
    user.lastSignInAt = now
    user.lastActiveAt = now
    this.emit({ type: 'session.created', session })
    return session
  }

  /** Activity on a session (touch, token): pushes the idle deadline of actor sessions. */
  recordActivity(session: Session): void {
    const now = this.now()
    session.lastActiveAt = now
    session.updatedAt = now
    if (session.actor) session.abandonAt = Math.min(session.expireAt, now + this.actorIdleMs)
    const user = this.users.get(session.userId)
    if (user) user.lastActiveAt = now
  }

  newClient(): Client {
    const now = this.now()
    const client: Client = {
      id: newId('client'),
      sessionIds: [],
      lastActiveSessionId: null,
      signInId: null,
      createdAt: now,
      updatedAt: now,
    }
    this.clients.set(client.id, client)
    return client
  }

  /** Adds a user to the directory and its search index (`user.created`). */
  addUser(user: LocalUser): LocalUser {
    if (this.users.has(user.id)) throw new Error(`duplicate user id ${user.id}`)
    this.users.set(user.id, user)
    this.userIndex.add(user)
    if (this.#listeners.length > 0) this.emit({ type: 'user.created', user })
    return user
  }

  /**
   * Call after changing a user's names, username, emails, phones, external id, metadata or
   * flags in place, so `query` and the exact filters see the change; announces `user.updated`.
   * (Timestamps such as `lastActiveAt` may be changed in place without this: the index
   * re-checks them.)
   */
  userChanged(user: LocalUser): void {
    this.userIndex.reindex(user)
    this.emit({ type: 'user.updated', user })
  }

  /** Bans or unbans a user; a ban revokes every active session of the user, as Clerk's does. */
  setBanned(user: LocalUser, banned: boolean): void {
    user.banned = banned
    user.updatedAt = this.now()
    if (banned) this.revokeSessionsOf(user.id)
    this.emit({ type: 'user.updated', user })
  }

  /** Locks or unlocks a user (a locked user cannot sign in; sessions stay). */
  setLocked(user: LocalUser, locked: boolean): void {
    user.locked = locked
    user.updatedAt = this.now()
    this.emit({ type: 'user.updated', user })
  }

  /**
   * Deletes a user: revokes their sessions, deletes their memberships (each announced), then
   * the user (`user.deleted`).
   */
  deleteUser(user: LocalUser): void {
    this.revokeSessionsOf(user.id)
    for (const m of this.membershipsOfUser(user.id)) this.removeMembership(m)
    this.users.delete(user.id)
    this.userIndex.remove(user)
    this.emit({ type: 'user.deleted', user })
  }

  revokeSessionsOf(userId: string): void {
    for (const session of this.sessions.values())
      if (session.userId === userId) this.endSession(session, 'revoked')
  }

  addOrganization(org: Organization): Organization {
    this.organizations.set(org.id, org)
    return org
  }

  /** A new organization named `name` (id and timestamps generated; roles hold no permission). */
  createOrganization(name: string, slug: string, roles: Organization['roles'] = {}): Organization {
    const now = this.now()
    return this.addOrganization({
      id: newId('org'),
      name,
      slug,
      roles: { admin: [], member: [], ...roles },
      createdAt: now,
      updatedAt: now,
    })
  }

  /** Bumped on every membership change (caches of `organization_id` filters key on it). */
  membershipVersion = 0

  addMembership(membership: OrganizationMembership): OrganizationMembership {
    this.memberships.set(membership.id, membership)
    this.membershipVersion++
    this.#membershipEvent('organizationMembership.created', membership)
    return membership
  }

  /** Changes a member's role (without the `org:` prefix). */
  setMembershipRole(membership: OrganizationMembership, role: string): void {
    membership.role = role
    membership.updatedAt = this.now()
    this.membershipVersion++
    this.#membershipEvent('organizationMembership.updated', membership)
  }

  removeMembership(membership: OrganizationMembership): void {
    if (!this.memberships.delete(membership.id)) return
    this.membershipVersion++
    for (const session of this.sessions.values())
      if (
        session.userId === membership.userId &&
        session.lastActiveOrganizationId === membership.organizationId
      )
        session.lastActiveOrganizationId = null
    this.#membershipEvent('organizationMembership.deleted', membership)
  }

  #membershipEvent(
    type:
      | 'organizationMembership.created'
      | 'organizationMembership.updated'
      | 'organizationMembership.deleted',
    membership: OrganizationMembership,
  ): void {
    if (this.#listeners.length === 0) return
    const organization = this.organizations.get(membership.organizationId)
    if (organization) this.emit({ type, membership, organization })
  }

  /** User ids of an organization's members. */
  membersOf(organizationId: string): string[] {
    const out: string[] = []
    for (const m of this.memberships.values())
      if (m.organizationId === organizationId) out.push(m.userId)
    return out
  }

  membershipsOfUser(userId: string): OrganizationMembership[] {
    const out: OrganizationMembership[] = []
    for (const m of this.memberships.values()) if (m.userId === userId) out.push(m)
    return out
  }

  /** Permission keys a user holds in an organization (empty when not a member). */
  permissionsIn(userId: string, organizationId: string): string[] {
    const org = this.organizations.get(organizationId)
    if (!org) return []
    for (const m of this.membershipsOfUser(userId)) {
      if (m.organizationId === organizationId) return org.roles[m.role] ?? []
    }
    return []
  }

  newActorToken(
    userId: string,
    actor: Actor,
    expiresInSeconds: number,
    sessionMaxDurationSeconds: number,
  ): ActorToken {
    const now = this.now()
    const token: ActorToken = {
      id: newId('act'),
      userId,
      actor,
      status: 'pending',
      token: randomBytes(32).toString('base64url'),
      expiresAt: now + expiresInSeconds * 1000,
      sessionMaxDurationSeconds,
      createdAt: now,
      updatedAt: now,
    }
    this.actorTokens.set(token.id, token)
    return token
  }

  signInTokenByTicket(ticket: string): SignInToken | undefined {
    for (const t of this.signInTokens.values()) if (t.token === ticket) return t
    return undefined
  }

  actorTokenByTicket(ticket: string): ActorToken | undefined {
    for (const t of this.actorTokens.values()) if (t.token === ticket) return t
    return undefined
  }
}
