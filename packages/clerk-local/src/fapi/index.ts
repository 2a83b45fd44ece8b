import type { LocalRequest, LocalResponse } from '../http.js'
import { Router, json } from '../http.js'
import type { SigningKey } from '../jwt.js'
import type { ActorToken, Client, Session, SignInToken } from '../model.js'
import { mintSessionToken } from '../session-token.js'
import { verifyPassword, type ClerkState } from '../state.js'
import { fapiErrors } from './errors.js'
import {
  clientJson,
  environmentJson,
  sessionJson,
  signInJson,
  type SerializeOptions,
} from './serialize.js'
import { FapiStore, type SignInAttempt } from './store.js'

export { FapiStore } from './store.js'

export interface FapiContext {
  state: ClerkState
  signingKey: SigningKey
  /** `iss` of session JWTs: `https://<frontend API host from the publishable key>`. */
  issuer: string
  /** `display_config.application_name`. */
  applicationName?: string
  /**
   * Where `GET /v1/tickets/accept` sends the browser when the link has no `redirect_url`
   * (default: the relative `/sign-in`, i.e. the app's own page when FAPI sits behind its `/__clerk` proxy).
   */
  signInUrl?: string
}

/** The cookie that identifies the client when the browser does not use dev-browser mode. */
export const CLIENT_COOKIE = '__client'
/** The dev-browser id query parameter clerk-js appends to every FAPI call in dev-browser mode. */
export const DEV_BROWSER_PARAM = '__clerk_db_jwt'

interface ClientScope {
  client: Client | undefined
  devBrowserId: string | undefined
  /** Set when a client was created for a cookie-identified browser: the response must set the cookie. */
  setCookie?: string
}

