import type { Router } from '../http.js'
import { mintSessionToken } from '../session-token.js'
import { isResponse, str, type FapiScope } from './context.js'
import { fapiErrors } from './errors.js'
import { clientJson, sessionJson } from './serialize.js'

/** The client's sessions: sign out all, read one, touch, mint tokens, end or remove one. */
export function sessionRoutes(router: Router, h: FapiScope): void {
  const { ctx, state, store, withScope, wrapped, respond, serializeOptions, azpFor } = h
  const { activeSessionOf, clientSessionOf, organizationFor } = h

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
      const session = clientSessionOf(s, req.params.sid)
      if (!session) return fapiErrors.notFound('Session')
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
        const session = clientSessionOf(s, req.params.sid)
        if (!session) return fapiErrors.notFound('Session')
        store.endSession(session, action === 'end' ? 'ended' : 'removed')
        return wrapped(req, s, sessionJson(store, session, serializeOptions(req, s)))
      }),
    )
  }
}
