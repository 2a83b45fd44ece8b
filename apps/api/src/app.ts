// buildApp(deps): the Fastify app, not listening. Plugins are registered explicitly.
import { randomUUID } from 'node:crypto'
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { AppDeps } from './deps.js'
import { registerHealth } from './plugins/health.js'
import { registerOpenApi } from './openapi/routes.js'
import { registerTrpc } from './plugins/trpc.js'
import { registerWebhooks } from './plugins/webhooks.js'
import { registerMetrics } from './metrics/plugin.js'
import { registerConsole } from './production/console.js'

/** A hop count becomes "trust the first n hops" (Fastify's types take no number). */
function trustProxy(setting: boolean | number | string[]) {
  return typeof setting === 'number' ? (_address: string, hop: number) => hop < setting : setting
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    // Unneeded inside this package, but examples/audit-export type-checks this file through
    // the source condition and infers pino's Logger there without it (TS2322).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Not `requestIdHeader`: Fastify would take any incoming value as is. genReqId reads the
    // header and keeps it only when it matches REQUEST_ID (≤ 64 safe characters).
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    // tRPC batches put every procedure name in one path segment: 20 × the longest name fits.
    routerOptions: { maxParamLength: 5000 },
    bodyLimit: 64 * 1024,
    trustProxy: trustProxy(deps.config.trustProxy),
  })

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id)
  })

  app.setErrorHandler((error: { statusCode?: number; message?: string }, req, reply) => {
    const status =
      typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    if (status >= 500) req.log.error({ err: error }, 'request failed')
    return reply.code(status).send({
      error:
        status >= 500 && !deps.config.isDev ? 'Internal server error' : (error.message ?? 'Error'),
      statusCode: status,
      requestId: req.id,
    })
  })

  registerHealth(app, deps)
  await registerWebhooks(app, deps)
  await registerTrpc(app, deps)
  registerOpenApi(app)
  registerMetrics(app, deps)
  await registerConsole(app, deps)
  return app
}
