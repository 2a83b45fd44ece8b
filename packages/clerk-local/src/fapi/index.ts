import { Router } from '../http.js'
import { clientRoutes } from './client.js'
import { createFapiScope, type FapiContext } from './context.js'
import { environmentRoutes } from './environment.js'
import { sessionRoutes } from './sessions.js'
import { signInRoutes } from './sign-ins.js'
import { FapiStore } from './store.js'
import { verificationRoutes } from './verification.js'

export { FapiStore } from './store.js'
export { CLIENT_COOKIE, DEV_BROWSER_PARAM, type FapiContext } from './context.js'

/**
 * The Frontend API routes, relative to the FAPI mount point (e.g. `/v1/client`), as
 * @clerk/clerk-js 6.40 calls them, one module per resource (as `bapi/`). See docs/fapi.md.
 */
export function createFapiRouter(ctx: FapiContext): Router {
  const router = new Router()
  const scope = createFapiScope(ctx, new FapiStore(ctx.state))
  environmentRoutes(router, scope)
  clientRoutes(router, scope)
  signInRoutes(router, scope)
  sessionRoutes(router, scope)
  verificationRoutes(router, scope)
  return router
}