const str = (body: Record<string, unknown>, key: string): string | undefined => {
  const value = body[key]
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

/**
 * The Frontend API routes, relative to the FAPI mount point (e.g. `/v1/client`), as
 * @clerk/clerk-js 6.40 calls them. See docs/fapi.md.
 */
export function createFapiRouter(ctx: FapiContext): Router {
  const { state } = ctx
  const store = new FapiStore(state)
  const router = new Router()

  /**
   * The browser origin for `azp`: the `Origin` header, else the origin of `Referer` (browsers send
   * no `Origin` on same-origin GETs, e.g. clerk-js's `GET /v1/client` on page load through a
   * `/__clerk` proxy), else the last origin this client was seen with. Without it, the token
   * restored after a reload would lack `azp` and fail `authorizedParties`.
   */
  function azpFor(req: LocalRequest, s: ClientScope): string | undefined {
    let found: string | undefined
    const originHeader = req.headers.origin
    if (typeof originHeader === 'string' && /^https?:\/\//.test(originHeader)) found = originHeader
    else if (typeof req.headers.referer === 'string') {
      try {
        const url = new URL(req.headers.referer)
        if (url.protocol === 'http:' || url.protocol === 'https:') found = url.origin
      } catch {
        // not a URL: ignore
      }
    }
    if (!s.client) return found
    if (found) store.clientOrigins.set(s.client.id, found)
    return found ?? store.clientOrigins.get(s.client.id)
  }
  const serializeOptions = (req: LocalRequest, s: ClientScope): SerializeOptions => ({
    token: (session) => mintSessionToken(ctx, session, azpFor(req, s)),
  })

  /** Which client this request speaks for: the dev browser's (query) or the `__client` cookie's. */
  function scope(req: LocalRequest): ClientScope | LocalResponse {
    const devBrowserId = req.query.get(DEV_BROWSER_PARAM) ?? undefined
    if (devBrowserId !== undefined) {
      if (!store.devBrowsers.has(devBrowserId)) return fapiErrors.devBrowserUnauthenticated()
      const clientId = store.devBrowsers.get(devBrowserId)
      return { client: clientId ? state.clients.get(clientId) : undefined, devBrowserId }
    }
    const cookie = req.cookies[CLIENT_COOKIE]
    return { client: cookie ? state.clients.get(cookie) : undefined, devBrowserId: undefined }
  }

  function ensureClient(s: ClientScope): Client {
    if (s.client) return s.client
    const client = store.newClient()
    if (s.devBrowserId !== undefined) store.devBrowsers.set(s.devBrowserId, client.id)
    else s.setCookie = `${CLIENT_COOKIE}=${client.id}; Path=/; HttpOnly; SameSite=Lax`
    s.client = client
    return client
  }

  function respond(s: ClientScope, body: unknown, status = 200): LocalResponse {
    return { status, body, ...(s.setCookie ? { headers: { 'Set-Cookie': [s.setCookie] } } : {}) }
  }

  const wrapped = (req: LocalRequest, s: ClientScope, response: unknown): LocalResponse =>
    respond(s, {
      response,
      client: s.client ? clientJson(store, s.client, serializeOptions(req, s)) : null,
    })

  function withScope(
    handler: (req: LocalRequest, s: ClientScope) => LocalResponse,
  ): (req: LocalRequest) => LocalResponse {
    return (req) => {
      const s = scope(req)
      return isResponse(s) ? s : handler(req, s)
    }
  }

  /**
   * The client's session `sid`, or an error: 404 when unknown, 401 `signed_out` when no longer
   * active, 403 `user_banned` when its user was banned.
   */
  function activeSessionOf(s: ClientScope, sid: string | undefined): Session | LocalResponse {
    const session = sid ? state.sessions.get(sid) : undefined
    if (!s.client || !session || session.clientId !== s.client.id)
      return fapiErrors.notFound('Session')
    if (!store.isActive(session)) return fapiErrors.signedOut()
    const user = state.users.get(session.userId)
    if (!user) return fapiErrors.signedOut()
    if (user.banned) return fapiErrors.userBanned()
    return session
  }

  /** `''`/absent → personal account (null); otherwise an organization id or slug the user belongs to. */
  function organizationFor(userId: string, value: string): string | null | LocalResponse {
    if (value === '') return null
    let org = state.organizations.get(value)
    if (!org) for (const o of state.organizations.values()) if (o.slug === value) org = o
    if (!org) return fapiErrors.notFound('Organization')
    if (!state.membershipsOfUser(userId).some((m) => m.organizationId === org.id))
      return fapiErrors.notAMember()
    return org.id
  }

  function completeSignIn(signIn: SignInAttempt, session: Session): void {
    signIn.status = 'complete'
    signIn.createdSessionId = session.id
    if (signIn.firstFactor) signIn.firstFactor.status = 'verified'
  }

  /** Checks every sign-in strategy applies to the user before a session is created. */
  function refuseUser(userId: string): LocalResponse | undefined {
    const user = state.users.get(userId)
    if (!user) return fapiErrors.identifierNotFound()
    if (user.banned) return fapiErrors.userBanned()
    if (user.locked) return fapiErrors.userLocked()
    return undefined
  }

  // --- dev browser and environment -------------------------------------------------------------

  router.add('POST', '/v1/dev_browser', () =>
    json({ object: 'dev_browser', id: store.newDevBrowser() }),
  )

  const environment = () =>
    json(environmentJson({ applicationName: ctx.applicationName ?? 'ActAs (local)' }))
  router.add('GET', '/v1/environment', environment)
  // clerk-js "touches" the environment in development (`POST ?_method=PATCH`).
  router.add('PATCH', '/v1/environment', environment)

  // --- client --------------------------------------------------------------------------------

  router.add(
    'GET',
    '/v1/client',
    withScope((req, s) =>
      respond(s, {
        response: s.client ? clientJson(store, s.client, serializeOptions(req, s)) : null,
        client: null,
      }),
    ),
  )

  const createClient = withScope((req, s) => {
    if (s.client)
      for (const session of store.activeSessionsOf(s.client)) store.endSession(session, 'ended')
    s.client = undefined
    const client = ensureClient(s)
    const body = clientJson(store, client, serializeOptions(req, s))
    return respond(s, { response: body, client: body })
  })
  router.add('PUT', '/v1/client', createClient)
  router.add('POST', '/v1/client', createClient)

  router.add(
    'DELETE',
    '/v1/client',
    withScope((req, s) => {
      if (!s.client) return fapiErrors.clientNotFound()
      const client = s.client
      for (const session of store.activeSessionsOf(client)) store.endSession(session, 'ended')
      client.signInId = null
      client.updatedAt = state.now()
      const body = clientJson(store, client, serializeOptions(req, s))
      // The browser forgets the client: the next sign-in starts a new one.
      if (s.devBrowserId !== undefined) store.devBrowsers.set(s.devBrowserId, null)
      else s.setCookie = `${CLIENT_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`
      return respond(s, { response: body, client: null })
    }),
  )

  // --- sign-in ---------------------------------------------------------------------------------

  router.add(
    'POST',
    '/v1/client/sign_ins',
    withScope((req, s) => {
      const strategy = str(req.body, 'strategy')
      const ticket = str(req.body, 'ticket')
      const identifier = str(req.body, 'identifier')
      const password = str(req.body, 'password')

      if (strategy === 'ticket' || (strategy === undefined && ticket !== undefined)) {
        if (!ticket) return fapiErrors.paramMissing('ticket')
        return signInWithTicket(req, s, ticket)
      }
      if (strategy !== undefined && strategy !== 'password')
        return fapiErrors.strategyNotAllowed(strategy)

      // Single-session mode: a second sign-in on a signed-in client is refused, as Clerk does.
      if (s.client && store.activeSessionsOf(s.client).length > 0) return fapiErrors.sessionExists()
      if (strategy === 'password' && !identifier) return fapiErrors.paramMissing('identifier')
      if (strategy === 'password' && !password) return fapiErrors.paramMissing('password')

      let userId: string | null = null
      if (identifier) {
        const user = store.findUserByIdentifier(identifier)
        if (!user) return fapiErrors.identifierNotFound()
        const refused = refuseUser(user.id)
        if (refused) return refused
        userId = user.id
      }
      const client = ensureClient(s)
      const signIn = store.newSignIn(client)
      signIn.identifier = identifier ?? null
      signIn.userId = userId
      if (!userId) return wrapped(req, s, signInJson(store, signIn))
      signIn.status = 'needs_first_factor'
      if (password === undefined) return wrapped(req, s, signInJson(store, signIn))
      return attemptPassword(req, s, signIn, password)
    }),
  )

  function attemptPassword(
    req: LocalRequest,
    s: ClientScope,
    signIn: SignInAttempt,
    password: string,
  ): LocalResponse {
    const user = signIn.userId ? state.users.get(signIn.userId) : undefined
    if (!user) return fapiErrors.signInNotInProgress()
    const refused = refuseUser(user.id)
    if (refused) return refused
    signIn.firstFactor ??= { strategy: 'password', status: 'unverified', attempts: 0 }
    signIn.firstFactor.attempts++
    if (!verifyPassword(user.passwordDigest, password)) return fapiErrors.passwordIncorrect()
    const client = ensureClient(s)
    if (store.activeSessionsOf(client).length > 0) return fapiErrors.sessionExists()
    completeSignIn(signIn, store.createSession(client, user))
    return wrapped(req, s, signInJson(store, signIn))
  }

  /**
   * The token behind a ticket: an actor token (impersonation) or a sign-in token, still usable;
   * otherwise the error Clerk answers (unknown, revoked, already used, expired).
   */
  function usableTicket(
    ticket: string,
  ):
    { kind: 'actor'; token: ActorToken } | { kind: 'sign_in'; token: SignInToken } | LocalResponse {
    const actorToken = state.actorTokenByTicket(ticket)
    if (actorToken) {
      if (actorToken.status === 'revoked') return fapiErrors.actorTokenRevoked()
      if (actorToken.status === 'accepted') return fapiErrors.actorTokenAlreadyUsed()
      if (state.now() >= actorToken.expiresAt) return fapiErrors.ticketExpired()
      return { kind: 'actor', token: actorToken }
    }
    const signInToken = state.signInTokenByTicket(ticket)
    if (!signInToken || signInToken.status !== 'pending') return fapiErrors.ticketInvalid()
    if (state.now() >= signInToken.expiresAt) return fapiErrors.ticketExpired()
    return { kind: 'sign_in', token: signInToken }
  }

  function signInWithTicket(req: LocalRequest, s: ClientScope, ticket: string): LocalResponse {
    const usable = usableTicket(ticket)
    if (isResponse(usable)) return usable
    const user = state.users.get(usable.token.userId)
    if (!user)
      return usable.kind === 'actor'
        ? fapiErrors.actorTokenSubjectNotFound()
        : fapiErrors.identifierNotFound()
    const refused = refuseUser(user.id)
    if (refused) return refused

    const now = state.now()
    usable.token.status = 'accepted'
    usable.token.updatedAt = now
    const client = ensureClient(s)
    // A ticket sign-in replaces whatever this client was signed in as (single-session mode).
    for (const other of store.activeSessionsOf(client)) store.endSession(other, 'ended')
    const signIn = store.newSignIn(client)
    signIn.userId = user.id
    signIn.firstFactor = { strategy: 'ticket', status: 'verified', attempts: 1 }
    const session =
      usable.kind === 'actor'
        ? state.createSession(client, user, usable.token)
        : state.createSession(client, user, undefined, usable.token.organizationId ?? undefined)
    completeSignIn(signIn, session)
    return wrapped(req, s, signInJson(store, signIn))
  }

  // The `url` of a BAPI actor token points here. Like Clerk, it forwards the browser to the sign-in
  // page with `__clerk_ticket` (and `__clerk_status=sign_in`); the page then calls
  // `signIn.create({ strategy: 'ticket', ticket })`. The ticket is checked, not consumed.
  router.add('GET', '/v1/tickets/accept', (req) => {
    const ticket = req.query.get('ticket')
    if (!ticket) return fapiErrors.paramMissing('ticket')
    const usable = usableTicket(ticket)
    if (isResponse(usable)) return usable
    const requested = req.query.get('redirect_url')
    if (requested !== null && !/^https?:\/\//.test(requested))
      return fapiErrors.paramInvalid(
        'redirect_url',
        'redirect_url must be an absolute http(s) URL.',
      )
    const target = requested ?? ctx.signInUrl ?? '/sign-in'
    const [base = '', hash] = target.split('#', 2)
    const sep = base.includes('?') ? '&' : '?'
    const location = `${base}${sep}__clerk_ticket=${encodeURIComponent(ticket)}&__clerk_status=sign_in${hash === undefined ? '' : `#${hash}`}`
    return { status: 303, headers: { Location: location } }
  })

  function clientSignIn(s: ClientScope, id: string | undefined): SignInAttempt | undefined {
    const signIn = id ? store.signIns.get(id) : undefined
    if (!signIn || !s.client || signIn.clientId !== s.client.id) return undefined
    if (signIn.status !== 'complete' && state.now() >= signIn.abandonAt) signIn.status = 'abandoned'
    return signIn.status === 'abandoned' ? undefined : signIn
  }

  router.add(
    'GET',
    '/v1/client/sign_ins/:id',
    withScope((req, s) => {
      const signIn = clientSignIn(s, req.params.id)
      return signIn ? wrapped(req, s, signInJson(store, signIn)) : fapiErrors.notFound('Sign in')
    }),
  )

  router.add(
    'POST',
    '/v1/client/sign_ins/:id/attempt_first_factor',
    withScope((req, s) => {
      const signIn = clientSignIn(s, req.params.id)
      if (!signIn) return fapiErrors.notFound('Sign in')
      const strategy = str(req.body, 'strategy')
      if (!strategy) return fapiErrors.paramMissing('strategy')
      if (strategy !== 'password') return fapiErrors.strategyNotAllowed(strategy)
      if (signIn.status !== 'needs_first_factor') return fapiErrors.signInNotInProgress()
      const password = str(req.body, 'password')
      if (!password) return fapiErrors.paramMissing('password')
      return attemptPassword(req, s, signIn, password)
    }),
  )

  // --- sessions --------------------------------------------------------------------------------

  router.add(
    'DELETE',
    '/v1/client/sessions',
    withScope((req, s) => {
      if (!s.client) return fapiErrors.clientNotFound()
      for (const session of store.activeSessionsOf(s.client)) store.endSession(session, 'ended')
      const body = clientJson(store, s.client, serializeOptions(req, s))
      return respond(s, { response: body, client: body })
    }),
  )

  router.add(
    'GET',
    '/v1/client/sessions/:sid',
    withScope((req, s) => {
      const session = req.params.sid ? state.sessions.get(req.params.sid) : undefined
      if (!s.client || !session || session.clientId !== s.client.id)
        return fapiErrors.notFound('Session')
      return wrapped(req, s, sessionJson(store, session, serializeOptions(req, s)))
    }),
  )

  router.add(
    'POST',
    '/v1/client/sessions/:sid/touch',
    withScope((req, s) => {
      const session = activeSessionOf(s, req.params.sid)
      if (isResponse(session)) return session
      const requested = str(req.body, 'active_organization_id')
      if (requested !== undefined) {
        const org = organizationFor(session.userId, requested)
        if (isResponse(org)) return org
        session.lastActiveOrganizationId = org
      }
      store.recordActivity(session)
      const client = state.clients.get(session.clientId)
      if (client) {
        client.lastActiveSessionId = session.id
        client.updatedAt = state.now()
      }
      return wrapped(req, s, sessionJson(store, session, serializeOptions(req, s)))
    }),
  )

  router.add(
    'POST',
    '/v1/client/sessions/:sid/tokens',
    withScope((req, s) => {
      const session = activeSessionOf(s, req.params.sid)
      if (isResponse(session)) return session
      // clerk-js always sends `organization_id` (its session's active org, '' for personal);
      // absent means the session's active organization. The session itself is not changed.
      let organizationId = session.lastActiveOrganizationId
      const requested = str(req.body, 'organization_id')
      if (requested !== undefined) {
        const org = organizationFor(session.userId, requested)
        if (isResponse(org)) return org
        organizationId = org
      }
      store.recordActivity(session)
      // No envelope: `{"object":"token","jwt":"..."}`.
      return respond(s, {
        object: 'token',
        jwt: mintSessionToken(ctx, session, azpFor(req, s), organizationId),
      })
    }),
  )

  for (const action of ['end', 'remove'] as const) {
    router.add(
      'POST',
      `/v1/client/sessions/:sid/${action}`,
      withScope((req, s) => {
        const session = req.params.sid ? state.sessions.get(req.params.sid) : undefined
        if (!s.client || !session || session.clientId !== s.client.id)
          return fapiErrors.notFound('Session')
        store.endSession(session, action === 'end' ? 'ended' : 'removed')
        return wrapped(req, s, sessionJson(store, session, serializeOptions(req, s)))
      }),
    )
  }

  return router
}

function isResponse(value: unknown): value is LocalResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { status?: unknown }).status === 'number'
  )
}
