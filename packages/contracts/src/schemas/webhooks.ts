import { z } from 'zod'
import { CursorSchema, ImpersonationIdSchema, InstantSchema } from './common.js'
import { EndCauseSchema, ImpersonationModeSchema } from './impersonation.js'
import { ACCESS_WEBHOOK_TYPES } from '../access.js'
import { ALERT_WEBHOOK_TYPES } from '../alerts.js'

// ActAs's own webhooks to the host application (WEBHOOK_ENDPOINTS): what the application hears
// when support acts in a customer's account. Delivered per the Standard Webhooks spec
// (https://www.standardwebhooks.com): a POST with a JSON body `{ type, timestamp, data }` and the
// headers `webhook-id` (the same on every retry of a message: deduplicate by it),
// `webhook-timestamp` and `webhook-signature`, signed with the endpoint's `whsec_…` secret.
// Verify with the `standardwebhooks` library over the raw body, then parse with
// `ActAsWebhookSchema`:
//
//   const payload = new Webhook(secret).verify(rawBody, headers)
//   const event = ActAsWebhookSchema.parse(payload)
//
// Delivery is at least once and not ordered: a retry may arrive after a later message.
// `data.seq` (the event's place in the audit chain) orders the messages of one impersonation.
// Unknown keys may be added later; the schemas below strip them.

/** The event types ActAs sends. */
export const ACTAS_WEBHOOK_TYPES = [
  /** A ticket was issued: a staff member is about to act as the user. */
  'impersonation.started',
  /** The ticket became a live Clerk session: the staff member is in the user's account. */
  'impersonation.signed_in',
  /** It is over: ended (with its cause), expired unused, revoked before use, or its sign-in failed. */
  'impersonation.ended',
  // The access model's (access.ts): requested, approved, denied, granted, revoked, expired.
  ...ACCESS_WEBHOOK_TYPES,
  // An alert (alerts.ts): a rule's threshold was crossed.
  ...ALERT_WEBHOOK_TYPES,
] as const
export const ActAsWebhookTypeSchema = z.enum(ACTAS_WEBHOOK_TYPES)
export type ActAsWebhookType = z.infer<typeof ActAsWebhookTypeSchema>

/** `read_only`: the host must refuse every non-safe method; `full`: everything but what it blocks. */
export const WebhookImpersonationModeSchema = ImpersonationModeSchema

/** What every message says about the impersonation. */
const WebhookImpersonationFields = {
  impersonationId: ImpersonationIdSchema,
  /** The staff member acting (email as recorded at start, when known). */
  actor: z.object({ id: z.string(), email: z.string().nullable() }),
  /** The customer acted as. */
  user: z.object({ id: z.string() }),
  /** The staff member's stated reason. */
  reason: z.string(),
  /** Present when the impersonation records one (every impersonation since modes exist). */
  mode: WebhookImpersonationModeSchema.optional(),
  /** The audit event this message stands for: its place in the chain and its time. */
  seq: z.number().int().min(1),
  occurredAt: InstantSchema,
}

export const ImpersonationStartedWebhookSchema = z.object({
  type: z.literal('impersonation.started'),
  /** When the message was created (Standard Webhooks envelope). */
  timestamp: InstantSchema,
  data: z.object({
    ...WebhookImpersonationFields,
    /** The ticket stops being accepted then. */
    ticketExpiresAt: InstantSchema.nullable(),
    /** Latest end of the impersonated session. */
    sessionExpiresAt: InstantSchema.nullable(),
  }),
})

export const ImpersonationSignedInWebhookSchema = z.object({
  type: z.literal('impersonation.signed_in'),
  timestamp: InstantSchema,
  data: z.object({
    ...WebhookImpersonationFields,
    /** The Clerk session (`sess_…`) the staff member is using as the user. */
    clerkSessionId: z.string().nullable(),
    sessionExpiresAt: InstantSchema.nullable(),
  }),
})

/** The terminal status an `impersonation.ended` reports. */
export const WebhookEndStatusSchema = z.enum(['ended', 'expired', 'revoked', 'failed'])

