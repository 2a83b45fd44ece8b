// `pnpm db:migrate`: applies the committed migrations to the configured audit database
// (DATABASE_URL + DATABASE_SCHEMA, else the PGlite directory ACTAS_DATA_DIR) and exits. Every
// instance also migrates when it starts, under the same advisory lock (audit/migrations.ts), so
// this is for deploys that migrate once before rolling out new instances. Exit code 0 when the
// schema is up to date, 1 when not (a newer schema than this build knows included).
// Reads only the database variables (config.ts `loadAuditToolConfig`: no Clerk keys needed).
import { ConfigError, loadAuditToolConfig } from '../config.js'
import { openDatabase } from './db.js'

async function main(): Promise<number> {
  const { database: config } = loadAuditToolConfig(process.env)
  const database = await openDatabase(config)
  try {
    const { applied = 0, total = 0 } = database.migrations ?? {}
    process.stdout.write(
      `audit database (${database.kind}) migrated: ${applied} applied now, ${total} in all\n`,
    )
    return 0
  } finally {
    await database.close()
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof ConfigError ? '' : 'db:migrate failed: '}${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exit(1)
  },
)
