// Opens the audit database: embedded PGlite by default (a directory, or memory for tests), a
// Postgres server when DATABASE_URL is set. Applies the committed migrations either way.
//
// Faults on a Postgres server never end the process: every pooled client has an 'error'
// listener (a backend terminated by pg_terminate_backend, a server restart or a dropped network
// connection is logged, the client is discarded and the pool opens a new one on the next query).
// Nothing waits unbounded: a free connection is awaited at most `acquireTimeoutMs`, a statement
// runs at most `statementTimeoutMs` on the server (`statement_timeout`) and the client gives up
// one second after that (`query_timeout`, for a server that does not answer at all, e.g. frozen).
// Such errors are recognised by `isDatabaseUnavailable` and answered 503 with Retry-After.
import { chmodSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ActAsError } from '@actas/contracts'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { Logger } from 'pino'
import { knownMigrations, migrateUnderLock } from './migrations.js'
import type { MigrationResult } from './migrations.js'
import * as schema from './schema.js'

export type AuditDatabase = PgDatabase<PgQueryResultHKT, typeof schema>

export interface OpenedDatabase {
  db: AuditDatabase
  kind: 'pglite' | 'postgres'
  /** What opening it migrated (absent for a database opened elsewhere, e.g. a test's). */
  migrations?: MigrationResult
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface PostgresTimeouts {
  /** Server-side `statement_timeout` (ms); the client gives up 1 s later. Default 2000. */
  statementTimeoutMs?: number
  /** Longest wait for a pooled connection, connecting included (ms). Default 5000. */
  acquireTimeoutMs?: number
}

export type DatabaseConfig =
  | ({ kind: 'postgres'; url: string; schema?: string } & PostgresTimeouts)
  | {
      kind: 'pglite'
      dataDir: string | undefined
      /**
       * A data directory dumped by PGlite's `dumpDataDir()` to start from instead of a fresh
       * initdb (tests: a migrated template is several times faster to load than to create).
       */
      loadDataDir?: Blob
    }

export interface OpenDatabaseOptions {
  /** Where pool and connection errors are logged (default: nowhere, they are still handled). */
  logger?: Pick<Logger, 'warn'>
}

// (Not `new URL('…', import.meta.url)` inline: Vite rewrites that form into an asset URL when
// the console's component tests load the API in-process through @actas/api/testing.)
const moduleUrl = import.meta.url
const migrationsFolder = fileURLToPath(new URL('../../drizzle', moduleUrl))
/** Drizzle's default schema of its `__drizzle_migrations` table (PGlite keeps it there). */
const PGLITE_MIGRATIONS_SCHEMA = 'drizzle'

/** Node socket errors that mean "the server is not there (now)". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** Messages of node-postgres for a connection that died, never came, or did not answer. */
const PG_CLIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable',
  'Cannot use a pool after calling end',
]

/**
 * SQLSTATEs that say the server is unavailable or the statement ran out of time, not that the
 * statement is wrong: connection exceptions (08), insufficient resources (53), operator
 * intervention (57: query_canceled by statement_timeout, admin/crash shutdown, cannot connect
 * now) and serialization failures (40001, 40P01), which a retry may pass.
 */
function isUnavailableSqlState(code: string): boolean {
  return /^(08|53|57)/.test(code) || code === '40001' || code === '40P01'
}

