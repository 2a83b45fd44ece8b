// The Clerk adapter of the user directory: the one place in ActAs that calls Clerk's Backend API.
// Reads go through `BapiReader` (plain JSON over keep-alive HTTP) and retry twice with backoff
// on transient failures; actor tokens go through @clerk/backend and are never retried. Every call
// is bounded by a timeout.
import { ActAsError } from '@actas/contracts'
import type { ImpersonationMode } from '@actas/contracts'
import { createClerkClient } from '@clerk/backend'
import type { ClerkClient } from '@clerk/backend'
import { BapiReader } from './bapi-reader.js'
import { ClerkTimeoutError, isTransient, mapClerkError } from './clerk-errors.js'
import { ttlCache } from '../ttl-cache.js'
import type { Logger } from 'pino'
import type { TtlCache } from '../ttl-cache.js'
import type { ClerkOperation } from './clerk-errors.js'
import type {
  DirectoryMembership,
  DirectorySession,
  DirectoryOrganization,
  DirectoryUser,
  IssuedActorToken,
  UserDirectory,
  UserPage,
} from './user-directory.js'
import { clerkRoute, timeClerkCall } from '../metrics/metrics.js'

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
   * A read Clerk rate-limits (429) is retried once after its Retry-After when that is at most
   * this long; a longer wait (or a second 429) is RATE_LIMITED with Clerk's wait, for the caller
   * to show. Default 2 s.
   */
  maxRateLimitWaitMs?: number
  /**
   * How long a search's total (Clerk's `GET /v1/users/count`) may be reused for the same query.
   * The total shown beside a full page may be this stale; a short page never uses it (its total
   * is exact: offset + length). 0 disables the cache.
   */
  countCacheMs?: number
  /** Injectable clock (tests). */
  now?: () => number
  /** Where a late actor token's revocation is reported (see `createActorToken`). */
  logger?: Pick<Logger, 'warn' | 'error'>
  /** Backoff before each attempt to revoke a late actor token (default 0, 1 s, 5 s). */
  lateRevokeDelaysMs?: readonly number[]
}

/** The fields of Clerk's `User` JSON (bapi-2026-05-12.yml, `User`) that ActAs reads. */
interface UserJSON {
  id: string
  username?: string | null
  first_name?: string | null
  last_name?: string | null
  image_url?: string | null
  primary_email_address_id?: string | null
  email_addresses?: { id: string; email_address: string }[]
  primary_phone_number_id?: string | null
  phone_numbers?: { id: string; phone_number: string }[]
  created_at: number
  last_sign_in_at?: number | null
  last_active_at?: number | null
  banned?: boolean
  locked?: boolean
}

/** The fields of Clerk's `OrganizationMembership` JSON that ActAs reads. */
interface MembershipJSON {
  role: string
  permissions?: string[] | null
  organization: { id: string; name: string; slug?: string | null }
  public_user_data?: { user_id: string } | null
}

/** Clerk's largest page of `GET /v1/sessions` (bapi-2026-05-12.yml). */
const SESSION_PAGE_SIZE = 500
/** Pages of a user's sessions read at most (25,000 sessions); past it, a typed refusal. */
const MAX_SESSION_PAGES = 50

/** Clerk's largest page of `GET /v1/organizations/{id}/memberships` (bapi-2026-05-12.yml). */
export const MEMBERSHIP_PAGE_SIZE = 500

/** Clerk's limit on repeated `user_id` values (bapi-2026-05-12.yml). */
export const MAX_USER_IDS_PER_READ = 100

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

