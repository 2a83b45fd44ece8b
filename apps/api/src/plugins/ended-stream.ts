// GET /v1/sessions/ended: news of an end by push (server-sent events), so guards and the host
// banner learn it in milliseconds instead of at their next poll (`sessions.revoked` stays the
// backstop). The events come from the revocation registry: this instance's own ends at once,
// the other instances' through Postgres NOTIFY (or the 1-s read on PGlite).
//
// Authorization: `Authorization: Bearer …` only (a token never travels in a URL), verified as
// every other request (plugins/auth.ts):
// - a machine granted `sessions.revoked` (MACHINE_PERMISSIONS) gets every end from now on;
// - an impersonated session gets its own impersonation's end (at once when it already ended:
//   its token still verifies for up to 60 s), with how it ended, then the stream closes;
// - anyone else: 401 (no valid credential) or 403 (a session that is not impersonated, a machine
//   not granted it), tRPC-shaped like every other refusal.
// A stream lives until its credential expires (a session token: its `exp`, ≤ 60 s; an M2M token:
// at most STREAM_MAX_MS), then closes: the client reconnects with a fresh token. A comment line
// every HEARTBEAT_MS keeps proxies from closing it. Cross-origin callers (the host application's
// banner) are allowed from AUTHORIZED_PARTIES, the origins whose session tokens ActAs accepts.
import type { ServerResponse } from 'node:http'
import { ActAsError, machineMayCall, parseActorClaim, SESSIONS_ENDED_PATH } from '@actas/contracts'
import type { SessionEndedEvent } from '@actas/contracts'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { AppDeps } from '../deps.js'
import type { EndedImpersonation } from '../sessions/revocations.js'
import { registerAuth } from './auth.js'

const HEARTBEAT_MS = 15_000
/** The longest a stream stays open on one credential (an M2M token may live much longer). */
const STREAM_MAX_MS = 5 * 60_000

export interface EndedStreamErrors {
  /** An answer before the stream starts, shaped by the router's error formatter. */
  send: (reply: FastifyReply, cause: ActAsError) => unknown
}

export async function registerEndedStream(
  app: FastifyInstance,
  deps: AppDeps,
  errors: EndedStreamErrors,
): Promise<void> {
  const open = new Set<ServerResponse>()
  const allowedOrigins = new Set(deps.config.clerk.authorizedParties)
  const cors = (origin: unknown, reply: FastifyReply) => {
    if (typeof origin !== 'string' || !allowedOrigins.has(origin)) return
    reply.header('access-control-allow-origin', origin)
    reply.header('vary', 'Origin')
  }

  await app.register((scope, _options, done) => {
    registerAuth(scope, deps.config, {
      verifier: deps.sessionVerifier,
      ipLimiter: deps.ipLimiter,
      now: () => deps.now().getTime(),
      onUnavailable: (reply, retryAfterSeconds) =>
        errors.send(
          reply,
          new ActAsError(
            'SERVICE_UNAVAILABLE',
            `Clerk could not be reached to verify the token; retry in ${retryAfterSeconds} s.`,
            { retryAfterSeconds },
          ),
        ),
      onLimited: (reply, retryAfterSeconds) =>
        errors.send(
          reply,
          new ActAsError(
            'RATE_LIMITED',
            `Too many unverified credentials from this address; retry in ${retryAfterSeconds} s.`,
            { retryAfterSeconds, rateLimitedBy: 'actas' },
          ),
        ),
    })

    // The browser's preflight for a cross-origin fetch with an Authorization header.
    scope.options(SESSIONS_ENDED_PATH, (req, reply) => {
      cors(req.headers.origin, reply)
      reply.header('access-control-allow-headers', 'authorization')
      reply.header('access-control-allow-methods', 'GET')
      reply.header('access-control-max-age', '600')
      return reply.code(204).send()
    })

    scope.get(SESSIONS_ENDED_PATH, async (req, reply) => {
      cors(req.headers.origin, reply)
      const credential = req.actasCredential
      if (!credential)
        return errors.send(
          reply,
          new ActAsError('UNAUTHENTICATED', 'Sign in first: no valid token was sent.'),
        )
      let mine: { impersonationId: string; sessionId: string } | null = null
      let expiresAt = deps.now().getTime() + STREAM_MAX_MS
      if (credential.kind === 'machine') {
        if (
          !machineMayCall(deps.config.machines.permissions, credential.machine, 'sessions.revoked')
        )
          return errors.send(
            reply,
            new ActAsError(
              'FORBIDDEN',
              `The machine ${credential.machine.machineId} is not granted sessions.revoked, which this stream follows.`,
            ),
          )
      } else {
        const act = parseActorClaim(credential.session.actor)
        if (!act?.impersonationId)
          return errors.send(
            reply,
            new ActAsError(
              'FORBIDDEN',
              'Only an impersonated session (or a machine granted sessions.revoked) may follow this stream.',
            ),
          )
        mine = { impersonationId: act.impersonationId, sessionId: credential.session.sessionId }
        expiresAt = Math.min(expiresAt, credential.session.expiresAt)
      }

      const event = async (ended: EndedImpersonation): Promise<SessionEndedEvent> => ({
        impersonationId: ended.impersonationId,
        sessionId: ended.clerkSessionId,
        revokedAt: new Date(ended.learntAt).toISOString(),
        // How it ended, for the banner; the end itself is told even when that cannot be read.
        impersonationEnded: mine ? await deps.lifecycle.describeEnd(ended).catch(() => null) : null,
      })

      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      open.add(res)
      const write = (text: string) => {
        if (!res.writableEnded) res.write(text)
      }
      let finished = false
      const finish = () => {
        if (finished) return
        finished = true
        unsubscribe()
        clearInterval(heartbeat)
        clearTimeout(expiry)
        open.delete(res)
        if (!res.writableEnded) res.end()
      }
      const send = (ended: EndedImpersonation) => {
        void event(ended).then((data) => {
          write(`event: ended\ndata: ${JSON.stringify(data)}\n\n`)
          if (mine) finish()
        })
      }
      const unsubscribe = deps.revocations.subscribe((ended) => {
        if (
          !mine ||
          ended.impersonationId === mine.impersonationId ||
          ended.clerkSessionId === mine.sessionId
        )
          send(ended)
      })
      const heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS)
      heartbeat.unref()
      const expiry = setTimeout(finish, Math.max(0, expiresAt - deps.now().getTime()))
      expiry.unref()
      req.raw.on('close', finish)
      // Opened: the client knows it is following from now on (and `retry` for EventSource-like
      // clients). An impersonation that already ended is told at once.
      write(`retry: 1000\nevent: open\ndata: {}\n\n`)
      const already = mine ? deps.revocations.lookup(mine.sessionId, mine.impersonationId) : null
      if (already) send(already)
    })
    done()
  })

  // Before the server waits for its connections to end: the streams are ended first.
  app.addHook('preClose', (done) => {
    for (const res of open) res.end()
    open.clear()
    done()
  })
}
