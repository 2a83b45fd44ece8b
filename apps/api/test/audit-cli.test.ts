// `audit:verify` as a command, against the database the API would use (a PGlite directory, or
// the Postgres server at DATABASE_URL): exit 0 and the figures for a sound chain, exit 1 and the
// first broken link after one byte changed, and checkpoints refused under another public key.
import { execFile } from 'node:child_process'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseSigningKey } from '../src/audit/chain.js'
import { openDatabase } from '../src/audit/db.js'
import type { DatabaseConfig } from '../src/audit/db.js'
import { AuditStore } from '../src/audit/store.js'
import { pgliteTemplate } from './support/pglite-template.js'

const KEY = Buffer.alloc(32, 9).toString('base64url')
const cwd = fileURLToPath(new URL('..', import.meta.url))
const tsx = fileURLToPath(import.meta.resolve('tsx/cli'))
const dir = mkdtempSync(join(tmpdir(), 'actas-audit-cli-'))
const postgres = process.env['DATABASE_URL']
const schema = `actas_test_${randomBytes(6).toString('hex')}`
const config: DatabaseConfig = postgres
  ? { kind: 'postgres', url: postgres, schema }
  : { kind: 'pglite', dataDir: join(dir, 'pglite') }
const dbEnv = postgres
  ? { DATABASE_URL: postgres, DATABASE_SCHEMA: schema }
  : { ACTAS_DATA_DIR: join(dir, 'pglite') }

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [tsx, '--conditions=@actas/source', 'src/audit/cli.ts', ...args],
      { cwd, env: { ...process.env, ...dbEnv, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

async function withStore<T>(
  fn: (store: AuditStore, db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>,
  /** A dump the PGlite directory starts from (its first open only). */
  loadDataDir?: Blob,
) {
  const db = await openDatabase(
    loadDataDir && config.kind === 'pglite' ? { ...config, loadDataDir } : config,
  )
  try {
    return await fn(
      new AuditStore(db.db, {
        now: () => new Date(),
        signer: parseSigningKey(KEY),
        checkpointEvery: 4,
      }),
      db,
    )
  } finally {
    await db.close()
  }
}

beforeAll(async () => {
  // The PGlite directory starts as the run's migrated template (no initdb); the CLI then opens
  // it as the API would.
  const template = postgres ? undefined : await pgliteTemplate()
  await withStore(async (store) => {
    for (let i = 0; i < 5; i++) {
      const id = randomUUID()
      await store.createImpersonation({
        id,
        actorId: 'user_staff',
        userId: `user_c${i}`,
        reason: `CLI check number ${i}`,
        sessionMinutes: 10,
      })
      await store.appendEvent(id, { type: 'issued', data: { clerkActorTokenId: `act_${i}` } })
    }
  }, template)
}, 60_000)

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  if (postgres) {
    const { default: pg } = await import('pg')
    const client = new pg.Client({ connectionString: postgres })
    await client.connect()
    await client.query(`drop schema if exists "${schema}" cascade`)
    await client.end()
  }
})

describe('audit:verify', () => {
  it('prints the figures and exits 0 for a sound chain, checkpoints checked with the key', async () => {
    const res = await run(['verify'], { AUDIT_SIGNING_KEY: KEY })
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/^events walked: 10 in [\d.]+ s \(\d+ rows\/s\)$/m)
    expect(res.stdout).toMatch(/^checkpoints: 2 of 2 verified$/m)
    expect(res.stdout).toMatch(/^the audit chain verifies$/m)
  }, 60_000)

  it('someone with only the public key: theirs verifies, another key does not', async () => {
    const mine = join(dir, 'mine.pem')
    writeFileSync(mine, parseSigningKey(KEY).publicKeyPem)
    const theirs = join(dir, 'other.pem')
    writeFileSync(
      theirs,
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    )
    const ok = await run(['verify', '--json', '--public-key', mine])
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      events: 10,
      checkpoints: { verified: 2 },
    })
    const other = await run(['verify', '--public-key', theirs])
    expect(other.code).toBe(1)
    expect(other.stdout).toMatch(/BROKEN at seq 4: the checkpoint at 4 has no valid signature/)
  }, 60_000)

  it('exits 1 and names an impersonations row edited outside the event append', async () => {
    const [row] = await withStore(async (store) => (await store.list({ limit: 1 })).rows)
    const edit = (set: ReturnType<typeof sql>) =>
      withStore(async (_store, db) => {
        // A raw edit is refused (migration 0008)…
        await expect(
          db.db.execute(sql`update impersonations set ${set} where id = ${row!.id}`),
        ).rejects.toThrow()
        // …so only someone who switches the triggers off can make one.
        await db.db.execute(sql`alter table impersonations disable trigger user`)
        try {
          await db.db.execute(sql`update impersonations set ${set} where id = ${row!.id}`)
        } finally {
          await db.db.execute(sql`alter table impersonations enable trigger user`)
        }
      })
    await edit(sql`actor_id = 'user_someone_else', reason = 'Nothing to see', ended_by = 'nobody'`)
    const res = await run(['verify'], { AUDIT_SIGNING_KEY: KEY })
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(
      new RegExp(
        `^BROKEN at seq \\d+: the impersonations row ${row!.id} disagrees with its events \\(actor_id, reason, ended_by\\)`,
        'm',
      ),
    )
    await edit(sql`actor_id = ${row!.actorId}, reason = ${row!.reason}, ended_by = ${row!.endedBy}`)
    expect((await run(['verify'], { AUDIT_SIGNING_KEY: KEY })).code).toBe(0)
  }, 120_000)

  it('exits 1 and names the first broken link after one byte of an event changed', async () => {
    await withStore(async (_store, db) => {
      await db.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`)
      await db.db.execute(sql`update audit_events set reason = 'CLI check number 7' where seq = 5`)
      await db.db.execute(sql`alter table audit_events enable trigger audit_events_append_only`)
    })
    const res = await run(['verify'])
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(
      /^BROKEN at seq 5: event 5 does not match its hash \(its contents were changed\)$/m,
    )
  }, 60_000)
})

describe('audit:public-key and audit:keygen', () => {
  it('prints the public key of AUDIT_SIGNING_KEY; keygen makes a key that works', async () => {
    const res = await run(['public-key'], { AUDIT_SIGNING_KEY: KEY })
    expect(res.stdout).toBe(parseSigningKey(KEY).publicKeyPem)
    const made = await run(['keygen'])
    const seed = /^AUDIT_SIGNING_KEY=(\S+)$/m.exec(made.stdout)?.[1]
    expect(made.stdout).toContain(parseSigningKey(seed!).publicKeyPem)
  }, 60_000)
})