/** Same rules as @clerk/backend's `User` getters: the primary address, else the first. */
function toDirectoryUser(user: UserJSON): DirectoryUser {
  const emails = user.email_addresses ?? []
  const primary = emails.find((e) => e.id === user.primary_email_address_id) ?? emails[0] ?? null
  const fullName = [user.first_name, user.last_name].filter(Boolean).join(' ').trim()
  const phones = user.phone_numbers ?? []
  const primaryPhone = phones.find((p) => p.id === user.primary_phone_number_id)
  return {
    id: user.id,
    primaryEmail: primary?.email_address ?? null,
    phoneNumbers: [
      ...(primaryPhone ? [primaryPhone] : []),
      ...phones.filter((p) => p !== primaryPhone),
    ].map((p) => p.phone_number),
    fullName: fullName || user.username || null,
    imageUrl: user.image_url || null,
    createdAt: user.created_at,
    lastSignInAt: user.last_sign_in_at ?? null,
    lastActiveAt: user.last_active_at ?? null,
    banned: user.banned ?? false,
    locked: user.locked ?? false,
  }
}

/** The fields of Clerk's `Session` JSON that ActAs reads. */
export interface SessionJSON {
  id: string
  user_id: string
  status: string
  actor?: Record<string, unknown> | null
  last_active_at?: number | null
  created_at?: number | null
  expire_at?: number | null
  abandon_at?: number | null
}

export function toDirectorySession(s: SessionJSON): DirectorySession {
  return {
    id: s.id,
    userId: s.user_id,
    status: s.status,
    actor: s.actor && typeof s.actor === 'object' ? s.actor : null,
    lastActiveAt: s.last_active_at ?? null,
    createdAt: s.created_at ?? null,
    expireAt: s.expire_at ?? null,
    abandonAt: s.abandon_at ?? null,
  }
}

