// @actas/guard/fastify: the guard as a Fastify plugin. Decorates `request.actas` with the verdict
// (null without a valid session), refuses what the guard refuses before the handler runs, and
// records the answers of impersonated sessions (method, route pattern, status, time).
//
//   await app.register(actasGuard, { guard })
//   app.post('/account/password', { config: { actas: { blockWhileImpersonated: true } } }, handler)
import fp from 'fastify-plugin'
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import { bearerToken } from './guard.js'
import type { Guard } from './guard.js'
import type { GuardRefusal, GuardRouteOptions, GuardVerdict } from './types.js'

export interface ActAsRouteConfig extends GuardRouteOptions {
  /** Refuse requests without a valid session with 401 (default: the plugin's `requireSession`). */
  requireSession?: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The guard's verdict on this request's session; null when there is no valid session. */
    actas: GuardVerdict | null
  }
  interface FastifyContextConfig {
    /** The guard's rules for this route. */
    actas?: ActAsRouteConfig
  }
}

export interface ActAsGuardPluginOptions {
  guard: Guard
  /** Refuse requests without a valid session token with 401 on every route (default false). */
  requireSession?: boolean
  /** Where the token is (default: `Authorization: Bearer …`). */
  getToken?: (request: FastifyRequest) => string | null | undefined
  /** Start the guard when the app starts and close it with the app (default true). */
  manageLifecycle?: boolean
}

/** The route pattern Fastify matched, or `/*` when none did (a 404). */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? '/*'
}

const plugin: FastifyPluginCallback<ActAsGuardPluginOptions> = (app, options, done) => {
  const { guard } = options
  const getToken = options.getToken ?? ((req) => bearerToken(req.headers.authorization))
  app.decorateRequest('actas', null)
  if (options.manageLifecycle !== false) {
    app.addHook('onReady', () => guard.start())
    app.addHook('onClose', () => guard.close())
  }

  const refuse = (refusal: GuardRefusal) => (reply: FastifyReply) => {
    if (refusal.retryAfterSeconds) reply.header('retry-after', String(refusal.retryAfterSeconds))
    return reply.code(refusal.status).send(refusal.body)
  }

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config.actas ?? {}
    const checked = await guard.check(getToken(request))
    if (!checked.ok) {
      if (config.requireSession ?? options.requireSession)
        return refuse(guard.unauthenticated(checked.reason))(reply)
      return
    }
    request.actas = checked.verdict
    const refusal = guard.decide(checked.verdict, request.method, config)
    if (refusal) return refuse(refusal)(reply)
  })

  app.addHook('onResponse', async (request, reply) => {
    guard.record(request.actas, {
      method: request.method,
      route: routeOf(request),
      status: reply.statusCode,
    })
  })
  done()
}

/** The guard as a Fastify plugin (not encapsulated: it covers every route of the app). */
export const actasGuard = fp(plugin, { fastify: '5.x', name: '@actas/guard' })
export default actasGuard
