// Keyset pages over (created_at, id), newest first, shared by the audit list and the webhook
// outbox: the cursor is the last row's pair, base64url JSON, opaque to clients.
import { sql } from 'drizzle-orm'
import type { AnyColumn, SQL } from 'drizzle-orm'

export class InvalidCursorError extends Error {}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url')
}

/** The pair `encodeCursor` wrote; anything else is forged (`procedure` names it in the error). */
export function decodeCursor(cursor: string, procedure: string): { createdAt: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string'
    ) {
      // An ISO instant that round-trips, in the years 0001–9999 (Postgres has no year 0000,
      // and `toISOString` writes others with a sign), and a UUID; anything else would make the
      // query fail.
      const createdAt = new Date(value[0])
      if (
        /^\d{4}-\d{2}-\d{2}T/.test(value[0]) &&
        !Number.isNaN(createdAt.getTime()) &&
        createdAt.getUTCFullYear() >= 1 &&
        createdAt.toISOString() === value[0] &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value[1])
      )
        return { createdAt: createdAt.toISOString(), id: value[1] }
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError(`This cursor was not returned by ${procedure}.`)
}

/** Rows after the cursor's row, newest first: a row comparison, one index range. */
export function olderThan(
  createdAt: AnyColumn,
  id: AnyColumn,
  cursor: string,
  procedure: string,
): SQL {
  const c = decodeCursor(cursor, procedure)
  return sql`(${createdAt}, ${id}) < (${c.createdAt}::timestamptz, ${c.id}::uuid)`
}