function toDirectoryMembership(m: MembershipJSON): DirectoryMembership {
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
  private readonly reader: BapiReader
  private readonly membershipCache: TtlCache<DirectoryMembership[]> | undefined
  private readonly retryDelaysMs: readonly number[]
  private readonly countCache: TtlCache<number> | undefined
  private readonly maxRateLimitWaitMs: number
  private readonly now: () => number

  constructor(private readonly options: ClerkDirectoryOptions) {
    this.clerk = createClerkClient({
      secretKey: options.secretKey,
      publishableKey: options.publishableKey,
      apiUrl: options.apiUrl,
      telemetry: { disabled: true },
    })
    this.reader = new BapiReader({
      apiUrl: options.apiUrl,
      secretKey: options.secretKey,
      timeoutMs: options.timeoutMs,
    })
    const membershipCacheMs = options.membershipCacheMs ?? 30_000
    this.retryDelaysMs = options.retryDelaysMs ?? [100, 400]
    const countCacheMs = options.countCacheMs ?? 5_000
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 2_000
    this.now = options.now ?? Date.now
    const now = this.now
    this.membershipCache =
      membershipCacheMs > 0 ? ttlCache({ max: 10_000, ttlMs: membershipCacheMs, now }) : undefined
    this.countCache =
      countCacheMs > 0 ? ttlCache({ max: 1_000, ttlMs: countCacheMs, now }) : undefined
  }

  /** One SDK call (a write), bounded by the timeout, never retried. */
  private async once<T>(operation: ClerkOperation, call: () => Promise<T>): Promise<T> {
    try {
      return await timeClerkCall(operation, () => withTimeout(call(), this.options.timeoutMs))
    } catch (error) {
      throw mapClerkError(error, operation)
    }
  }

  /**
   * `GET /v1/{path}`: the reader bounds it by the timeout; transient failures retry with backoff;
   * Clerk's 429 is waited out once when its Retry-After is short (see `maxRateLimitWaitMs`).
   */
  private async read<T>(
    path: string,
    query?: Record<string, string | number | undefined | readonly string[]>,
  ): Promise<T> {
    let waitedForRateLimit = false
    for (let attempt = 0; ;) {
      try {
        return await timeClerkCall(`GET ${clerkRoute(path)}`, () => this.reader.get<T>(path, query))
      } catch (caught) {
        const error = mapClerkError(caught, 'read')
        if (error.code === 'RATE_LIMITED') {
          const waitMs = (error.retryAfterSeconds ?? Infinity) * 1000
          if (waitedForRateLimit || waitMs > this.maxRateLimitWaitMs) throw error
          waitedForRateLimit = true
          await sleep(waitMs)
          continue
        }
        const delay = this.retryDelaysMs[attempt++]
        if (delay === undefined || !isTransient(error)) throw error
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
    const query = params.query || undefined
    const key = query ?? ''
    const cached = this.freshCount(key)
    const counting = cached === undefined ? this.fetchCount(key, query) : undefined
    // Only awaited below when needed; never left to reject unhandled.
    counting?.catch(() => undefined)
    const data = await this.read<UserJSON[]>('users', {
      query,
      limit: params.limit,
      offset: params.offset,
      order_by: params.orderBy,
    })
    const users = data.map(toDirectoryUser)
    const end = params.offset + users.length
    if (users.length < params.limit && (users.length > 0 || params.offset === 0)) {
      return { users, total: end }
    }
    if (cached !== undefined && cached >= end) return { users, total: cached }
    const total = await (counting ?? this.fetchCount(key, query))
    return { users, total }
  }

  private freshCount(key: string): number | undefined {
    return this.countCache?.get(key)
  }

  private async fetchCount(key: string, query: string | undefined): Promise<number> {
    const at = this.now()
    const { total_count: total } = await this.read<{ total_count: number }>('users/count', {
      query,
    })
    // Aged from when it was asked for, as before the answer came.
    this.countCache?.set(key, total, { start: at })
    return total
  }

  async getUser(userId: string): Promise<DirectoryUser | null> {
    try {
      return toDirectoryUser(await this.read<UserJSON>(`users/${encodeURIComponent(userId)}`))
    } catch (error) {
      if (error instanceof ActAsError && error.code === 'USER_NOT_FOUND') return null
      throw error
    }
  }

  async getMemberships(
    userId: string,
    options: { fresh?: boolean } = {},
  ): Promise<DirectoryMembership[]> {
    const at = this.now()
    const cached = options.fresh ? undefined : this.membershipCache?.get(userId)
    if (cached) return cached
    const { data } = await this.read<{ data: MembershipJSON[] }>(
      `users/${encodeURIComponent(userId)}/organization_memberships`,
      { limit: 100 },
    )
    const value = data.map(toDirectoryMembership)
    this.membershipCache?.set(userId, value, { start: at })
    return value
  }

  async membershipsIn(
    userId: string,
    organizationIds: readonly string[],
  ): Promise<DirectoryMembership[]> {
    const pages = await Promise.all(
      [...new Set(organizationIds)].map((organizationId) =>
        this.read<{ data: MembershipJSON[] }>(
          `organizations/${encodeURIComponent(organizationId)}/memberships`,
          { user_id: userId, limit: MAX_USER_IDS_PER_READ },
        ),
      ),
    )
    // The filter names one user: at most one membership per organization. Anything else is not
    // this user's (a server that ignored the filter) and is dropped rather than believed.
    return pages.flatMap(({ data }) =>
      data.filter((m) => m.public_user_data?.user_id === userId).map(toDirectoryMembership),
    )
  }

  async membersAmong(
    userIds: readonly string[],
    organizationIds: readonly string[],
  ): Promise<Set<string>> {
    if (userIds.length === 0 || organizationIds.length === 0) return new Set()
    if (userIds.length > MAX_USER_IDS_PER_READ) {
      throw new RangeError(`at most ${MAX_USER_IDS_PER_READ} user ids per read`)
    }
    const users = await this.read<{ id: string }[]>('users', {
      user_id: userIds,
      organization_id: organizationIds,
      limit: MAX_USER_IDS_PER_READ,
    })
    return new Set(users.map((u) => u.id))
  }

  async organizationMemberIds(
    organizationId: string,
    maxMembers: number,
  ): Promise<string[] | null> {
    const path = `organizations/${encodeURIComponent(organizationId)}/memberships`
    const ids = new Set<string>()
    let total: number | null = null
    for (let offset = 0; ; offset += MEMBERSHIP_PAGE_SIZE) {
      const page = await this.read<{ data: MembershipJSON[]; total_count: number }>(path, {
        limit: MEMBERSHIP_PAGE_SIZE,
        offset,
        order_by: '+created_at',
      })
      if (total === null && page.total_count > maxMembers) return null
      // The list changed while it was read (a member joined or left): some may have shifted
      // between pages. Refuse rather than answer part of it; asking again reads it afresh.
      if (total !== null && page.total_count !== total) throw membersChanged()
      total = page.total_count
      for (const m of page.data)
        if (m.public_user_data?.user_id) ids.add(m.public_user_data.user_id)
      if (page.data.length < MEMBERSHIP_PAGE_SIZE || offset + MEMBERSHIP_PAGE_SIZE >= total) break
    }
    if (ids.size !== total) throw membersChanged()
    return [...ids]
  }

  async listOrganizationMemberships(params: {
    limit: number
    offset: number
  }): Promise<{ data: (DirectoryMembership & { userId: string })[]; total: number }> {
    const page = await this.read<{ data: MembershipJSON[]; total_count: number }>(
      'organization_memberships',
      { limit: params.limit, offset: params.offset, order_by: '+created_at' },
    )
    const data = page.data.flatMap((m) =>
      m.public_user_data?.user_id
        ? [{ ...toDirectoryMembership(m), userId: m.public_user_data.user_id }]
        : [],
    )
    return { data, total: page.total_count }
  }

  async getOrganization(idOrSlug: string): Promise<DirectoryOrganization | null> {
    try {
      const org = await this.read<{ id: string; name: string; slug?: string | null }>(
        `organizations/${encodeURIComponent(idOrSlug)}`,
      )
      return { id: org.id, name: org.name, slug: org.slug ?? null }
    } catch (error) {
      // A 404 on a read maps to USER_NOT_FOUND; here it means no such organization.
      if (error instanceof ActAsError && error.code === 'USER_NOT_FOUND') return null
      throw error
    }
  }

  /**
   * One actor token, bounded by the timeout. @clerk/backend's `actorTokens.create` takes no
   * AbortSignal (its request builder passes none to fetch; packages/clerk-local/docs/
   * wire-details.md), so a timed-out call still runs: when Clerk's answer arrives after the
   * deadline, the caller has already answered 503 and recorded the start as `failed`, and the
   * ticket would be usable by nobody yet exist. Such a late token is revoked at once (retried
   * with backoff) and the revocation logged with its id; the start's events stay as they are
   * (`failed` is terminal: nothing follows it in the lifecycle).
   */
  async createActorToken(params: {
    userId: string
    actor: { sub: string; reason: string; impersonation_id: string; mode: ImpersonationMode }
    expiresInSeconds: number
    sessionMaxDurationInSeconds: number
  }): Promise<IssuedActorToken> {
    const call = this.clerk.actorTokens.create({
      userId: params.userId,
      // Clerk copies the whole actor object into the session's `act` claim.
      actor: params.actor,
      expiresInSeconds: params.expiresInSeconds,
      sessionMaxDurationInSeconds: params.sessionMaxDurationInSeconds,
    })
    let token: Awaited<typeof call>
    try {
      token = await timeClerkCall('create-actor-token', () =>
        withTimeout(call, this.options.timeoutMs),
      )
    } catch (error) {
      if (error instanceof ClerkTimeoutError)
        this.revokeWhenIssued(call, params.actor.impersonation_id)
      throw mapClerkError(error, 'create-actor-token')
    }
    if (!token.token) {
      await this.revokeActorToken(token.id).catch(() => undefined)
      throw new ActAsError(
        'SERVICE_UNAVAILABLE',
        'Clerk answered without a ticket; nothing was issued.',
      )
    }
    return { id: token.id, token: token.token }
  }

  /** Revokes the token a timed-out `create` still hands over (see `createActorToken`). */
  private revokeWhenIssued(call: Promise<{ id: string }>, impersonationId: string): void {
    const logger = this.options.logger
    void call.then(
      async (token) => {
        const delays = this.options.lateRevokeDelaysMs ?? [0, 1_000, 5_000]
        let last: unknown
        for (const delay of delays) {
          if (delay > 0) await sleep(delay)
          try {
            await this.revokeActorToken(token.id)
            logger?.warn(
              { impersonationId, clerkActorTokenId: token.id },
              'Clerk issued an actor token after the timeout; revoked it',
            )
            return
          } catch (error) {
            last = error
            // Revoked, used or expired already: nothing is left to revoke.
            if (
              error instanceof ActAsError &&
              (error.code === 'IMPERSONATION_NOT_FOUND' || error.code === 'TICKET_ALREADY_USED')
            )
              return
          }
        }
        logger?.error(
          { err: last, impersonationId, clerkActorTokenId: token.id },
          'could not revoke an actor token Clerk issued after the timeout (it expires unused)',
        )
      },
      // Clerk refused or failed after all: nothing was issued.
      () => undefined,
    )
  }

  async revokeActorToken(actorTokenId: string): Promise<void> {
    await this.once('revoke-actor-token', () => this.clerk.actorTokens.revoke(actorTokenId))
  }

  async listSessions(
    userId: string,
    options: { status?: string } = {},
  ): Promise<DirectorySession[]> {
    const byId = new Map<string, DirectorySession>()
    for (let page = 0; ; page++) {
      if (page === MAX_SESSION_PAGES)
        throw new ActAsError(
          'SERVICE_UNAVAILABLE',
          `This user has more than ${MAX_SESSION_PAGES * SESSION_PAGE_SIZE} sessions in Clerk; ActAs does not decide on part of them.`,
          { retryAfterSeconds: 60 },
        )
      const data = await this.read<SessionJSON[]>('sessions', {
        user_id: userId,
        status: options.status,
        limit: SESSION_PAGE_SIZE,
        offset: page * SESSION_PAGE_SIZE,
      })
      // Newest first: a session created while paging shifts the rest by one (seen twice, kept once).
      for (const s of data) byId.set(s.id, toDirectorySession(s))
      if (data.length < SESSION_PAGE_SIZE) return [...byId.values()]
    }
  }

  async getSession(sessionId: string): Promise<DirectorySession | null> {
    try {
      return toDirectorySession(
        await this.read<SessionJSON>(`sessions/${encodeURIComponent(sessionId)}`),
      )
    } catch (error) {
      if (error instanceof ActAsError && error.code === 'USER_NOT_FOUND') return null
      throw error
    }
  }

  async revokeSession(sessionId: string): Promise<void> {
    try {
      await this.once('revoke-session', () => this.clerk.sessions.revokeSession(sessionId))
    } catch (error) {
      // Unknown to Clerk: there is nothing left to revoke.
      if (error instanceof ActAsError && error.code === 'USER_NOT_FOUND') return
      throw error
    }
  }

  async createSignInToken(
    userId: string,
    expiresInSeconds: number,
  ): Promise<{ id: string; token: string }> {
    const token = await this.once('create-sign-in-token', () =>
      this.clerk.signInTokens.createSignInToken({ userId, expiresInSeconds }),
    )
    return { id: token.id, token: token.token }
  }

  async ping(): Promise<void> {
    await this.read('users/count')
  }

  close(): void {
    this.reader.close()
  }
}

function membersChanged(): ActAsError {
  return new ActAsError(
    'SERVICE_UNAVAILABLE',
    "The organization's members changed while ActAs read them from Clerk; try again.",
    { retryAfterSeconds: 1 },
  )
}
