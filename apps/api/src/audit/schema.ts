import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { IMPERSONATION_STATUSES } from '@actas/contracts'

/**
 * One row per `impersonation.start` attempt by a signed-in caller. Attempts that passed
 * authorization are written before Clerk is asked (status `pending`) and updated with the
 * outcome; attempts authorization refused (no `org:admin:impersonate`) are one `denied` row
 * written after the refusal, with `user_id`/`reason` empty when the input did not carry them
 * validly. Never holds the ticket.
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
    status: text('status', { enum: IMPERSONATION_STATUSES }).notNull(),
    outcomeCode: text('outcome_code'),
    outcomeMessage: text('outcome_message'),
    clerkActorTokenId: text('clerk_actor_token_id'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    sessionExpiresAt: timestamp('session_expires_at', { withTimezone: true, mode: 'date' }),
    revokedBy: text('revoked_by'),
    requestId: text('request_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('impersonations_created_idx').on(t.createdAt.desc(), t.id.desc()),
    index('impersonations_actor_idx').on(t.actorId, t.createdAt.desc()),
    index('impersonations_user_idx').on(t.userId, t.createdAt.desc()),
    index('impersonations_status_idx').on(t.status, t.createdAt.desc()),
  ],
)

export type ImpersonationRow = typeof impersonations.$inferSelect
export type NewImpersonationRow = typeof impersonations.$inferInsert

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
  (t) => [index('audit_reads_machine_idx').on(t.machineId, t.createdAt.desc())],
)

export type AuditReadRow = typeof auditReads.$inferSelect
export type NewAuditReadRow = typeof auditReads.$inferInsert
