import { sql } from 'drizzle-orm'
import {
  bigint,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core'
import {
  BILLING_EVENT_TYPE,
  IMPERSONATION_MODES,
  IMPERSONATION_STATUSES,
  OPEN_IMPERSONATION_STATUSES,
  SETTLING_EVENT_TYPES,
  WEBHOOK_DELIVERY_STATUSES,
} from '@actas/contracts'

/**
 * `'a', 'b'`: a constant list written into SQL as literals, for the partial indexes' predicates
 * and the queries that must match them word for word (so the planner uses them).
 */
export const sqlList = (values: readonly string[]) =>
  sql.raw(values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', '))

/**
 * One row per `impersonation.start` attempt by a signed-in caller: who, whom, why, for how long,
 * and the request's metadata. What happens to it afterwards is in `audit_events` (append-only,
 * hash-chained); the columns after `status` are a projection of those events, written in the same
 * transaction as each event (so lists and filters need no join). Never holds the ticket.
 */
export const impersonations = pgTable(
  'impersonations',
  {
    id: uuid('id').primaryKey(),
    actorId: text('actor_id').notNull(),
    actorEmail: text('actor_email'),
    actorSessionId: text('actor_session_id'),
    actorOrganizationId: text('actor_organization_id'),
    userId: text('user_id').notNull(),
    userEmail: text('user_email'),
    reason: text('reason').notNull(),
    ticketUrl: text('ticket_url'),
    sessionMinutes: integer('session_minutes').notNull(),
    /** `read_only` or `full` (also in the `requested` event's data); rows from before modes: full. */
    mode: text('mode', { enum: IMPERSONATION_MODES }).notNull().default('full'),
    /** Derived from the events (lifecycle.ts), written with each event. */
    status: text('status', { enum: IMPERSONATION_STATUSES }).notNull(),
    outcomeCode: text('outcome_code'),
    outcomeMessage: text('outcome_message'),
    clerkActorTokenId: text('clerk_actor_token_id'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    sessionExpiresAt: timestamp('session_expires_at', { withTimezone: true, mode: 'date' }),
    revokedBy: text('revoked_by'),
    clerkSessionId: text('clerk_session_id'),
    signedInAt: timestamp('signed_in_at', { withTimezone: true, mode: 'date' }),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
    endCause: text('end_cause'),
    endedBy: text('ended_by'),
    endReason: text('end_reason'),
    /** >1: an aggregate record of that many refused attempts (flood control). */
    attempts: integer('attempts').notNull().default(1),
    requestId: text('request_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  // Ascending keys: the lists' `ORDER BY created_at DESC, id DESC` is a backward scan of them
  // (DESC NULLS FIRST = ASC NULLS LAST backwards). The columns are NOT NULL, but the planner
  // only matches an index whose NULLS order is the query's.
  (t) => [
    index('impersonations_created_idx').on(t.createdAt, t.id),
    index('impersonations_actor_idx').on(t.actorId, t.createdAt, t.id),
    index('impersonations_user_idx').on(t.userId, t.createdAt, t.id),
    index('impersonations_status_idx').on(t.status, t.createdAt, t.id),
    index('impersonations_actor_status_idx').on(t.actorId, t.status, t.createdAt, t.id),
    // Live ones, for the lifecycle (reconciler, board): small, partial.
    index('impersonations_open_idx')
      .on(t.createdAt)
      .where(sql`status in (${sqlList(OPEN_IMPERSONATION_STATUSES)})`),
    index('impersonations_clerk_session_idx')
      .on(t.clerkSessionId)
      .where(sql`clerk_session_id is not null`),
  ],
)

export type ImpersonationRow = typeof impersonations.$inferSelect
export type NewImpersonationRow = typeof impersonations.$inferInsert

/**
 * The audit log proper: everything that happens to an impersonation, one event per row, never
 * updated or deleted (a trigger refuses both). `seq` is the position in one chain across all
 * impersonations; `hash = sha256(prev_hash ‖ canonical JSON of the event)` (chain.ts), appended
 * under the lock of `audit_chain_head` so the chain stays linear across API instances. `data` is
 * the canonical JSON text of the event's details (flat, scalar values), kept as text so the hash
 * covers exactly the stored bytes.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    /**
     * The event's subject: an impersonation, or (the access model's events, access/schema.ts) an
     * access request or an organization's setting. Migration 0009's trigger checks it exists.
     */
    impersonationId: uuid('impersonation_id').notNull(),
    type: text('type').notNull(),
    cause: text('cause'),
    by: text('by'),
    reason: text('reason'),
    clerkSessionId: text('clerk_session_id'),
    data: text('data').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_events_impersonation_idx').on(t.impersonationId, t.seq),
    // The monthly quota counts issued tickets from this (index-only scan over one month).
    index('audit_events_issued_idx')
      .on(t.createdAt)
      .where(sql`type = ${sqlList([BILLING_EVENT_TYPE])}`),
    // sessions.revoked pages through the settling events by seq (a guard's poll), and starts
    // from the first one of the lookback window by time: two small partial indexes.
    index('audit_events_settling_seq_idx')
      .on(t.seq)
      .where(sql`type in (${sqlList(SETTLING_EVENT_TYPES)})`),
    index('audit_events_settling_created_idx')
      .on(t.createdAt, t.seq)
      .where(sql`type in (${sqlList(SETTLING_EVENT_TYPES)})`),
  ],
)

export type AuditEventRow = typeof auditEvents.$inferSelect

/** The chain's head: one row (id 1), taken FOR UPDATE by every append. */
export const auditChainHead = pgTable('audit_chain_head', {
  id: smallint('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  /** The last signed checkpoint's seq and time (0 / null: none yet). */
  checkpointSeq: bigint('checkpoint_seq', { mode: 'number' }).notNull().default(0),
  checkpointAt: timestamp('checkpoint_at', { withTimezone: true, mode: 'date' }),
})

/**
 * Signed checkpoints: every N events or M minutes the head (seq, hash) is signed with the
 * Ed25519 key AUDIT_SIGNING_KEY, so an exported log can be checked by someone holding only the
 * public key. Append-only like the events.
 */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  hash: text('hash').notNull(),
  signedAt: timestamp('signed_at', { withTimezone: true, mode: 'date' }).notNull(),
  /** sha256 of the public key (SPKI DER), hex: which key signed. */
  keyId: text('key_id').notNull(),
  /** Ed25519 signature (base64) of `checkpointMessage(seq, hash, signedAt)`. */
  signature: text('signature').notNull(),
})

