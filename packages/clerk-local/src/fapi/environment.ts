import { json, type Router } from '../http.js'
import type { FapiScope } from './context.js'
import { environmentJson } from './serialize.js'

/** `POST /v1/dev_browser` and the environment clerk-js loads first. */
export function environmentRoutes(router: Router, { ctx, store }: FapiScope): void {
  router.add('POST', '/v1/dev_browser', () =>
    json({ object: 'dev_browser', id: store.newDevBrowser() }),
  )

  const environment = () =>
    json(environmentJson({ applicationName: ctx.applicationName ?? 'ActAs (local)' }))
  router.add('GET', '/v1/environment', environment)
  // clerk-js "touches" the environment in development (`POST ?_method=PATCH`).
  router.add('PATCH', '/v1/environment', environment)
}
