import { clerkError, json, type Handler, type Router } from '../http.js'
import type { Session } from '../model.js'
import type { ClerkState } from '../state.js'
import { BapiError, invalidParam, notFound } from './errors.js'
import { onlyParams } from './organizations.js'
import { sessionJson } from './serialize.js'
import { parsePaging } from './user-query.js'

// The Backend API's sessions: list (by user or client), get, revoke. Statuses are evaluated when
// read (expiry and idleness follow the server's clock), so a list always shows the status now.

const LIST_PARAMS = new Set(['client_id', 'user_id', 'status', 'paginated', 'limit', 'offset'])
const STATUSES = ['abandoned', 'active', 'ended', 'expired', 'removed', 'replaced', 'revoked']

export function sessionOr404(state: ClerkState, id: string): Session {
  const session = state.sessions.get(id)
  if (!session) throw notFound('Session not found')
  return session
}

export function sessionRoutes(
  router: Router,
  state: ClerkState,
  handle: (fn: Handler) => Handler,
): void {
  router.add(
    'GET',
    '/v1/sessions',
    handle((req) => {
      const q = req.query
      onlyParams(q, LIST_PARAMS)
      const userId = q.get('user_id') || undefined
      const clientId = q.get('client_id') || undefined
      if (!userId && !clientId)
        throw new BapiError(
          clerkError(
            422,
            'form_param_missing',
            'missing required parameter',
            'Either user_id or client_id must be included.',
            { param_name: 'user_id' },
          ),
        )
      const status = q.get('status')
      if (status !== null && !STATUSES.includes(status))
        throw invalidParam('status', `status must be one of ${STATUSES.join(', ')}.`)
      const paginated = q.get('paginated')
      if (paginated !== null && paginated !== 'true' && paginated !== 'false')
        throw invalidParam('paginated', 'paginated must be true or false.')
      const { limit, offset } = parsePaging(q)
      const matched: Session[] = []
      for (const session of state.sessions.values()) {
        if (userId && session.userId !== userId) continue
        if (clientId && session.clientId !== clientId) continue
        if (status !== null && state.sessionStatus(session) !== status) continue
        matched.push(session)
      }
      // Newest first, as Clerk lists them.
      matched.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
      const data = matched.slice(offset, offset + limit).map((s) => sessionJson(state, s))
      return json(paginated === 'true' ? { data, total_count: matched.length } : data)
    }),
  )

  router.add(
    'GET',
    '/v1/sessions/:session_id',
    handle((req) => json(sessionJson(state, sessionOr404(state, req.params.session_id ?? '')))),
  )

  router.add(
    'POST',
    '/v1/sessions/:session_id/revoke',
    handle((req) => {
      const session = sessionOr404(state, req.params.session_id ?? '')
      // Revoking a session that already ended (any way) changes nothing and answers it as it is.
      state.endSession(session, 'revoked')
      return json(sessionJson(state, session))
    }),
  )
}
