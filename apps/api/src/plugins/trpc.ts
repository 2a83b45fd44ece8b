// Mounts the contracts' router at /trpc with the ports this API implements.
import { ACTAS_ERROR_TRPC_CODE, ActAsError, MAX_BATCH_SIZE, principalId } from '@actas/contracts'
import type { ActAsContext, ImpersonationEnded } from '@actas/contracts'
import { createAppRouter } from '@actas/contracts/server'
import type { AppRouter } from '@actas/contracts/server'
import { getTRPCErrorShape, TRPCError } from '@trpc/server'
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server'
import { getHTTPStatusCodeFromError } from '@trpc/server/http'
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify'
import type { FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { databaseFault } from '../audit/db.js'
import { logStreamsPort } from '../log-streams/port.js'
import type { AppDeps } from '../deps.js'
import type { EndedImpersonation } from '../sessions/revocations.js'
import { principalFromRequest, registerAuth } from './auth.js'
import { registerEndedStream } from './ended-stream.js'

/** The most calls one batch may carry (contracts); `routerOptions.maxParamLength` is sized for it. */
export { MAX_BATCH_SIZE }

export async function registerTrpc(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const router = createAppRouter({
    isDev: deps.config.isDev,
    machinePermissions: deps.config.machines.permissions,
    // A database that is down, restarting or frozen answers 503 with Retry-After, not 500, from
    // every port: classified once, by the router's error mapper.
    classifyError: databaseFault,
  })

  const known = new Set(Object.keys(router._def.procedures))
  const logStreams = logStreamsPort(deps.logStreams)

  /** An answer sent before tRPC runs, shaped by the router's own error formatter. */
  const sendError = (reply: FastifyReply, code: TRPC_ERROR_CODE_KEY, cause: ActAsError) => {
    const error = new TRPCError({ code, message: cause.message, cause })
    const shape = getTRPCErrorShape({
      config: router._def._config,
      error,
      type: 'unknown',
      path: undefined,
      input: undefined,
      ctx: undefined,
    })
    if (cause.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(cause.retryAfterSeconds))
    return reply.code(getHTTPStatusCodeFromError(error)).send({ error: shape })
  }
  // The push of ends (GET /v1/sessions/ended), its refusals shaped as every other.
  await registerEndedStream(app, deps, {
    send: (reply, cause) => sendError(reply, ACTAS_ERROR_TRPC_CODE[cause.code], cause),
  })

  await app.register(async (scope) => {
    // Malformed batch paths are refused whole, before authentication and before any call runs:
    // an unknown procedure anywhere in a batch, or more calls than the batch limit.
    scope.addHook('onRequest', async (req, reply) => {
      const path = (req.params as { path?: string } | undefined)?.path
      if (path === undefined) return
      const names = path.split(',')
      const unknown = names.find((n) => !known.has(n))
      if (unknown === undefined && names.length <= MAX_BATCH_SIZE) return
      const tooMany = unknown === undefined
      const message = tooMany
        ? `A batch may hold at most ${MAX_BATCH_SIZE} calls.`
        : `No such procedure: ${JSON.stringify(unknown.slice(0, 64))}.`
      return sendError(
        reply,
        tooMany ? 'BAD_REQUEST' : 'NOT_FOUND',
        new ActAsError('INVALID_INPUT', message),
      )
    })
    registerAuth(scope, deps.config, {
      verifier: deps.sessionVerifier,
      ipLimiter: deps.ipLimiter,
      now: () => deps.now().getTime(),
      onUnavailable: (reply, retryAfterSeconds) =>
        sendError(
          reply,
          'SERVICE_UNAVAILABLE',
          new ActAsError(
            'SERVICE_UNAVAILABLE',
            `Clerk could not be reached to verify the token; retry in ${retryAfterSeconds} s.`,
            { retryAfterSeconds },
          ),
        ),
      onLimited: (reply, retryAfterSeconds) =>
        sendError(
          reply,
          'TOO_MANY_REQUESTS',
          new ActAsError(
            'RATE_LIMITED',
            `Too many unverified credentials from this address; retry in ${retryAfterSeconds} s.`,
            { retryAfterSeconds, rateLimitedBy: 'actas' },
          ),
        ),
    })
    await scope.register(fastifyTRPCPlugin, {
      prefix: '/trpc',
      trpcOptions: {
        router,
        maxBatchSize: MAX_BATCH_SIZE,
        createContext: async ({ req }): Promise<ActAsContext> => {
          let principal = await principalFromRequest(req, deps.staffOrganizations).catch(
            (error: unknown) => {
              // The staff organizations cannot be resolved (Clerk down, or misconfigured): 503.
              const cause =
                error instanceof ActAsError
                  ? error
                  : new ActAsError('SERVICE_UNAVAILABLE', 'Clerk could not be reached.', {
                      retryAfterSeconds: 5,
                      cause: error,
                    })
              throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: cause.message, cause })
            },
          )
          let unauthenticatedReason: string | null = null
          let impersonationEnded: ImpersonationEnded | null = null
          // An impersonated session ActAs ended is refused although its JWT still verifies.
          const ended =
            principal?.kind === 'user' && principal.actor
              ? deps.revocations.lookup(principal.sessionId, principal.actor.impersonationId)
              : null
          if (ended) {
            principal = null
            unauthenticatedReason = endedMessage(ended)
            // How it ended (who by email, why, when): the ended tab's banner says it.
            impersonationEnded = await deps.lifecycle.describeEnd(ended)
          }
          if (principal?.kind === 'machine') {
            // Every machine call, by machine id and M2M token id (never the token).
            req.log.info(
              {
                machineId: principal.machineId,
                tokenId: principal.tokenId,
                procedures: (req.params as { path?: string } | undefined)?.path,
              },
              'machine call',
            )
          }
          return {
            principal,
            unauthenticatedReason,
            impersonationEnded,
            request: {
              id: req.id,
              ip: req.ip ?? null,
              userAgent: req.headers['user-agent'] ?? null,
            },
            rateLimiter: deps.rateLimiter,
            directory: deps.service,
            impersonation: deps.service,
            sessions: deps.sessions,
            audit: deps.service,
            auditExport: deps.auditExport,
            logStreams,
            alerts: deps.alerts,
            webhooks: deps.webhooks,
            access: deps.access,
          }
        },
        responseMeta({ errors }) {
          const retryAfter = Math.max(
            0,
            ...errors.map((e) =>
              e.cause instanceof ActAsError ? (e.cause.retryAfterSeconds ?? 0) : 0,
            ),
          )
          return retryAfter > 0 ? { headers: { 'retry-after': String(retryAfter) } } : {}
        },
        onError({ error, path, ctx }) {
          const actorId = ctx?.principal ? principalId(ctx.principal) : undefined
          if (error.code === 'INTERNAL_SERVER_ERROR') {
            app.log.error(
              { err: error.cause ?? error, path, actorId, requestId: ctx?.request.id },
              'procedure failed',
            )
          } else {
            const actasCode = error.cause instanceof ActAsError ? error.cause.code : undefined
            app.log.info(
              { path, code: error.code, actasCode, actorId, requestId: ctx?.request.id },
              'procedure refused',
            )
          }
        },
      } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
    })
  })
}

/** What a refused ended session is told (shown by the console's banner). */
function endedMessage(ended: EndedImpersonation): string {
  const how =
    ended.cause === 'ended_by_staff'
      ? `ended by ${ended.endedBy ?? 'a staff member'}${ended.endReason ? `: ${ended.endReason}` : ''}`
      : ended.cause === 'stopped_by_actor'
        ? 'stopped'
        : ended.cause
          ? `ended (${ended.cause.replaceAll('_', ' ')})`
          : `no longer live (${ended.status})`
  return `This impersonation was ${how}. Its session is refused.`
}
