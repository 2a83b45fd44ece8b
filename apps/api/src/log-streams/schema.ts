// The log streams' cursors (migration 0010_log_streams.sql): one row per configured stream.
import { LOG_STREAM_STATES } from '@actas/contracts'
import { bigint, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

export const logStreams = pgTable('log_streams', {
  id: text('id').primaryKey(),
  /** The last chain position the receiver accepted (0: none yet). */
  cursorSeq: bigint('cursor_seq', { mode: 'number' }).notNull().default(0),
  state: text('state', { enum: LOG_STREAM_STATES }).notNull().default('active'),
  /** Failed attempts in a row (0 after a delivery). */
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
  /** While a batch is in flight: until when this instance holds the stream. */
  leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
  deliveredEvents: bigint('delivered_events', { mode: 'number' }).notNull().default(0),
  lastDeliveredAt: timestamp('last_delivered_at', { withTimezone: true, mode: 'date' }),
  lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true, mode: 'date' }),
  lastStatusCode: integer('last_status_code'),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
})

export type LogStreamRow = typeof logStreams.$inferSelect