/**
 * Whether `error` (or any error in its `cause` chain, e.g. inside Drizzle's DrizzleQueryError)
 * means the database is unreachable, restarting, overloaded or too slow: answered 503 with
 * Retry-After, never 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    if (typeof e !== 'object') return false
    const { code, message } = e as { code?: unknown; message?: unknown }
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || isUnavailableSqlState(code)))
      return true
    // A server on a unix socket that is down: its socket file is gone (connect ENOENT).
    if (code === 'ENOENT' && (e as { syscall?: unknown }).syscall === 'connect') return true
    if (typeof message === 'string' && PG_CLIENT_MESSAGES.some((m) => message.includes(m)))
      return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

export async function openDatabase(
  config: DatabaseConfig,
  options: OpenDatabaseOptions = {},
): Promise<OpenedDatabase> {
  if (config.kind === 'postgres') {
    const { default: pg } = await import('pg')
    const { drizzle } = await import('drizzle-orm/node-postgres')
    const { migrate } = await import('drizzle-orm/node-postgres/migrator')
    const schemaName = config.schema ?? 'public'
    const statementTimeoutMs = config.statementTimeoutMs ?? 2000
    const acquireTimeoutMs = config.acquireTimeoutMs ?? 5000
    const pool = new pg.Pool({
      connectionString: config.url,
      max: 10,
      application_name: 'actas-api',
      connectionTimeoutMillis: acquireTimeoutMs,
      statement_timeout: statementTimeoutMs,
      query_timeout: statementTimeoutMs + 1000,
      // A session left inside a transaction (its client gave up on it) ends on the server and
      // frees its locks, e.g. the audit chain head's.
      idle_in_transaction_session_timeout: Math.max(10_000, statementTimeoutMs * 5),
      // Every connection resolves the (unqualified) audit tables in the configured schema.
      options: `-c search_path=${schemaName}`,
    })
    const warn = (err: unknown, message: string) => {
      options.logger?.warn({ err: errorSummary(err) }, message)
    }
    // An idle client's error is re-emitted by the pool (an unhandled 'error' event would end the
    // process); a checked-out client's error is the query's error, and the listener below keeps
    // it from being re-thrown as an event too (transactions hold a client outside pool.query).
    pool.on('error', (err) => warn(err, 'database connection lost (idle); the pool will reconnect'))
    pool.on('connect', (client) => {
      client.on('error', (err) => warn(err, 'database connection lost'))
    })
    // A client checked out with pool.connect() (Drizzle's transactions) whose query failed for
    // want of the database (timed out, connection lost) is discarded when released, never
    // reused: it may still be running that query, or hold a transaction whose ROLLBACK never
    // reached the server (Drizzle releases it without the error).
    const connect = pool.connect.bind(pool)
    const watched = new WeakSet<object>()
    const broken = new WeakSet<object>()
    const checkout = async () => {
      const client = await connect()
      if (!watched.has(client)) {
        // Once per connection (the pool hands the same client out again).
        watched.add(client)
        const query = client.query.bind(client) as (...args: unknown[]) => unknown
        client.query = ((...args: unknown[]) => {
          const result = query(...args)
          if (result instanceof Promise)
            return result.catch((error: unknown) => {
              if (isDatabaseUnavailable(error)) broken.add(client)
              throw error
            })
          return result
        }) as typeof client.query
      }
      // The pool gives every checkout a fresh release().
      const release = client.release.bind(client)
      client.release = (err?: Error | boolean) =>
        release(
          err ??
            (broken.has(client)
              ? new Error('connection discarded after a failed query')
              : undefined),
        )
      return client
    }
    // pool.query() checks out with a callback and discards failed clients itself.
    pool.connect = ((callback?: unknown) =>
      typeof callback === 'function'
        ? (connect as (cb: unknown) => void)(callback)
        : checkout()) as typeof pool.connect
    const db = drizzle({ client: pool, schema })
    let migrations: MigrationResult
    try {
      // Under an advisory lock (audit/migrations.ts): instances starting together never race.
      const client = await connect()
      try {
        migrations = await migrateUnderLock({
          connection: client,
          migrationsSchema: schemaName,
          createSchema: schemaName,
          known: knownMigrations(migrationsFolder),
          migrate: () => migrate(db, { migrationsFolder, migrationsSchema: schemaName }),
        })
      } finally {
        client.release()
      }
    } catch (error) {
      await pool.end()
      throw error
    }
    return {
      db: db as unknown as AuditDatabase,
      kind: 'postgres',
      migrations,
      ping: async () => {
        await pool.query('select 1')
      },
      close: () => pool.end(),
    }
  }

  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  const { migrate } = await import('drizzle-orm/pglite/migrator')
  const dataDir = config.dataDir
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    restrictModes(dataDir)
  }
  const client = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(config.loadDataDir ? { loadDataDir: config.loadDataDir } : {}),
  })
  const db = drizzle({ client, schema })
  let migrations: MigrationResult
  try {
    // One process, one connection: the lock is always free, and taken all the same.
    migrations = await migrateUnderLock({
      connection: client,
      migrationsSchema: PGLITE_MIGRATIONS_SCHEMA,
      known: knownMigrations(migrationsFolder),
      migrate: () => migrate(db, { migrationsFolder }),
    })
  } catch (error) {
    await client.close()
    throw error
  }
  // PGlite writes its files 0666 (its virtual file system ignores the umask): owner-only now,
  // and again on close for the files it created meanwhile. The directory itself is 0700, so
  // nobody else can reach them in between.
  if (dataDir) restrictModes(dataDir)
  return {
    db: db as unknown as AuditDatabase,
    kind: 'pglite',
    migrations,
    ping: async () => {
      await client.query('select 1')
    },
    close: async () => {
      await client.close()
      if (dataDir) restrictModes(dataDir)
    },
  }
}

/** The embedded data directory and everything in it: directories 0700, files 0600. */
function restrictModes(dir: string): void {
  chmodSync(dir, 0o700)
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) restrictModes(path)
    else if (entry.isFile()) chmodSync(path, 0o600)
  }
}

/** What is logged of a connection error: its code and message (never a connection string). */
function errorSummary(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; message?: unknown } | null
  return {
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    message: typeof e?.message === 'string' ? e.message : String(err),
  }
}

/** Seconds a caller is asked to wait when the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5

/**
 * The database-unavailable error (see `isDatabaseUnavailable`) as `SERVICE_UNAVAILABLE` with
 * Retry-After, or null for any other error. The router's one error mapper applies it to every
 * procedure and port (contracts' `classifyError`): the caller gets 503, not 500.
 */
export function databaseFault(error: unknown): ActAsError | null {
  if (error instanceof ActAsError || !isDatabaseUnavailable(error)) return null
  return new ActAsError(
    'SERVICE_UNAVAILABLE',
    'The audit database is unavailable; try again in a moment.',
    { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, cause: error },
  )
}
