import type { Router } from '../http.js'
import { CLIENT_COOKIE, type FapiScope } from './context.js'
import { fapiErrors } from './errors.js'
import { clientJson } from './serialize.js'

/** The browser's client: read, replace (`PUT`/`POST`), forget (`DELETE`). */
export function clientRoutes(router: Router, h: FapiScope): void {
  const { state, store, withScope, respond, serializeOptions, ensureClient } = h

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
}
