import { clerkError, json, type Handler, type Router } from '../http.js'
import { signJwt, type SigningKey } from '../jwt.js'
import type { SignInToken } from '../model.js'
import { newId, type ClerkState } from '../state.js'
import { BapiError, invalidParam, missingParam, notFound, unknownParam } from './errors.js'

// Sign-in tokens (`POST /v1/sign_in_tokens`, `POST /v1/sign_in_tokens/{id}/revoke`): single-use
// tickets that sign their user in through FAPI's ticket strategy, as an ordinary session (no
// actor). The ticket is a JWT signed with the instance key, as Clerk's sign-in tokens are.

const BODY_KEYS = new Set(['user_id', 'org_id', 'expires_in_seconds'])
/** Clerk's default lifetime: 30 days. */
export const SIGN_IN_TOKEN_DEFAULT_SECONDS = 30 * 86_400
const MAX_SECONDS = 10 * 365 * 86_400

/**
 * BAPI `SignInToken`. The ticket (`token`) and its `url` (`<fapi>/v1/tickets/accept?ticket=`)
 * are shown when the token is created, not afterwards (as Clerk's revoke answer shows).
 */
export function signInTokenJson(token: SignInToken, reveal?: { frontendApiUrl: string }) {
  return {
    object: 'sign_in_token' as const,
    id: token.id,
    status: token.status,
    user_id: token.userId,
    ...(reveal
      ? {
          token: token.token,
          url: `${reveal.frontendApiUrl}/v1/tickets/accept?ticket=${encodeURIComponent(token.token)}`,
        }
      : {}),
    created_at: token.createdAt,
    updated_at: token.updatedAt,
  }
}

export function signInTokenRoutes(
  router: Router,
  ctx: { state: ClerkState; signingKey: SigningKey; frontendApiUrl: () => string },
  handle: (fn: Handler) => Handler,
): void {
  const { state } = ctx

  router.add(
    'POST',
    '/v1/sign_in_tokens',
    handle((req) => {
      const body = req.body
      for (const key of Object.keys(body)) if (!BODY_KEYS.has(key)) throw unknownParam(key)
      const userId = body.user_id
      if (userId === undefined || userId === null || userId === '') throw missingParam('user_id')
      if (typeof userId !== 'string') throw invalidParam('user_id', 'user_id must be a string.')
      const expires = body.expires_in_seconds ?? SIGN_IN_TOKEN_DEFAULT_SECONDS
      if (
        typeof expires !== 'number' ||
        !Number.isInteger(expires) ||
        expires < 1 ||
        expires > MAX_SECONDS
      )
        throw invalidParam(
          'expires_in_seconds',
          `expires_in_seconds must be an integer from 1 to ${MAX_SECONDS}.`,
        )
      const orgId = body.org_id ?? null
      if (orgId !== null && typeof orgId !== 'string')
        throw invalidParam('org_id', 'org_id must be a string.')
      const user = state.users.get(userId)
      if (!user) throw notFound(`No user was found with id ${userId}.`)
      if (orgId !== null && orgId !== '') {
        if (!state.organizations.has(orgId))
          throw notFound(`No organization was found with id ${orgId}.`)
        if (!state.membershipsOfUser(userId).some((m) => m.organizationId === orgId))
          throw new BapiError(
            clerkError(
              422,
              'form_param_value_invalid',
              'is invalid',
              'The user is not a member of the organization given as org_id.',
              { param_name: 'org_id' },
            ),
          )
      }
      const now = state.now()
      const id = newId('sit')
      const token: SignInToken = {
        id,
        userId,
        organizationId: orgId || null,
        status: 'pending',
        token: signJwt(ctx.signingKey, {
          iat: Math.floor(now / 1000),
          exp: Math.floor(now / 1000) + expires,
          sid: id,
          sub: userId,
        }),
        expiresAt: now + expires * 1000,
        createdAt: now,
        updatedAt: now,
      }
      state.signInTokens.set(id, token)
      return json(signInTokenJson(token, { frontendApiUrl: ctx.frontendApiUrl() }))
    }),
  )

  router.add(
    'POST',
    '/v1/sign_in_tokens/:sign_in_token_id/revoke',
    handle((req) => {
      const token = state.signInTokens.get(req.params.sign_in_token_id ?? '')
      if (!token) throw notFound('Sign in token not found')
      if (token.status !== 'pending')
        return clerkError(
          400,
          'sign_in_token_cannot_be_revoked',
          'cannot revoke',
          `Sign in token cannot be revoked because its status is ${token.status}. Only pending tokens can be revoked.`,
        )
      token.status = 'revoked'
      token.updatedAt = state.now()
      return json(signInTokenJson(token))
    }),
  )
}
