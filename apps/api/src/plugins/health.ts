import type { FastifyInstance } from 'fastify'
import { DATABASE_RETRY_AFTER_SECONDS } from '../audit/db.js'
import type { AppDeps } from '../deps.js'

export function registerHealth(app: FastifyInstance, deps: AppDeps): void {
  /** The process is up. */
  app.get('/healthz', () => ({ status: 'ok' }))

  /**
   * The database answers and Clerk is reachable. Both checks are bounded by their clients'
   * timeouts (pool acquire and statement timeouts, CLERK_TIMEOUT_MS), so a frozen dependency
   * answers 503 instead of holding the probe.
   */
  app.get('/readyz', async (req, reply) => {
    const check = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn()
        return 'ok' as const
      } catch (err) {
        req.log.warn({ err, dependency: name }, 'readiness check failed')
        return 'unavailable' as const
      }
    }
    const [database, clerk] = await Promise.all([
      check('database', () => deps.database.ping()),
      check('clerk', () => deps.directory.ping()),
    ])
    const ready = database === 'ok' && clerk === 'ok'
    if (!ready) reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unavailable', database, clerk })
  })
}
