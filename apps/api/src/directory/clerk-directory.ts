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
}

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

  constructor(private readonly options: ClerkDirectoryOptions) {
    this.clerk = createClerkClient({
      secretKey: options.secretKey,
      publishableKey: options.publishableKey,
      apiUrl: options.apiUrl,
      telemetry: { disabled: true },
    })
    this.membershipCacheMs = options.membershipCacheMs ?? 30_000
    this.retryDelaysMs = options.retryDelaysMs ?? [100, 400]
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

  async searchUsers(params: {
    query?: string | undefined
    limit: number
    offset: number
    orderBy: string
  }): Promise<UserPage> {
    const { data, totalCount } = await this.read(() =>
      this.clerk.users.getUserList({
        ...(params.query ? { query: params.query } : {}),
        limit: params.limit,
        offset: params.offset,
        orderBy: params.orderBy as never,
      }),
    )
    return { users: data.map(toDirectoryUser), total: totalCount }
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
    const now = Date.now()
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
