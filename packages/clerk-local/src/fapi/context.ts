import type { LocalRequest, LocalResponse } from '../http.js'
import type { SigningKey } from '../jwt.js'
import type { Client, Session } from '../model.js'
import { mintSessionToken } from '../session-token.js'
import type { ClerkState } from '../state.js'
import { fapiErrors } from './errors.js'
import { clientJson, type SerializeOptions } from './serialize.js'
import type { FapiStore, SignInAttempt } from './store.js'

// What every FAPI resource module shares: which client a request speaks for (dev browser or
// cookie), the response envelope, and the checks several resources apply (active session, org).

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

export interface ClientScope {
  client: Client | undefined
  devBrowserId: string | undefined
  /** Set when a client was created for a cookie-identified browser: the response must set the cookie. */
  setCookie?: string
}

/** A form or JSON body field as a string (numbers and booleans as sent in a form). */
export const str = (body: Record<string, unknown>, key: string): string | undefined => {
  const value = body[key]
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

export function isResponse(value: unknown): value is LocalResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { status?: unknown }).status === 'number'
  )
}

/** The helpers the resource modules (`client.ts`, `sign-ins.ts`, `sessions.ts`, …) share. */
export type FapiScope = ReturnType<typeof createFapiScope>

export function createFapiScope(ctx: FapiContext, store: FapiStore) {
  const { state } = ctx

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

  /** Clerk's envelope: `{ response, client }`, the client as it is after the request. */
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
    const session = clientSessionOf(s, sid)
    if (!session) return fapiErrors.notFound('Session')
    if (!store.isActive(session)) return fapiErrors.signedOut()
    const user = state.users.get(session.userId)
    if (!user) return fapiErrors.signedOut()
    if (user.banned) return fapiErrors.userBanned()
    return session
  }

  /** The client's session `sid` whatever its status, or undefined. */
  function clientSessionOf(s: ClientScope, sid: string | undefined): Session | undefined {
    const session = sid ? state.sessions.get(sid) : undefined
    if (!s.client || !session || session.clientId !== s.client.id) return undefined
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

  return {
    ctx,
    state,
    store,
    azpFor,
    serializeOptions,
    ensureClient,
    respond,
    wrapped,
    withScope,
    activeSessionOf,
    clientSessionOf,
    organizationFor,
    completeSignIn,
    refuseUser,
  }
}
