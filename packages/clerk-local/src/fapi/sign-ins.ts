import type { LocalRequest, LocalResponse, Router } from '../http.js'
import type { ActorToken, SignInToken } from '../model.js'
import { verifyPassword } from '../state.js'
import { isResponse, str, type ClientScope, type FapiScope } from './context.js'
import { fapiErrors } from './errors.js'
import { signInJson } from './serialize.js'
import type { SignInAttempt } from './store.js'

/** Sign-ins: password (one step or two) and tickets (actor tokens, sign-in tokens). */
export function signInRoutes(router: Router, h: FapiScope): void {
  const { ctx, state, store, withScope, wrapped, ensureClient, refuseUser, completeSignIn } = h

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
}
