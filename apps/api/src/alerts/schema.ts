// The alerts raised (migration 0011_alerts.sql): one row per rule, subject and window, the subject
// of its `alert.raised` event in the chain. Written only with that event (store.ts).
import { index, integer, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core'
import { ALERT_RULES } from '@actas/contracts'

export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey(),
    rule: text('rule', { enum: ALERT_RULES }).notNull(),
    /** A staff member's user id, a log stream's id, or `chain`. */
    subject: text('subject').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
    windowEnd: timestamp('window_end', { withTimezone: true, mode: 'date' }).notNull(),
    count: integer('count').notNull(),
    threshold: integer('threshold').notNull(),
    summary: text('summary').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    unique('alerts_rule_subject_window_unique').on(t.rule, t.subject, t.windowStart),
    index('alerts_created_idx').on(t.createdAt, t.id),
  ],
)

export type AlertRow = typeof alerts.$inferSelect
