import {
  clerkError,
  json,
  Router,
  type Handler,
  type LocalRequest,
  type LocalResponse,
} from '../http.js'
import type { FaultController } from '../faults.js'
import type { RequestCounter } from '../requests.js'
import type { SigningKey } from '../jwt.js'
import type { Actor } from '../model.js'
import type { ClerkState } from '../state.js'
import type { WebhookSender } from '../webhooks.js'
import { controlRoutes } from './control.js'
import { instanceRoutes } from './instance.js'
import { m2mRoutes, type M2mContext } from './m2m.js'
import { membershipWriteRoutes, organizationRoutes } from './organizations.js'
import { userWriteRoutes } from './users-write.js'
import { sessionRoutes } from './sessions.js'
import { signInTokenRoutes } from './sign-in-tokens.js'
import { BapiError, invalidParam, missingParam, notFound, unknownParam } from './errors.js'
import { actorTokenJson, organizationMembershipJson, userJson } from './serialize.js'
import { applyCursor, parseOrderBy, parsePaging, parseUserFilters } from './user-query.js'

export interface BapiContext {
  state: ClerkState
  signingKey: SigningKey
  faults: FaultController
  /** Counts Backend API requests (the control API reads and resets it). */
  requests: RequestCounter
  /** FAPI base URL (for actor token URLs); a function because the port is known after listen. */
  frontendApiUrl: () => string
  /** Machines and M2M tokens (bapi/m2m.ts). */
  m2m?: M2mContext
  /** Webhook endpoints and delivery faults (the control API drives them). */
  webhooks?: WebhookSender
  /** Origins allowed to call FAPI cross-origin (`PATCH /v1/instance` replaces them). */
  allowedOrigins?: Set<string>
}

/** Turns thrown `BapiError`s into their responses. */
function handle(fn: Handler): Handler {
  return async (req) => {
    try {
      return await fn(req)
    } catch (error) {
      if (error instanceof BapiError) return error.response
      throw error
    }
  }
}

const ACTOR_TOKEN_BODY_KEYS = new Set([
  'user_id',
  'actor',
  'expires_in_seconds',
  'session_max_duration_in_seconds',
])
const MAX_TOKEN_SECONDS = 30 * 86_400

function positiveIntegerBody(
  body: Record<string, unknown>,
  name: string,
  fallback: number,
): number {
  const value = body[name]
  if (value === undefined || value === null) return fallback
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_TOKEN_SECONDS
  ) {
    throw invalidParam(name, `${name} must be an integer from 1 to ${MAX_TOKEN_SECONDS}.`)
  }
  return value
}

function startOfMonthUtc(at: number): number {
  const d = new Date(at)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

/** The Backend API routes (`/v1/...`), plus the local control API (`/__local/...`). */
export function createBapiRouter(ctx: BapiContext): Router {
  const { state } = ctx
  const router = new Router()

  router.add(
    'GET',
    '/v1/users',
    handle((req) => {
      const orderBy = parseOrderBy(req.query)
      const { limit, offset } = parsePaging(req.query)
      const selection = parseUserFilters(state, req.query)
      applyCursor(state, req.query, selection, orderBy, offset)
      const { page } = state.userIndex.search(selection, orderBy, offset, limit)
      return json(page.map((u) => userJson(state, u)))
    }),
  )

  router.add(
    'GET',
    '/v1/users/count',
    handle((req) => {
      const selection = parseUserFilters(state, req.query)
      return json({ object: 'total_count', total_count: state.userIndex.count(selection) })
    }),
  )

  router.add(
    'GET',
    '/v1/users/:user_id',
    handle((req) => {
      const user = state.users.get(req.params.user_id ?? '')
      if (!user) throw notFound('User not found')
      return json(userJson(state, user))
    }),
  )

  router.add(
    'GET',
    '/v1/users/:user_id/organization_memberships',
    handle((req) => {
      const { limit, offset } = parsePaging(req.query)
      const memberships = state
        .membershipsOfUser(req.params.user_id ?? '')
        .filter((m) => state.organizations.has(m.organizationId))
        .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
      const data = memberships
        .slice(offset, offset + limit)
        .map((m) =>
          organizationMembershipJson(state, m, state.organizations.get(m.organizationId)!),
        )
      return json({ data, total_count: memberships.length })
    }),
  )

  router.add(
    'POST',
    '/v1/actor_tokens',
    handle((req) => createActorToken(ctx, req)),
  )

  router.add(
    'POST',
    '/v1/actor_tokens/:actor_token_id/revoke',
    handle((req) => {
      const token = state.actorTokens.get(req.params.actor_token_id ?? '')
      if (!token) throw notFound('Actor token not found')
      if (token.status !== 'pending') {
        return clerkError(
          400,
          'actor_token_cannot_be_revoked',
          'cannot be revoked',
          `Only pending actor tokens can be revoked; this one is ${token.status}.`,
        )
      }
      const now = state.now()
      token.status = 'revoked'
      token.updatedAt = now
      return json(actorTokenJson(token))
    }),
  )

  router.add('GET', '/v1/jwks', () => json({ keys: [ctx.signingKey.jwk] }))
  if (ctx.allowedOrigins) instanceRoutes(router, ctx.allowedOrigins, handle)

  organizationRoutes(router, state, handle)
  membershipWriteRoutes(router, state, handle)
  userWriteRoutes(router, state, handle, () => new URL(ctx.frontendApiUrl()).origin)
  sessionRoutes(router, state, handle)
  signInTokenRoutes(router, ctx, handle)

  if (ctx.m2m) m2mRoutes(router, ctx.m2m)
  controlRoutes(router, ctx)
  return router
}

function createActorToken(ctx: BapiContext, req: LocalRequest): LocalResponse {
  const { state, faults } = ctx
  const body = req.body
  for (const key of Object.keys(body)) if (!ACTOR_TOKEN_BODY_KEYS.has(key)) throw unknownParam(key)

  const userId = body.user_id
  if (userId === undefined || userId === null || userId === '') throw missingParam('user_id')
  if (typeof userId !== 'string') throw invalidParam('user_id', 'user_id must be a string.')
  const actor = body.actor
  if (actor === undefined || actor === null) throw missingParam('actor')
  if (typeof actor !== 'object' || Array.isArray(actor))
    throw invalidParam('actor', 'actor must be an object.')
  const sub = (actor as Record<string, unknown>).sub
  if (sub === undefined || sub === null || sub === '') throw missingParam('actor.sub')
  if (typeof sub !== 'string') throw invalidParam('actor.sub', 'actor.sub must be a string.')
  const expiresIn = positiveIntegerBody(body, 'expires_in_seconds', 3600)
  const sessionMax = positiveIntegerBody(body, 'session_max_duration_in_seconds', 1800)

  if (!state.users.has(userId))
    throw invalidParam('user_id', `No user was found with id ${userId}.`)

  const quota = faults.quota
  if (quota.enabled) {
    const monthStart = startOfMonthUtc(state.now())
    let used = 0
    for (const t of state.actorTokens.values()) if (t.createdAt >= monthStart) used++
    if (used >= quota.limit) {
      return clerkError(
        402,
        'quota_exceeded',
        'Quota exceeded',
        `The free plan allows ${quota.limit} actor tokens per calendar month, and this month's are used up. Upgrade your plan to create more.`,
        { limit: quota.limit, used },
      )
    }
  }

  const token = state.newActorToken(userId, { ...(actor as Actor), sub }, expiresIn, sessionMax)
  return json(actorTokenJson(token, { frontendApiUrl: ctx.frontendApiUrl() }))
}
