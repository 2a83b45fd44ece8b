// Opens the audit database: embedded PGlite by default (a directory, or memory for tests), a
// Postgres server when DATABASE_URL is set. Applies the committed migrations either way.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import * as schema from './schema.js'

export type AuditDatabase = PgDatabase<PgQueryResultHKT, typeof schema>

export interface OpenedDatabase {
  db: AuditDatabase
  kind: 'pglite' | 'postgres'
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>
  close(): Promise<void>
}

export type DatabaseConfig =
  | { kind: 'postgres'; url: string; schema?: string }
  | { kind: 'pglite'; dataDir: string | undefined }

// (Not `new URL('…', import.meta.url)` inline: Vite rewrites that form into an asset URL when
// the console's component tests load the API in-process through @actas/api/testing.)
const moduleUrl = import.meta.url
const migrationsFolder = fileURLToPath(new URL('../../drizzle', moduleUrl))

export async function openDatabase(config: DatabaseConfig): Promise<OpenedDatabase> {
  if (config.kind === 'postgres') {
    const { default: pg } = await import('pg')
    const { drizzle } = await import('drizzle-orm/node-postgres')
    const { migrate } = await import('drizzle-orm/node-postgres/migrator')
    const schemaName = config.schema ?? 'public'
    const pool = new pg.Pool({
      connectionString: config.url,
      max: 10,
      connectionTimeoutMillis: 5000,
      // Every connection resolves the (unqualified) audit tables in the configured schema.
      options: `-c search_path=${schemaName}`,
    })
    const db = drizzle({ client: pool, schema })
    try {
      await pool.query(`create schema if not exists "${schemaName}"`)
      await migrate(db, { migrationsFolder, migrationsSchema: schemaName })
    } catch (error) {
      await pool.end()
      throw error
    }
    return {
      db: db as unknown as AuditDatabase,
      kind: 'postgres',
      ping: async () => {
        await pool.query('select 1')
      },
      close: () => pool.end(),
    }
  }

  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  const { migrate } = await import('drizzle-orm/pglite/migrator')
  if (config.dataDir) mkdirSync(config.dataDir, { recursive: true })
  const client = config.dataDir ? await PGlite.create(config.dataDir) : await PGlite.create()
  const db = drizzle({ client, schema })
  try {
    await migrate(db, { migrationsFolder })
  } catch (error) {
    await client.close()
    throw error
  }
  return {
    db: db as unknown as AuditDatabase,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1')
    },
    close: () => client.close(),
  }
}
