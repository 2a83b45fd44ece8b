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
} from './model.js'
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

/**
 * Everything the local server knows, in memory. BAPI and FAPI share one instance.
 * `now()` is injectable so tests can move time (ticket expiry, idle sessions).
 */
export class ClerkState {
  readonly users = new Map<string, LocalUser>()
  readonly organizations = new Map<string, Organization>()
  readonly memberships = new Map<string, OrganizationMembership>()
  readonly actorTokens = new Map<string, ActorToken>()
  readonly sessions = new Map<string, Session>()
  readonly clients = new Map<string, Client>()
  readonly accounts: SeededAccount[] = []
  /** Search index over `users` (see search.ts). Add users with `addUser`, not `users.set`. */
  readonly userIndex = new UserIndex()

  constructor(readonly now: () => number = Date.now) {}

  /** Adds a user to the directory and its search index. */
  addUser(user: LocalUser): LocalUser {
    if (this.users.has(user.id)) throw new Error(`duplicate user id ${user.id}`)
    this.users.set(user.id, user)
    this.userIndex.add(user)
    return user
  }

  /**
   * Call after changing a user's names, username, emails, phones or external id in place, so
   * `query` and the exact filters see the change. (Timestamps such as `lastActiveAt` may be
   * changed in place without this: the index re-checks them.)
   */
  userChanged(user: LocalUser): void {
    this.userIndex.reindex(user)
  }

  addOrganization(org: Organization): Organization {
    this.organizations.set(org.id, org)
    return org
  }

  addMembership(membership: OrganizationMembership): OrganizationMembership {
    this.memberships.set(membership.id, membership)
    return membership
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

  actorTokenByTicket(ticket: string): ActorToken | undefined {
    for (const t of this.actorTokens.values()) if (t.token === ticket) return t
    return undefined
  }
}
