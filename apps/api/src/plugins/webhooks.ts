// POST /webhooks/clerk: Clerk's session and user events, Svix-signed. Verified with
// `verifyWebhook` from @clerk/fastify/webhooks; the raw body is kept (a content-type parser of
// this route only) and must be exactly what that function re-serializes (`JSON.stringify` of the
// parsed body), so the signature it checks is the signature of the bytes that arrived. Any
// failure → 400 and nothing stored. Deduplicated by `svix-id` (table webhook_deliveries): a
// replay or a Svix retry of a handled message answers 200 and changes nothing. Handling is
// idempotent and order-independent anyway (lifecycle.ts refuses transitions that cannot happen).
// A failure while handling (database, Clerk) answers 503, so Svix retries later.
import { verifyWebhook } from '@clerk/fastify/webhooks'
import { eq } from 'drizzle-orm'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { webhookDeliveries } from '../audit/schema.js'
import type { AppDeps } from '../deps.js'
import { toDirectorySession } from '../directory/clerk-directory.js'
import type { SessionJSON } from '../directory/clerk-directory.js'

interface RawJson {
  raw: string
  json: unknown
}

const SESSION_ENDS = new Set(['session.ended', 'session.revoked', 'session.removed'])

export async function registerWebhooks(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const secret = deps.config.webhookSigningSecret
  if (!secret) return
  const db = deps.database.db
  await app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: 512 * 1024 },
      (_req, body, done) => {
        try {
          done(null, { raw: body as string, json: JSON.parse(body as string) as unknown })
        } catch {
          done(Object.assign(new Error('The body is not JSON.'), { statusCode: 400 }), undefined)
        }
      },
    )

    scope.post('/webhooks/clerk', async (req, reply) => {
      const body = req.body as RawJson | undefined
      const svixId = req.headers['svix-id']
      if (!body || typeof svixId !== 'string' || svixId.length === 0 || svixId.length > 128)
        return reply
          .code(400)
          .send({ error: 'A Clerk webhook needs svix headers and a JSON body.' })
      // The signature covers the raw bytes; verifyWebhook checks it over JSON.stringify(body).
      if (JSON.stringify(body.json) !== body.raw)
        return reply.code(400).send({ error: 'The body is not in its canonical form.' })
      let event: Awaited<ReturnType<typeof verifyWebhook>>
      try {
        const view = Object.assign(Object.create(req) as FastifyRequest, { body: body.json })
        event = await verifyWebhook(view, { signingSecret: secret })
      } catch {
        req.log.warn({ svixId: svixId.slice(0, 64) }, 'clerk webhook refused: bad signature')
        return reply.code(400).send({ error: 'The webhook signature does not verify.' })
      }

      const [seen] = await db
        .select({ id: webhookDeliveries.svixId })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.svixId, svixId))
      if (seen) return reply.code(200).send({ ok: true, duplicate: true })

      let outcome = 'ignored'
      try {
        if (event.type === 'session.created' || SESSION_ENDS.has(event.type)) {
          const session = toDirectorySession(event.data as unknown as SessionJSON)
          outcome = await deps.lifecycle.onSession(
            session,
            event.type === 'session.created' ? 'created' : 'ended',
          )
        }
        const data = event.data as { id?: unknown; public_user_data?: { user_id?: unknown } }
        const userId =
          event.type === 'user.updated' || event.type === 'user.deleted'
            ? data.id
            : event.type.startsWith('organizationMembership.')
              ? data.public_user_data?.user_id
              : undefined
        if (typeof userId === 'string' && userId.startsWith('user_')) {
          const ended = await deps.reconciler.reauthorize(userId)
          outcome = `re-authorized (${ended} ended)`
        }
        await db
          .insert(webhookDeliveries)
          .values({ svixId, type: event.type.slice(0, 64), receivedAt: deps.now() })
          .onConflictDoNothing()
      } catch (error) {
        req.log.error(
          { err: error, svixId, type: event.type },
          'clerk webhook failed; Svix retries',
        )
        return reply
          .code(503)
          .header('retry-after', '5')
          .send({ error: 'Could not handle the event now.' })
      }
      req.log.info({ svixId, type: event.type, outcome }, 'clerk webhook')
      return reply.code(200).send({ ok: true })
    })
    done()
  })
}
