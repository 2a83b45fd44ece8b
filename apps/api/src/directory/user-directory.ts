// The user-directory port apps/api's use cases depend on. Domain-shaped: no Clerk types.
import type { ImpersonationMode } from '@actas/contracts'

export interface DirectoryUser {
  id: string
  primaryEmail: string | null
  /** E.164, the primary first. */
  phoneNumbers: string[]
  fullName: string | null
  imageUrl: string | null
  createdAt: number
  lastSignInAt: number | null
  lastActiveAt: number | null
  banned: boolean
  locked: boolean
}

export interface DirectoryMembership {
  organizationId: string
  organizationName: string
  organizationSlug: string | null
  /** e.g. `org:admin` */
  role: string
  permissions: string[]
}

export interface DirectoryOrganization {
  id: string
  name: string
  slug: string | null
}

export interface UserPage {
  users: DirectoryUser[]
  total: number
}

export interface IssuedActorToken {
  id: string
  /** The one-time ticket; handed to the caller once, never logged or stored. */
  token: string
}

/** A Clerk session, as the lifecycle needs it. */
export interface DirectorySession {
  id: string
  userId: string
  /** Clerk's status now: `active`, `ended`, `revoked`, `removed`, `expired`, `abandoned`, `replaced`. */
  status: string
  /** The `actor` object of an impersonated session (the actor token's), else null. */
  actor: Record<string, unknown> | null
  lastActiveAt: number | null
  /** When Clerk created the session (ms), when Clerk says. */
  createdAt: number | null
  expireAt: number | null
  abandonAt: number | null
}

export interface UserDirectory {
  searchUsers(params: {
    query?: string | undefined
    limit: number
    offset: number
    orderBy: string
  }): Promise<UserPage>
  /** A fresh read (no cache): null when the user does not exist. */
  getUser(userId: string): Promise<DirectoryUser | null>
  /**
   * The user's organization memberships, for display only (the first page, cached briefly;
   * `fresh` bypasses the cache): no decision rests on it, see `membershipsIn`.
   */
  getMemberships(userId: string, options?: { fresh?: boolean }): Promise<DirectoryMembership[]>
  /**
   * The user's memberships in `organizationIds`, asked directly: one
   * `GET /v1/organizations/{id}/memberships?user_id=…` per organization, so the answer is
   * complete however many other organizations the user belongs to. What the policy decides on.
   */
  membershipsIn(userId: string, organizationIds: readonly string[]): Promise<DirectoryMembership[]>
  /**
   * Which of `userIds` (at most 100) are members of any of `organizationIds`: one fresh read
   * (`GET /v1/users?user_id=…&organization_id=…`), whatever the number of organizations.
   */
  membersAmong(userIds: readonly string[], organizationIds: readonly string[]): Promise<Set<string>>
  /**
   * Every member (user id) of one organization: every page of
   * `GET /v1/organizations/{id}/memberships`, 500 a page, checked against Clerk's `total_count`
   * (a list that changes while read is refused: SERVICE_UNAVAILABLE, never part of it). null when
   * it has more than `maxMembers` (nothing more read).
   */
  organizationMemberIds(organizationId: string, maxMembers: number): Promise<string[] | null>
  /** One page of every membership of the instance (`GET /v1/organization_memberships`). */
  listOrganizationMemberships(params: {
    limit: number
    offset: number
  }): Promise<{ data: (DirectoryMembership & { userId: string })[]; total: number }>
  /** One organization by id or slug; null when Clerk does not know it. */
  getOrganization(idOrSlug: string): Promise<DirectoryOrganization | null>
  /** Never retried: a duplicate would be a second billable token. */
  createActorToken(params: {
    userId: string
    actor: { sub: string; reason: string; impersonation_id: string; mode: ImpersonationMode }
    expiresInSeconds: number
    sessionMaxDurationInSeconds: number
  }): Promise<IssuedActorToken>
  revokeActorToken(actorTokenId: string): Promise<void>
  /**
   * Every session of one user, newest first: every page is read (a user may have thousands);
   * `status` filters in Clerk. Throws rather than answer part of the list.
   */
  listSessions(userId: string, options?: { status?: string }): Promise<DirectorySession[]>
  /** One session, or null when Clerk does not know it. */
  getSession(sessionId: string): Promise<DirectorySession | null>
  /** Revokes a session (`POST /v1/sessions/{id}/revoke`); an unknown or already ended one is fine. */
  revokeSession(sessionId: string): Promise<void>
  /** A one-time sign-in token (ticket strategy) for `userId`. Never retried. */
  createSignInToken(
    userId: string,
    expiresInSeconds: number,
  ): Promise<{ id: string; token: string }>
  /** Throws when Clerk cannot be reached (for /readyz). */
  ping(): Promise<void>
}
