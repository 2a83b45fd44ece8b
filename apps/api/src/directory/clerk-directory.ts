// The Clerk adapter of the user directory: the one place in ActAs that calls Clerk's Backend API.
// Every call is bounded by a timeout; reads retry twice with backoff on transient failures;
// actor-token creation is never retried.
import { ActAsError } from '@actas/contracts'
import { createClerkClient } from '@clerk/backend'
import type { ClerkClient, OrganizationMembership, User } from '@clerk/backend'
import { ClerkTimeoutError, isTransient, mapClerkError } from './clerk-errors.js'
import type { ClerkOperation } from './clerk-errors.js'
import type {
  DirectoryMembership,
  DirectoryUser,
  IssuedActorToken,
  UserDirectory,
  UserPage,
} from './user-directory.js'

export interface ClerkDirectoryOptions {
  secretKey: string
  publishableKey: string
  apiUrl: string
  timeoutMs: number
  /** How long memberships shown in search results may be reused (policy checks always read fresh). */
  membershipCacheMs?: number
  /** Backoff before each read retry. */
  retryDelaysMs?: readonly number[]
  /**
   * How long a search's total (Clerk's `GET /v1/users/count`) may be reused for the same query.
   * The total shown beside a full page may be this stale; a short page never uses it (its total
   * is exact: offset + length). 0 disables the cache.
   */
  countCacheMs?: number
  /** Injectable clock (tests). */
  now?: () => number
}

/** `users.request`: the list half of `getUserList`, without the count request it always adds. */
type UsersRequest = (options: {
  method: 'GET'
  path: string
  queryParams: Record<string, unknown>
}) => Promise<User[]>

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ClerkTimeoutError(`Clerk did not answer within ${ms} ms`)),
      ms,
    )
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function toDirectoryUser(user: User): DirectoryUser {
  const primary =
    user.emailAddresses.find((e) => e.id === user.primaryEmailAddressId) ??
    user.emailAddresses[0] ??
    null
  const fullName = [user.firstName, user.lastName].filter(Boolean).join(' ').trim()
  return {
    id: user.id,
    primaryEmail: primary?.emailAddress ?? null,
    fullName: fullName || user.username || null,
    imageUrl: user.imageUrl || null,
    createdAt: user.createdAt,
    lastSignInAt: user.lastSignInAt ?? null,
    lastActiveAt: user.lastActiveAt ?? null,
    banned: user.banned,
    locked: user.locked,
  }
}

function toDirectoryMembership(m: OrganizationMembership): DirectoryMembership {
  return {
    organizationId: m.organization.id,
    organizationName: m.organization.name,
    organizationSlug: m.organization.slug ?? null,
    role: m.role,
    permissions: m.permissions ?? [],
  }
}

export class ClerkDirectory implements UserDirectory {
  private readonly clerk: ClerkClient
  private readonly membershipCache = new Map<string, { at: number; value: DirectoryMembership[] }>()
  private readonly membershipCacheMs: number
  private readonly retryDelaysMs: readonly number[]
  private readonly countCache = new Map<string, { at: number; total: number }>()
  private readonly countCacheMs: number
  private readonly now: () => number

  constructor(private readonly options: ClerkDirectoryOptions) {
    this.clerk = createClerkClient({
      secretKey: options.secretKey,
      publishableKey: options.publishableKey,
      apiUrl: options.apiUrl,
      telemetry: { disabled: true },
    })
    this.membershipCacheMs = options.membershipCacheMs ?? 30_000
    this.retryDelaysMs = options.retryDelaysMs ?? [100, 400]
    this.countCacheMs = options.countCacheMs ?? 5_000
    this.now = options.now ?? Date.now
  }