export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect

/**
 * One row per read of the audit log by a machine (`impersonation.list` with an M2M token): who
 * read (machine id, M2M token id), what they asked for (the filters, never a token) and how many
 * rows they got. Audit reads by machines are themselves audited.
 */
export const auditReads = pgTable(
  'audit_reads',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: ['audit_read'] }).notNull(),
    machineId: text('machine_id').notNull(),
    tokenId: text('token_id'),
    procedure: text('procedure').notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    rowCount: integer('row_count').notNull(),
    requestId: text('request_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('audit_reads_machine_idx').on(t.machineId, t.createdAt.desc()),
    // Retention (AUDIT_RETENTION_DAYS) deletes the oldest.
    index('audit_reads_created_idx').on(t.createdAt),
  ],
)

export type AuditReadRow = typeof auditReads.$inferSelect
export type NewAuditReadRow = typeof auditReads.$inferInsert

/**
 * Clerk webhook deliveries already handled, by `svix-id` (Svix retries and duplicates carry the
 * same id): a replay is answered 200 and ignored. Only the id, the event type and when it came.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    svixId: text('svix_id').primaryKey(),
    type: text('type').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  // Retention (AUDIT_RETENTION_DAYS) deletes the oldest.
  (t) => [index('webhook_deliveries_received_idx').on(t.receivedAt)],
)

/**
 * ActAs's own webhooks to the host application (WEBHOOK_ENDPOINTS), as an outbox: one row per
 * message and endpoint, inserted in the transaction that appends the audit event it announces
 * (so a row exists exactly when its event does, and nothing is lost while an endpoint is down).
 * `body` is the JSON sent, byte for byte, on every attempt; `message_id` is the `webhook-id`
 * header (the same on every attempt, and for every endpoint of one event). The dispatcher
 * (webhooks/dispatcher.ts) claims due rows with `FOR UPDATE SKIP LOCKED`, so several API
 * instances never send one row at once. Never holds an endpoint's secret.
 */
