// POST /webhooks/clerk: Clerk's session and user events, Svix-signed. The signature is checked
// over the bytes that arrived, with `standardwebhooks` (the library Clerk's own `verifyWebhook`
// wraps): a content-type parser of this route only keeps the raw buffer, nothing is re-serialized.
// Clerk's servers write JSON with Go's encoder (`&`, `<`, `>` as `\u0026`, `\u003c`, `\u003e`;
// U+2028/2029 escaped), so the bytes are not what `JSON.stringify` would write; see
// packages/clerk-local/docs/wire-details.md. Any failure → 400 with a `code`, and nothing stored.
// Deduplicated by `svix-id` (table webhook_deliveries): a replay or a Svix retry of a handled
// message answers 200 and changes nothing. Handling is idempotent and order-independent anyway
// (lifecycle.ts refuses transitions that cannot happen). A failure while handling (database,
// Clerk) answers 503, so Svix retries later.
import type { WebhookEvent } from '@clerk/backend/webhooks'
import { eq } from 'drizzle-orm'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { Webhook } from 'standardwebhooks'
import { webhookDeliveries } from '../audit/schema.js'
import type { AppDeps } from '../deps.js'
import { toDirectorySession } from '../directory/clerk-directory.js'
import type { SessionJSON } from '../directory/clerk-directory.js'

const SESSION_ENDS = new Set(['session.ended', 'session.revoked', 'session.removed'])
/** Strict UTF-8: a body that is not UTF-8 is refused, and a leading BOM is kept (so it fails). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Why a delivery is refused: `code` for machines, `error` for people. */
export type ClerkWebhookRefusal =
  | 'WEBHOOK_MALFORMED' // missing svix headers, empty or non-UTF-8 body
  | 'WEBHOOK_SIGNATURE_INVALID' // the signature does not cover these bytes (or is too old/new)
  | 'WEBHOOK_NOT_AN_EVENT' // signed, but not a JSON event `{ type, data }`

const refuse = (reply: FastifyReply, code: ClerkWebhookRefusal, error: string) =>
  reply.code(400).send({ code, error })

const header = (value: string | string[] | undefined): string | undefined =>
  typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined

export async function registerWebhooks(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const secret = deps.config.webhookSigningSecret
  if (!secret) return
  const verifier = new Webhook(secret)
  const db = deps.database.db
  await app.register((scope, _options, done) => {
    // The raw bytes, for this route only (the scope holds nothing else).
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: 512 * 1024 },
      (_req, body, done) => done(null, body),
    )

    scope.post('/webhooks/clerk', async (req, reply) => {
      const raw = req.body
      const svixId = header(req.headers['svix-id'])
      const timestamp = header(req.headers['svix-timestamp'])
      const signature = header(req.headers['svix-signature'])
      if (!Buffer.isBuffer(raw) || raw.length === 0 || !svixId || !timestamp || !signature)
        return refuse(reply, 'WEBHOOK_MALFORMED', 'A Clerk webhook needs svix headers and a body.')
      if (svixId.length > 128) return refuse(reply, 'WEBHOOK_MALFORMED', 'The svix-id is too long.')
      let text: string
      try {
        // Decoding strictly makes the text re-encode to exactly these bytes, which the library signs.
        text = utf8.decode(raw)
      } catch {
        return refuse(reply, 'WEBHOOK_MALFORMED', 'The body is not UTF-8.')
      }
      try {
        verifier.verify(
          text,
          { 'webhook-id': svixId, 'webhook-timestamp': timestamp, 'webhook-signature': signature },
          { jsonParse: false },
        )
      } catch {
        req.log.warn({ svixId: svixId.slice(0, 64) }, 'clerk webhook refused: bad signature')
        return refuse(reply, 'WEBHOOK_SIGNATURE_INVALID', 'The webhook signature does not verify.')
      }
      let event: WebhookEvent
      try {
        const parsed = JSON.parse(text) as { type?: unknown; data?: unknown }
        if (typeof parsed.type !== 'string' || typeof parsed.data !== 'object' || !parsed.data)
          throw new TypeError('not an event')
        event = parsed as WebhookEvent
      } catch {
        return refuse(reply, 'WEBHOOK_NOT_AN_EVENT', 'The body is not a Clerk event.')
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
