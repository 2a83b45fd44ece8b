// Migrations on a real Postgres server (the servers run's DATABASE_URL, a fresh schema per test):
// instances started together on an empty schema all come up and the migrations run once (the
// advisory lock of audit/migrations.ts); an instance refuses a schema newer than it knows, with a
// message that says so; `db:migrate` migrates and exits. PGlite runs the same lock and refusal.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDeps,
  createLogger,
  localClerkEnvironment,
  loadConfig,
  openDatabase,
} from '../../src/index.js'
import type { AppDeps } from '../../src/index.js'
import { knownMigrations } from '../../src/audit/migrations.js'

const DATABASE_URL = process.env['DATABASE_URL'] ?? ''
const apiDir = fileURLToPath(new URL('../..', import.meta.url))
const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url))
const known = knownMigrations(migrationsFolder)
const tsx = fileURLToPath(import.meta.resolve('tsx/cli'))

let clerk: ClerkLocal
let admin: pg.Pool
const schemas: string[] = []

const freshSchema = () => {
  const name = `mig_${randomBytes(5).toString('hex')}`
  schemas.push(name)
  return name
}

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  clerk = await startClerkLocal({ port: 0, users: 5, seed: 4 })
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
}, 120_000)

afterAll(async () => {
  for (const schema of schemas) await admin.query(`drop schema if exists "${schema}" cascade`)
  await admin?.end()
  await clerk?.stop()
})

const configFor = (schema: string) =>
  loadConfig({
    ...localClerkEnvironment(clerk, 'http://localhost:5173'),
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    MEMBERSHIP_MIRROR_REFRESH_SECONDS: '0',
    RECONCILER_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'warn',
  })

async function recorded(schema: string): Promise<{ hash: string; created_at: string }[]> {
  const { rows } = await admin.query<{ hash: string; created_at: string }>(
    `select hash, created_at from "${schema}".__drizzle_migrations order by id`,
  )
  return rows
}

describe('instances starting together on an empty schema', () => {
  it('all come up, and the migrations run once', async () => {
    const schema = freshSchema()
    const config = configFor(schema)
    const started = await Promise.allSettled(
      [0, 1, 2].map(() => createDeps(config, { logger: createLogger('error') })),
    )
    const deps = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
    try {
      expect(started.filter((s) => s.status === 'rejected')).toEqual([])
      // One instance applied every migration, the others none.
      const applied = deps.map((d: AppDeps) => d.database.migrations?.applied).sort()
      expect(applied).toEqual([0, 0, known.length])
      // Each migration recorded once, in order.
      const rows = await recorded(schema)
      expect(rows.map((r) => r.hash)).toEqual(known.map((m) => m.hash))
      // And the schema works from every instance.
      for (const d of deps) await expect(d.audit.listOpen()).resolves.toEqual([])
    } finally {
      await Promise.all(deps.map((d) => d.close()))
    }
  })
})

describe('a schema newer than this build knows', () => {
  it('is refused at start with a message that says why, and is left untouched', async () => {
    const schema = freshSchema()
    const first = await openDatabase({ kind: 'postgres', url: DATABASE_URL, schema })
    await first.close()
    const future = known.at(-1)!.folderMillis + 86_400_000
    await admin.query(
      `insert into "${schema}".__drizzle_migrations (hash, created_at) values ('from-a-newer-actas', $1)`,
      [future],
    )
    const before = await recorded(schema)
    await expect(createDeps(configFor(schema), { logger: createLogger('silent') })).rejects.toThrow(
      /migrated by a newer ActAs: it has 1 migration\(s\) this version does not know.*Refusing to start/,
    )
    expect(await recorded(schema)).toEqual(before)
  })

  it('is refused on PGlite too', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: undefined })
    const future = known.at(-1)!.folderMillis + 1
    await database.db.execute(
      `insert into drizzle.__drizzle_migrations (hash, created_at) values ('newer', ${future})`,
    )
    const blob = await (
      database as unknown as { db: { $client: { dumpDataDir(): Promise<Blob> } } }
    ).db.$client.dumpDataDir()
    await database.close()
    await expect(
      openDatabase({ kind: 'pglite', dataDir: undefined, loadDataDir: blob }),
    ).rejects.toThrow(/migrated by a newer ActAs/)
  })
})

describe('db:migrate', () => {
  it('migrates the configured schema and exits; a second run applies nothing', () => {
    const schema = freshSchema()
    const run = () =>
      spawnSync(process.execPath, [tsx, '--conditions=@actas/source', 'src/audit/migrate.ts'], {
        cwd: apiDir,
        env: { PATH: process.env['PATH'] ?? '/usr/bin', DATABASE_URL, DATABASE_SCHEMA: schema },
        encoding: 'utf8',
      })
    const first = run()
    expect(first.stderr).toBe('')
    expect(first.status).toBe(0)
    expect(first.stdout).toContain(`${known.length} applied now, ${known.length} in all`)
    const second = run()
    expect(second.status).toBe(0)
    expect(second.stdout).toContain(`0 applied now, ${known.length} in all`)
  })
})