  private async once<T>(operation: ClerkOperation, call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(call(), this.options.timeoutMs)
    } catch (error) {
      throw mapClerkError(error, operation)
    }
  }

  private async read<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once('read', call)
      } catch (error) {
        const delay = this.retryDelaysMs[attempt]
        if (delay === undefined || !(error instanceof ActAsError) || !isTransient(error))
          throw error
        await sleep(delay)
      }
    }
  }

  /**
   * One `GET /v1/users` per page, plus `GET /v1/users/count` only when the page does not tell the
   * total itself and no count for this query is younger than `countCacheMs`:
   * - a page shorter than `limit` (non-empty, or empty at offset 0) ends the list: the total is
   *   offset + length, exact, no count request;
   * - otherwise the cached count is used if it is fresh and not smaller than offset + length
   *   (so `next` is never withheld from a full page because of a stale total);
   * - otherwise the count is fetched (in parallel with the list when no fresh one is cached).
   */
  async searchUsers(params: {
    query?: string | undefined
    limit: number
    offset: number
    orderBy: string
  }): Promise<UserPage> {
    const filters = params.query ? { query: params.query } : {}
    const key = params.query ?? ''
    const cached = this.freshCount(key)
    const counting = cached === undefined ? this.fetchCount(key, filters) : undefined
    // Only awaited below when needed; never left to reject unhandled.
    counting?.catch(() => undefined)
    const request = (this.clerk.users as unknown as { request: UsersRequest }).request.bind(
      this.clerk.users,
    )
    const data = await this.read(() =>
      request({
        method: 'GET',
        path: '/users',
        queryParams: {
          ...filters,
          limit: params.limit,
          offset: params.offset,
          orderBy: params.orderBy,
        },
      }),
    )
    const users = data.map(toDirectoryUser)
    const end = params.offset + users.length
    if (users.length < params.limit && (users.length > 0 || params.offset === 0)) {
      return { users, total: end }
    }
    if (cached !== undefined && cached >= end) return { users, total: cached }
    const total = await (counting ?? this.fetchCount(key, filters))
    return { users, total }
  }

  private freshCount(key: string): number | undefined {
    const hit = this.countCache.get(key)
    return hit && this.now() - hit.at < this.countCacheMs ? hit.total : undefined
  }

  private async fetchCount(key: string, filters: { query?: string }): Promise<number> {
    const at = this.now()
    const total = await this.read(() => this.clerk.users.getCount(filters))
    if (this.countCacheMs > 0) {
      if (this.countCache.size >= 1_000) this.countCache.clear()
      this.countCache.set(key, { at, total })
    }
    return total
  }

  async getUser(userId: string): Promise<DirectoryUser | null> {
    try {
      return toDirectoryUser(await this.read(() => this.clerk.users.getUser(userId)))
    } catch (error) {
      if (error instanceof ActAsError && error.code === 'USER_NOT_FOUND') return null
      throw error
    }
  }

  async getMemberships(
    userId: string,
    options: { fresh?: boolean } = {},
  ): Promise<DirectoryMembership[]> {
    const now = this.now()
    const cached = this.membershipCache.get(userId)
    if (!options.fresh && cached && now - cached.at < this.membershipCacheMs) return cached.value
    const { data } = await this.read(() =>
      this.clerk.users.getOrganizationMembershipList({ userId, limit: 100 }),
    )
    const value = data.map(toDirectoryMembership)
    if (this.membershipCache.size > 10_000) this.membershipCache.clear()
    this.membershipCache.set(userId, { at: now, value })
    return value
  }

  async createActorToken(params: {
    userId: string
    actor: { sub: string; reason: string; impersonation_id: string }
    expiresInSeconds: number
    sessionMaxDurationInSeconds: number
  }): Promise<IssuedActorToken> {
    const token = await this.once('create-actor-token', () =>
      this.clerk.actorTokens.create({
        userId: params.userId,
        // Clerk copies the whole actor object into the session's `act` claim.
        actor: params.actor as { sub: string },
        expiresInSeconds: params.expiresInSeconds,
        sessionMaxDurationInSeconds: params.sessionMaxDurationInSeconds,
      }),
    )
    if (!token.token) {
      await this.revokeActorToken(token.id).catch(() => undefined)
      throw new ActAsError(
        'SERVICE_UNAVAILABLE',
        'Clerk answered without a ticket; nothing was issued.',
      )
    }
    return { id: token.id, token: token.token }
  }

  async revokeActorToken(actorTokenId: string): Promise<void> {
    await this.once('revoke-actor-token', () => this.clerk.actorTokens.revoke(actorTokenId))
  }

  async ping(): Promise<void> {
    await this.once('read', () => this.clerk.users.getCount())
  }
}
