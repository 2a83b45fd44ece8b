// The outbox of ActAs's webhooks to the host application (WEBHOOK_ENDPOINTS).
//
// Writing: the audit store calls `rowsFor` inside the transaction that appends an event, and
// inserts what it returns in that same transaction: a message exists exactly when its event
// does. Which events are announced: `issued` → `impersonation.started`, `signed_in` →
// `impersonation.signed_in`, and the end of an impersonation that was started (`ended`,
// `ticket_revoked`, a `failed` ticket sign-in) → `impersonation.ended`. Refusals and failures
// before a ticket existed are not announced (nothing happened in the customer's account).
//
// Reading and retrying (the audit page): `deliveries` and `retry`. Sending: dispatcher.ts.
import { randomBytes, randomUUID } from 'node:crypto'
import { ActAsError } from '@actas/contracts'
import type {
  AccessWebhook,
  AlertWebhook,
  ActAsWebhook,
  EndCause,
  ImpersonationStatus,
  RequestInfo,
  StaffPrincipal,
  WebhookDeliveriesOutput,
  WebhookDeliveriesParams,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhooksPort,
} from '@actas/contracts'
import { and, desc, eq } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { AuditDatabase } from '../audit/db.js'
import { encodeCursor, InvalidCursorError, olderThan } from '../audit/keyset.js'
import { webhookOutbox } from '../audit/schema.js'
import type { ImpersonationRow, NewWebhookOutboxRow, WebhookOutboxRow } from '../audit/schema.js'

/** What the outbox needs of an appended event. */
export interface AnnouncedEvent {
  seq: number
  type: string
  cause?: string | null | undefined
  by?: string | null | undefined
  clerkSessionId?: string | null | undefined
  createdAt: Date
}

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null

/**
 * The message an event announces, or null. `row` is the impersonation after the event, `from`
 * its status before. `timestamp` is when the message is created (Standard Webhooks' envelope).
 */
export function webhookFor(
  row: ImpersonationRow,
  event: AnnouncedEvent,
  from: ImpersonationStatus | null,
  timestamp: Date,
): ActAsWebhook | null {
  const common = {
    impersonationId: row.id,
    actor: { id: row.actorId, email: row.actorEmail },
    user: { id: row.userId },
    reason: row.reason,
    mode: row.mode,
    seq: event.seq,
    occurredAt: event.createdAt.toISOString(),
  }
  const envelope = { timestamp: timestamp.toISOString() }
  switch (event.type) {
    case 'issued':
      return {
        type: 'impersonation.started',
        ...envelope,
        data: {
          ...common,
          ticketExpiresAt: iso(row.expiresAt),
          sessionExpiresAt: iso(row.sessionExpiresAt),
        },
      }
    case 'signed_in':
      return {
        type: 'impersonation.signed_in',
        ...envelope,
        data: {
          ...common,
          clerkSessionId: event.clerkSessionId ?? null,
          sessionExpiresAt: iso(row.sessionExpiresAt),
        },
      }
    case 'ended':
    case 'ticket_revoked':
    case 'failed': {
      // A failure before the ticket was issued announces nothing: nothing was started.
      if (event.type === 'failed' && from !== 'issued') return null
      const status =
        event.type === 'ticket_revoked'
          ? 'revoked'
          : event.type === 'failed'
            ? 'failed'
            : row.status === 'expired'
              ? 'expired'
              : 'ended'
      return {
        type: 'impersonation.ended',
        ...envelope,
        data: {
          ...common,
          status,
          cause: event.type === 'ended' ? ((event.cause ?? row.endCause) as EndCause | null) : null,
          endedBy: event.by ?? null,
          clerkSessionId: event.clerkSessionId ?? row.clerkSessionId,
        },
      }
    }
    default:
      return null
  }
}

/** `msg_` + 27 random base62-ish characters, as Svix's ids look. */
function newMessageId(): string {
  return `msg_${randomBytes(24).toString('base64url').replace(/[-_]/g, '').slice(0, 27)}`
}

/** The endpoint as staff see it: no user info, no query string or fragment. */
export function displayEndpoint(url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return '(invalid URL)'
  }
}

export function toDelivery(row: WebhookOutboxRow): WebhookDelivery {
  return {
    id: row.id,
    messageId: row.messageId,
    type: row.type as WebhookDelivery['type'],
    impersonationId: row.impersonationId,
    endpoint: displayEndpoint(row.endpoint),
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    nextAttemptAt: row.status === 'pending' ? iso(row.nextAttemptAt) : null,
    deliveredAt: iso(row.deliveredAt),
    deadAt: iso(row.deadAt),
  }
}

export interface WebhookOutboxOptions {
  /** The configured endpoints' URLs (each message goes to every one). Empty: nothing is written. */
  endpoints: readonly string[]
  logger: Logger
  /** Wall-clock time: message timestamps and due times (signatures are checked against it). */
  clock?: () => Date
  /** Called after a transaction that wrote messages committed (the dispatcher sends at once). */
  onEnqueued?: () => void
}