export const webhookOutbox = pgTable(
  'webhook_outbox',
  {
    id: uuid('id').primaryKey(),
    messageId: text('message_id').notNull(),
    /** The endpoint's URL as configured (the secret is looked up in config by it). */
    endpoint: text('endpoint').notNull(),
    type: text('type').notNull(),
    impersonationId: uuid('impersonation_id').notNull(),
    /** The audit event this message announces. */
    eventSeq: bigint('event_seq', { mode: 'number' })
      .notNull()
      .references(() => auditEvents.seq),
    body: text('body').notNull(),
    status: text('status', { enum: WEBHOOK_DELIVERY_STATUSES }).notNull(),
    /** Attempts made (a claimed attempt counts at once; a staff retry of a dead letter resets it). */
    attempts: integer('attempts').notNull().default(0),
    /** When the row is next due (pending); while an attempt is in flight, the end of its lease. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    deadAt: timestamp('dead_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    // The dispatcher's claim: due pending rows, soonest first (small, partial).
    index('webhook_outbox_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`status = 'pending'`),
    // The audit page's lists, newest first (scanned backwards), all or by status.
    index('webhook_outbox_created_idx').on(t.createdAt, t.id),
    index('webhook_outbox_status_idx').on(t.status, t.createdAt, t.id),
    index('webhook_outbox_event_idx').on(t.eventSeq),
    // Retention (AUDIT_RETENTION_DAYS) deletes delivered rows, the oldest first.
    index('webhook_outbox_delivered_idx')
      .on(t.deliveredAt)
      .where(sql`status = 'delivered'`),
  ],
)

export type WebhookOutboxRow = typeof webhookOutbox.$inferSelect
export type NewWebhookOutboxRow = typeof webhookOutbox.$inferInsert

/**
 * Counters the database keeps itself (statement triggers, migration 0005), in the transaction of
 * each write: impersonation rows per UTC day of creation and current status (`status:<status>`),
 * and `issued` events per UTC day (`event:issued`). `AuditStore.count` and the monthly quota add
 * them up for whole days and count only the partial days at a range's edges from the indexes, so
 * no count reads more than two days of rows.
 */
export const auditCounts = pgTable(
  'audit_counts',
  {
    day: date('day', { mode: 'string' }).notNull(),
    key: text('key').notNull(),
    n: bigint('n', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.day] })],
)

/**
 * The action trail: what an impersonated session did in the host application, as a guard
 * (`@actas/guard`) reported it through `impersonation.actions`: method, route pattern, status,
 * time, and which machine reported it. Append-only (a trigger refuses UPDATE, DELETE and
 * TRUNCATE), but outside the hash chain: a busy session reports hundreds of requests, and
 * chaining each one would serialize every guard's batch behind the chain head's lock that
 * decisions (start, sign-in, end) take. The chain holds who decided what; this table holds what
 * happened meanwhile, linked by the impersonation id.
 */
export const impersonationActions = pgTable(
  'impersonation_actions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    impersonationId: uuid('impersonation_id')
      .notNull()
      .references(() => impersonations.id),
    clerkSessionId: text('clerk_session_id').notNull(),
    method: text('method').notNull(),
    route: text('route').notNull(),
    status: smallint('status').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    /** The machine (`mch_…`) whose guard reported it. */
    reportedBy: text('reported_by').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('impersonation_actions_timeline_idx').on(t.impersonationId, t.at, t.id)],
)

export type ImpersonationActionRow = typeof impersonationActions.$inferSelect

/**
 * IMPERSONATION_QUOTA_MODE=block: the slot a start in flight holds between the quota gate
 * (quota.ts) and its `issued` (or `failed`) event. Outside the chain and outside the projection:
 * a reservation counts while its impersonation is `pending` and `expires_at` is ahead; once the
 * `issued` event is appended the event holds the slot. Expired ones are pruned (retention).
 */
export const quotaReservations = pgTable(
  'quota_reservations',
  {
    impersonationId: uuid('impersonation_id')
      .primaryKey()
      .references(() => impersonations.id),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('quota_reservations_expires_idx').on(t.expiresAt)],
)