export const ImpersonationEndedWebhookSchema = z.object({
  type: z.literal('impersonation.ended'),
  timestamp: InstantSchema,
  data: z.object({
    ...WebhookImpersonationFields,
    /**
     * `ended` (a live session ended: `cause` says why), `expired` (the ticket expired unused),
     * `revoked` (the ticket was revoked before use), `failed` (the ticket sign-in failed).
     */
    status: WebhookEndStatusSchema,
    /** Why it ended (`ended`, `expired`); null for `revoked` and `failed`. */
    cause: EndCauseSchema.nullable(),
    /** Who ended it: a staff member's user id, the actor, `system`; null when ActAs itself. */
    endedBy: z.string().nullable(),
    clerkSessionId: z.string().nullable(),
  }),
})

/**
 * Any message about an impersonation; `type` tells which. The access model's messages
 * (`access.*`) parse with `AccessWebhookSchema` (access.ts).
 */
export const ActAsWebhookSchema = z.discriminatedUnion('type', [
  ImpersonationStartedWebhookSchema,
  ImpersonationSignedInWebhookSchema,
  ImpersonationEndedWebhookSchema,
])
export type ActAsWebhook = z.infer<typeof ActAsWebhookSchema>
export type ImpersonationStartedWebhook = z.infer<typeof ImpersonationStartedWebhookSchema>
export type ImpersonationSignedInWebhook = z.infer<typeof ImpersonationSignedInWebhookSchema>
export type ImpersonationEndedWebhook = z.infer<typeof ImpersonationEndedWebhookSchema>

// ---- the outbox, as staff see it (audit page) ------------------------------------------------

/**
 * `pending` (not delivered yet: waiting for its next attempt), `delivered` (the endpoint answered
 * 2xx), `dead` (dead-lettered after the configured number of failed attempts; a staff member may
 * retry it).
 */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const
export const WebhookDeliveryStatusSchema = z.enum(WEBHOOK_DELIVERY_STATUSES)
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatusSchema>

/** One message to one endpoint. Never carries the endpoint's secret. */
export const WebhookDeliverySchema = z.object({
  id: z.uuid(),
  /** The `webhook-id` header: the same on every attempt and retry. */
  messageId: z.string(),
  type: ActAsWebhookTypeSchema,
  impersonationId: ImpersonationIdSchema,
  /** The endpoint's URL (without any user info or query string). */
  endpoint: z.string(),
  status: WebhookDeliveryStatusSchema,
  /** Attempts made so far (a retry of a dead letter starts counting again). */
  attempts: z.number().int().min(0),
  /** The last failed attempt: HTTP status, or null for a timeout or a connection error… */
  lastStatusCode: z.number().int().nullable(),
  /** …and what went wrong, in words. */
  lastError: z.string().nullable(),
  createdAt: InstantSchema,
  /** When the next attempt is due (pending only). */
  nextAttemptAt: InstantSchema.nullable(),
  deliveredAt: InstantSchema.nullable(),
  deadAt: InstantSchema.nullable(),
})
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>

export const WebhookDeliveriesInputSchema = z.strictObject({
  status: WebhookDeliveryStatusSchema.optional(),
  cursor: CursorSchema.optional(),
  limit: z.number().int().min(1).max(100).default(20),
})
export type WebhookDeliveriesInput = z.input<typeof WebhookDeliveriesInputSchema>
export type WebhookDeliveriesParams = z.output<typeof WebhookDeliveriesInputSchema>

export const WebhookDeliveriesOutputSchema = z.object({
  /** Newest first. */
  items: z.array(WebhookDeliverySchema),
  next: CursorSchema.nullable(),
  /** Whether any endpoint is configured (WEBHOOK_ENDPOINTS). */
  enabled: z.boolean(),
})
export type WebhookDeliveriesOutput = z.infer<typeof WebhookDeliveriesOutputSchema>

/** Puts a dead letter back in the queue: attempted again now, with the same `webhook-id`. */
export const WebhookRetryInputSchema = z.strictObject({
  deliveryId: z.uuid(),
})
export type WebhookRetryInput = z.infer<typeof WebhookRetryInputSchema>
export const WebhookRetryOutputSchema = WebhookDeliverySchema
export type WebhookRetryOutput = z.infer<typeof WebhookRetryOutputSchema>
