import type { Handler, Router } from '../http.js'
import { invalidParam, unknownParam } from './errors.js'

// `PATCH /v1/instance` (the SDK's `instance.update`): of the instance settings, the local server
// keeps `allowed_origins`, the browser origins that may call the Frontend API cross-origin (CORS
// with credentials). The list replaces the previous one, as Clerk's does. Answers 204.

/** Why `origin` is not a browser origin (`http(s)://host[:port]`, nothing after), or undefined. */
export function originProblem(origin: string): string | undefined {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return `not an origin: ${JSON.stringify(origin)}`
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin)
    return `an allowed origin is scheme://host[:port], nothing after: ${JSON.stringify(origin)}`
  return undefined
}

/** Settings the vendored spec lists for `PATCH /instance` that the local server ignores. */
const IGNORED = new Set([
  'test_mode',
  'hibp',
  'support_email',
  'clerk_js_version',
  'development_origin',
  'cookieless_dev',
  'url_based_session_syncing',
  'preferred_sign_in_strategy_when_password_required',
])

export function instanceRoutes(
  router: Router,
  allowedOrigins: Set<string>,
  handle: (fn: Handler) => Handler,
): void {
  router.add(
    'PATCH',
    '/v1/instance',
    handle((req) => {
      for (const key of Object.keys(req.body))
        if (key !== 'allowed_origins' && !IGNORED.has(key)) throw unknownParam(key)
      const origins = req.body.allowed_origins
      if (origins !== undefined && origins !== null) {
        if (!Array.isArray(origins) || !origins.every((o): o is string => typeof o === 'string'))
          throw invalidParam('allowed_origins', 'allowed_origins must be an array of origins.')
        for (const origin of origins) {
          const problem = originProblem(origin)
          if (problem) throw invalidParam('allowed_origins', problem)
        }
        allowedOrigins.clear()
        for (const origin of origins) allowedOrigins.add(origin)
      }
      return { status: 204 }
    }),
  )
}
