// The access model's projections (see @actas/contracts access.ts): one row per access request
// or grant, and one per customer organization whose admins changed its setting. Like the
// impersonations row, each is a projection of its events in the audit chain (`audit_events`,
// whose `impersonation_id` column holds the subject's id for these events): only the event
// append writes them (model.ts says which column each event sets), migration 0009's triggers
// refuse any other write and any row that disagrees with its events at commit, and
// `audit:verify` recomputes every row from its events.
import { sql } from 'drizzle-orm'
import { boolean, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import {
  ACCESS_STATUSES,
  IMPERSONATION_MODES,
  OPEN_ACCESS_STATUSES,
  ORGANIZATION_ACCESS_SETTINGS,
} from '@actas/contracts'
import { sqlList } from '../audit/schema.js'

export const accessRequests = pgTable(
  'access_requests',
  {
    id: uuid('id').primaryKey(),
    /** The customer acted upon. */
    userId: text('user_id').notNull(),
    /** The staff member who asked; null for a grant the customer gave unasked (any staff member). */
    requestedBy: text('requested_by'),
    /** The request's reason, or the customer's note on a grant given unasked. */
    reason: text('reason').notNull(),
    /** The mode asked for (or granted unasked). */
    mode: text('mode', { enum: IMPERSONATION_MODES }).notNull(),
    /** How long the grant lasts once given. */
    minutes: integer('minutes').notNull(),
    /** The customer's consent is needed / a second staff member's approval is needed. */
    needsConsent: boolean('needs_consent').notNull(),
    needsApproval: boolean('needs_approval').notNull(),
    status: text('status', { enum: ACCESS_STATUSES }).notNull(),
    consentedBy: text('consented_by'),
    approvedBy: text('approved_by'),
    /** An undecided request expires then. */
    decideBy: timestamp('decide_by', { withTimezone: true, mode: 'date' }),
    /** The grant: its mode and window. */
    grantMode: text('grant_mode', { enum: IMPERSONATION_MODES }),
    grantedAt: timestamp('granted_at', { withTimezone: true, mode: 'date' }),
    grantEndsAt: timestamp('grant_ends_at', { withTimezone: true, mode: 'date' }),
    grantNote: text('grant_note'),
    /** Settled: when, by whom, why (`denied`, `revoked`, `expired`). */
    settledAt: timestamp('settled_at', { withTimezone: true, mode: 'date' }),
    settledBy: text('settled_by'),
    settledCause: text('settled_cause'),
    settledReason: text('settled_reason'),
    /** Refusals recorded on its timeline (`access.refused`). */
    refusals: integer('refusals').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('access_requests_user_idx').on(t.userId, t.createdAt, t.id),
    index('access_requests_requested_by_idx').on(t.requestedBy, t.createdAt, t.id),
    // Open ones (pending decisions, live grants): the policy's facts, approvers' list, expiry.
    index('access_requests_open_idx')
      .on(t.userId, t.status)
      .where(sql`status in (${sqlList(OPEN_ACCESS_STATUSES)})`),
    index('access_requests_open_created_idx')
      .on(t.createdAt, t.id)
      .where(sql`status in (${sqlList(OPEN_ACCESS_STATUSES)})`),
  ],
)

export type AccessRequestRow = typeof accessRequests.$inferSelect

/** A customer organization's own setting, as its admins last set it. */
export const organizationAccessSettings = pgTable('organization_access_settings', {
  organizationId: text('organization_id').primaryKey(),
  /** Its name when the setting was last changed (messages). */
  organizationName: text('organization_name').notNull(),
  /** The id its events carry in the chain (`audit_events.impersonation_id`). */
  subjectId: uuid('subject_id').notNull().unique(),
  setting: text('setting', { enum: ORGANIZATION_ACCESS_SETTINGS }).notNull(),
  changedBy: text('changed_by').notNull(),
  changedAt: timestamp('changed_at', { withTimezone: true, mode: 'date' }).notNull(),
})

export type OrganizationAccessSettingRow = typeof organizationAccessSettings.$inferSelect
