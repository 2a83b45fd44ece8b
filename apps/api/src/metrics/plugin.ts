// `GET /metrics` (Prometheus text format): on a listener of its own (METRICS_PORT, on
// METRICS_HOST, default loopback: keep it off the public proxy), and/or on the API's port behind
// a bearer token (METRICS_TOKEN, compared in constant time). Neither set: not served.
import { createHash, timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { AppDeps } from '../deps.js'
import { bindMetricsDatabase, registry } from './metrics.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

async function serve(reply: FastifyReply) {
  return reply
    .header('content-type', registry.contentType)
    .header('cache-control', 'no-store')
    .send(await registry.metrics())
}

export function registerMetrics(app: FastifyInstance, deps: AppDeps): void {
  const { port, host, token } = deps.config.metrics
  if (port === null && token === null) return
  bindMetricsDatabase(deps.database.db)
  if (token !== null) {
    const expected = digest(`Bearer ${token}`)
    app.get('/metrics', async (req, reply) => {
      const given = req.headers.authorization ?? ''
      if (!timingSafeEqual(digest(given), expected))
        return reply.code(401).send({ error: 'Unauthorized', statusCode: 401 })
      return serve(reply)
    })
  }
  if (port !== null) {
    const server = Fastify({ logger: false })
    server.get('/metrics', async (_req, reply) => serve(reply))
    app.addHook('onListen', async () => {
      const url = await server.listen({ host, port })
      app.log.info({ url: `${url}/metrics` }, `metrics listening at ${url}/metrics`)
    })
    app.addHook('onClose', async () => {
      await server.close()
    })
  }
}
