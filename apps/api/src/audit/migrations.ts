// Runs the committed migrations (drizzle/) under a Postgres advisory lock, so instances that
// start together on an empty schema never race: the first applies them, the others wait for the
// lock and then find nothing left to apply. Before applying anything it refuses a schema that a
// newer ActAs already migrated past what this build knows (a rollback onto an upgraded database):
// running old code on a newer schema could write rows the new code no longer understands.
//
// The lock is taken on one connection with `pg_try_advisory_lock`, polled, so waiting for another
// instance's migration never runs into `statement_timeout`. PGlite is one process with one
// connection: the same code runs there (the lock is then always free).
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { MigrationMeta } from 'drizzle-orm/migrator'

/** How long an instance waits for another one's migration before giving up. */
const LOCK_WAIT_MS = 120_000
const LOCK_POLL_MS = 100

/** One connection to run statements on (a pooled pg client, or PGlite itself). */
export interface MigrationConnection {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

export interface MigrationResult {
  /** Migrations this call applied (0 when another instance, or an earlier start, did). */
  applied: number
  /** Migrations recorded in the database afterwards. */
  total: number
}

/** The database was migrated by a newer ActAs than this one: it refuses to start. */
export class SchemaTooNewError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SchemaTooNewError'
  }
}

export function knownMigrations(migrationsFolder: string): MigrationMeta[] {
  return readMigrationFiles({ migrationsFolder })
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`

/**
 * Under the advisory lock of `lockName`: creates `schema` when asked, refuses a schema newer
 * than `known`, then `migrate()` (drizzle's migrator), and reports how many it applied.
 */
export async function migrateUnderLock(options: {
  connection: MigrationConnection
  /** Schema of drizzle's `__drizzle_migrations` table. */
  migrationsSchema: string
  /** Created (if missing) under the lock before migrating, e.g. DATABASE_SCHEMA. */
  createSchema?: string
  known: MigrationMeta[]
  migrate: () => Promise<void>
}): Promise<MigrationResult> {
  const { connection, migrationsSchema, known } = options
  const lockName = `actas:migrations:${migrationsSchema}`
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    const { rows } = await connection.query(
      'select pg_try_advisory_lock(hashtextextended($1, 0)) as locked',
      [lockName],
    )
    if (rows[0]?.['locked'] === true) break
    if (Date.now() > deadline)
      throw new Error(
        `another ActAs instance has held the migration lock for ${LOCK_WAIT_MS / 1000} s; is a migration stuck?`,
      )
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS))
  }
  try {
    if (options.createSchema)
      await connection.query(`create schema if not exists ${quote(options.createSchema)}`)
    const before = await recorded(connection, migrationsSchema)
    const newestKnown = known.at(-1)
    const newestApplied = before.at(-1)
    if (newestApplied && (!newestKnown || newestApplied.createdAt > newestKnown.folderMillis)) {
      const unknown = before.filter((m) => !newestKnown || m.createdAt > newestKnown.folderMillis)
      throw new SchemaTooNewError(
        `The audit database (schema ${migrationsSchema}) was migrated by a newer ActAs: it has ` +
          `${unknown.length} migration(s) this version does not know (newest from ` +
          `${new Date(newestApplied.createdAt).toISOString()}; this version knows ${known.length}, ` +
          `the newest from ${newestKnown ? new Date(newestKnown.folderMillis).toISOString() : 'never'}). ` +
          'Refusing to start: run the ActAs version that migrated it (or newer).',
      )
    }
    await options.migrate()
    const after = await recorded(connection, migrationsSchema)
    return { applied: after.length - before.length, total: after.length }
  } finally {
    await connection.query('select pg_advisory_unlock(hashtextextended($1, 0))', [lockName])
  }
}

/** The migrations recorded in the database, oldest first (none before the first migration). */
async function recorded(
  connection: MigrationConnection,
  migrationsSchema: string,
): Promise<{ hash: string; createdAt: number }[]> {
  const table = `${quote(migrationsSchema)}.__drizzle_migrations`
  const { rows: exists } = await connection.query('select to_regclass($1) is not null as present', [
    table,
  ])
  if (exists[0]?.['present'] !== true) return []
  const { rows } = await connection.query(
    `select hash, created_at from ${table} order by created_at, id`,
  )
  return rows.map((r) => ({ hash: String(r['hash']), createdAt: Number(r['created_at']) }))
}