export class WebhookOutbox implements WebhooksPort {
  private readonly clock: () => Date
  /** Set after construction by the dispatcher (it is built from the outbox). */
  onEnqueued: (() => void) | undefined

  constructor(
    private readonly db: AuditDatabase,
    private readonly o: WebhookOutboxOptions,
  ) {
    this.clock = o.clock ?? (() => new Date())
    this.onEnqueued = o.onEnqueued
  }

  get enabled(): boolean {
    return this.o.endpoints.length > 0
  }

  /**
   * The outbox rows announcing `events` (each with the status before it) of `row` (the
   * impersonation after them), one per event and endpoint. Pure; the audit store inserts them in
   * the event's transaction.
   */
  rowsFor(
    row: ImpersonationRow,
    events: ReadonlyArray<{ event: AnnouncedEvent; from: ImpersonationStatus | null }>,
  ): NewWebhookOutboxRow[] {
    if (this.o.endpoints.length === 0) return []
    const now = this.clock()
    return this.messageRows(
      events.flatMap(({ event, from }) => {
        const message = webhookFor(row, event, from, now)
        return message ? [{ subjectId: row.id, seq: event.seq, message }] : []
      }),
    )
  }

  /**
   * The outbox rows of `messages`, one per message and endpoint (`subjectId`: the impersonation,
   * or the access request, the message is about; `seq`: the event it announces). Pure.
   */
  messageRows(
    messages: ReadonlyArray<{
      subjectId: string
      seq: number
      message: ActAsWebhook | AccessWebhook | AlertWebhook
    }>,
  ): NewWebhookOutboxRow[] {
    if (this.o.endpoints.length === 0) return []
    const now = this.clock()
    const rows: NewWebhookOutboxRow[] = []
    for (const { subjectId, seq, message } of messages) {
      const body = JSON.stringify(message)
      const messageId = newMessageId()
      for (const endpoint of this.o.endpoints) {
        rows.push({
          id: randomUUID(),
          messageId,
          endpoint,
          type: message.type,
          impersonationId: subjectId,
          eventSeq: seq,
          body,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
        })
      }
    }
    return rows
  }

  /** After the transaction that inserted rows committed. */
  enqueued(): void {
    this.onEnqueued?.()
  }

  // ---- the audit page ----------------------------------------------------------------------

  deliveriesQuery(params: {
    status?: WebhookDeliveryStatus | undefined
    cursor?: string
    limit: number
  }) {
    const where: SQL[] = []
    if (params.status) where.push(eq(webhookOutbox.status, params.status))
    if (params.cursor) {
      try {
        where.push(
          olderThan(
            webhookOutbox.createdAt,
            webhookOutbox.id,
            params.cursor,
            'webhooks.deliveries',
          ),
        )
      } catch (error) {
        if (error instanceof InvalidCursorError)
          throw new ActAsError('INVALID_INPUT', error.message)
        throw error
      }
    }
    return this.db
      .select()
      .from(webhookOutbox)
      .where(and(...where))
      .orderBy(desc(webhookOutbox.createdAt), desc(webhookOutbox.id))
      .limit(params.limit + 1)
  }

  async deliveries(
    _principal: StaffPrincipal | null,
    params: WebhookDeliveriesParams,
  ): Promise<WebhookDeliveriesOutput> {
    const rows = await this.deliveriesQuery({
      status: params.status,
      ...(params.cursor ? { cursor: params.cursor } : {}),
      limit: params.limit,
    })
    const page = rows.slice(0, params.limit)
    const last = page.at(-1)
    return {
      items: page.map(toDelivery),
      next: rows.length > params.limit && last ? encodeCursor(last) : null,
      enabled: this.enabled,
    }
  }

  async retry(
    principal: StaffPrincipal | null,
    deliveryId: string,
    request?: RequestInfo,
  ): Promise<WebhookDelivery> {
    const now = this.clock()
    const [row] = await this.db
      .update(webhookOutbox)
      .set({
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        deadAt: null,
        updatedAt: now,
      })
      .where(and(eq(webhookOutbox.id, deliveryId), eq(webhookOutbox.status, 'dead')))
      .returning()
    if (!row) {
      const [existing] = await this.db
        .select({ status: webhookOutbox.status })
        .from(webhookOutbox)
        .where(eq(webhookOutbox.id, deliveryId))
      throw new ActAsError(
        'INVALID_INPUT',
        existing
          ? `Only a dead letter can be retried; this delivery is ${existing.status}.`
          : 'No webhook delivery has this id.',
      )
    }
    this.o.logger.info(
      {
        deliveryId,
        messageId: row.messageId,
        by: principal?.userId ?? null,
        requestId: request?.id ?? null,
      },
      'webhook dead letter retried by staff',
    )
    this.enqueued()
    return toDelivery(row)
  }
}
