// The customer application, as small as it can be: orders, a password change, notices, and the
// receiver of ActAs's webhooks. @actas/guard/fastify verifies every session token, refuses what an
// impersonated session may not do, and reports what it did to ActAs.
import { randomUUID } from 'node:crypto'
import { ActAsWebhookSchema } from '@actas/contracts'
import type { Guard } from '@actas/guard'
import { actasGuard } from '@actas/guard/fastify'
import Fastify from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import { z } from 'zod'
import { NoticeBoard, noticeFor } from './notices.js'

export interface CustomerAppOptions {
  guard: Guard
  /** The signing secret of ActAs's webhook endpoint for this app (`whsec_…`); unset: no receiver. */
  webhookSecret?: string
  logger?: FastifyBaseLogger | boolean | { level: string }
  now?: () => Date
  /**
   * What the pages need to start (`GET /config`): the Clerk publishable key, the ActAs
   * console's origin (the banner's Stop) and ActAs's push of ends. Unset: no `/config`.
   */
  pageConfig?: {
    publishableKey: string
    consoleUrl: string
    /** ActAs's push of ends for the banner (`…/v1/sessions/ended`). */
    endsUrl?: string
  }
}

export interface Order {
  id: string
  item: string
  quantity: number
  createdAt: string
}

const NewOrderSchema = z.strictObject({
  item: z.string().trim().min(1).max(200),
  quantity: z.number().int().min(1).max(1000),
})
const PasswordSchema = z.strictObject({ password: z.string().min(12).max(200) })

/** The signed-in user (routes that need one are `requireSession`, so it is set). */
function userOf(request: FastifyRequest): string {
  if (!request.actas) throw new Error('requireSession let a request without a session through')
  return request.actas.userId
}

export async function buildCustomerApp(options: CustomerAppOptions): Promise<FastifyInstance> {
  const now = options.now ?? (() => new Date())
  const app = Fastify({ logger: options.logger ?? false })
  const orders = new Map<string, Order[]>()
  const passwordChanges = new Map<string, number>()
  const notices = new NoticeBoard()
  /** impersonation id → the staff member's email, from ActAs's webhooks (for the banner). */
  const actorEmails = new Map<string, string>()

  await app.register(actasGuard, { guard: options.guard })

  const signedIn = { config: { actas: { requireSession: true } } }

  app.get('/orders', signedIn, (request) => ({ items: orders.get(userOf(request)) ?? [] }))

  app.post('/orders', signedIn, async (request, reply) => {
    const parsed = NewOrderSchema.safeParse(request.body)
    if (!parsed.success)
      return reply
        .code(400)
        .send({ error: { code: 'INVALID_INPUT', message: parsed.error.message } })
    const order: Order = { id: randomUUID(), ...parsed.data, createdAt: now().toISOString() }
    const userId = userOf(request)
    orders.set(userId, [...(orders.get(userId) ?? []), order])
    return reply.code(201).send(order)
  })

  // Never as the customer: support may not change a customer's password.
  app.post(
    '/account/password',
    { config: { actas: { requireSession: true, blockWhileImpersonated: true } } },
    async (request, reply) => {
      if (!PasswordSchema.safeParse(request.body).success)
        return reply.code(400).send({
          error: { code: 'INVALID_INPUT', message: 'A password of 12 to 200 characters.' },
        })
      const userId = userOf(request)
      passwordChanges.set(userId, (passwordChanges.get(userId) ?? 0) + 1)
      return reply.code(204).send()
    },
  )

  app.get('/notices', signedIn, (request) => ({ items: notices.of(userOf(request)) }))

  // The host kit's status route: the guard refuses an impersonation ActAs ended (401
  // IMPERSONATION_ENDED) before this runs; otherwise who is acting, with the staff email that
  // ActAs's webhook brought (when it did).
  app.get('/actas/session', signedIn, (request) => {
    const verdict = request.actas!
    const impersonationId = verdict.impersonationId
    return {
      impersonated: verdict.impersonated,
      impersonationId,
      mode: verdict.mode,
      actor: verdict.actor
        ? {
            userId: verdict.actor.userId,
            reason: verdict.actor.reason,
            email: (impersonationId && actorEmails.get(impersonationId)) ?? null,
          }
        : null,
    }
  })

  const pageConfig = options.pageConfig
  if (pageConfig) app.get('/config', () => pageConfig)

  const secret = options.webhookSecret
  if (secret) {
    const webhook = new Webhook(secret)
    await app.register((scope, _opts, registered) => {
      // The signature covers the exact bytes: keep the body as text.
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
        done(null, body),
      )
      scope.post('/webhooks/actas', async (request, reply) => {
        const headers: Record<string, string> = {}
        for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
          const value = request.headers[name]
          if (typeof value === 'string') headers[name] = value
        }
        let payload: unknown
        try {
          payload = webhook.verify(typeof request.body === 'string' ? request.body : '', headers)
        } catch (error) {
          if (!(error instanceof WebhookVerificationError)) throw error
          return reply
            .code(400)
            .send({ error: { code: 'INVALID_SIGNATURE', message: 'The webhook does not verify.' } })
        }
        const id = headers['webhook-id'] ?? ''
        if (!notices.firstDelivery(id)) return reply.code(200).send({ duplicate: true })
        const event = ActAsWebhookSchema.safeParse(payload)
        // A type or shape this version does not know: acknowledged (ActAs would retry a 4xx).
        if (!event.success) return reply.code(200).send({ ignored: true })
        const { impersonationId, actor } = event.data.data
        if (actor.email) actorEmails.set(impersonationId, actor.email)
        const notice = noticeFor(event.data, now())
        if (notice) notices.add(notice)
        return reply.code(200).send({ received: event.data.type })
      })
      registered()
    })
  }

  return app
}
