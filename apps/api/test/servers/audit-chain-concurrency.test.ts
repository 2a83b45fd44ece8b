// Two API processes append to one audit log at once, against a real Postgres server: the chain
// stays one linear chain (every append takes the chain head FOR UPDATE), every event is in it,
// and the signed checkpoints either instance wrote verify with the public key.
import { randomBytes } from 'node:crypto'
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseSigningKey } from '../../src/audit/chain.js'
import { openDatabase } from '../../src/audit/db.js'
import type { OpenedDatabase } from '../../src/audit/db.js'
import { AuditStore } from '../../src/audit/store.js'
import { localClerkEnvironment } from '../../src/config.js'
import { startApiProcess } from '../support/api-process.js'
import type { ApiProcess } from '../support/api-process.js'
import { ORIGIN, customersAnyoneMayImpersonate, signInOn } from '../support/stack.js'

const KEY = Buffer.alloc(32, 5).toString('base64url')
const url = process.env['DATABASE_URL']!
const schema = `actas_test_${randomBytes(6).toString('hex')}`

let clerk: ClerkLocal
const apis: ApiProcess[] = []
let database: OpenedDatabase
let adminToken: () => Promise<string>
let agentToken: () => Promise<string>
let targets: string[]

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  clerk = await startClerkLocal({ port: 0, users: 80, seed: 11 })
  const env = {
    ...localClerkEnvironment(clerk, ORIGIN),
    DATABASE_URL: url,
    DATABASE_SCHEMA: schema,
    RATE_LIMIT_START_PER_MINUTE: '1000000',
    AUDIT_DENIED_FULL_PER_MINUTE: '1000000',
    AUDIT_SIGNING_KEY: KEY,
    AUDIT_CHECKPOINT_EVERY: '7',
    // `info`: the process says where it listens.
    LOG_LEVEL: 'info',
  }
  // One after the other: the first applies the migrations, the second finds them applied.
  apis.push(await startApiProcess(env))
  apis.push(await startApiProcess(env))
  const admin = await signInOn(clerk, 'admin')
  adminToken = () => admin.token()
  const agent = await signInOn(clerk, 'agent')
  agentToken = () => agent.token()
  targets = customersAnyoneMayImpersonate(clerk).map((u) => u.id)
  database = await openDatabase({ kind: 'postgres', url, schema })
}, 120_000)

afterAll(async () => {
  await Promise.allSettled(apis.map((a) => a.stop()))
  await database?.close()
  await clerk?.stop()
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`drop schema if exists "${schema}" cascade`)
  await client.end()
})

async function call(api: ApiProcess, path: string, bearer: string, input: unknown) {
  const res = await fetch(`${api.url}/trpc/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  })
  return { status: res.status, body: (await res.json()) as { result?: { data?: unknown } } }
}

describe('two API processes, one Postgres server', () => {
  it('append at once and keep one valid chain', async () => {
    const [admin, agent] = await Promise.all([adminToken(), agentToken()])
    const PER_PROCESS = 30
    // Each process: issued tickets (revoked right after: three events each) and refused starts
    // of an agent (two events each), 6 in flight at a time.
    const work = apis.map(async (api, p) => {
      const statuses: number[] = []
      for (let batch = 0; batch < PER_PROCESS / 6; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 6 }, async (_, j) => {
            const i = p * PER_PROCESS + batch * 6 + j
            if (j % 2 === 0) {
              const res = await call(api, 'impersonation.start', agent, {
                userId: targets[i % targets.length],
                reason: `Refused in parallel, ${i}`,
              })
              return [res.status]
            }
            const started = await call(api, 'impersonation.start', admin, {
              userId: targets[i % targets.length],
              reason: `Issued in parallel, ${i}`,
            })
            const id = (started.body.result?.data as { impersonationId?: string } | undefined)
              ?.impersonationId
            const revoked = await call(api, 'impersonation.revoke', admin, { impersonationId: id })
            return [started.status, revoked.status]
          }),
        )
        statuses.push(...answers.flat())
      }
      return statuses
    })
    const statuses = (await Promise.all(work)).flat()
    const refused = statuses.filter((s) => s === 403).length
    const ok = statuses.filter((s) => s === 200).length
    expect({ refused, ok, other: statuses.length - refused - ok }).toEqual({
      refused: PER_PROCESS,
      ok: PER_PROCESS * 2,
      other: 0,
    })

    const store = new AuditStore(database.db, () => new Date())
    const report = await store.verify({ publicKey: parseSigningKey(KEY).publicKey, full: true })
    // 30 refused × 2 events + 30 issued and revoked × 3 events.
    expect(report).toMatchObject({ ok: true, events: PER_PROCESS * 2 + PER_PROCESS * 3 })
    // A checkpoint at least every 7 events (8 when a new attempt's two events cross the mark).
    const seqs = [0, ...(await store.checkpoints()).map((c) => c.seq)]
    const gaps = seqs.slice(1).map((seq, i) => seq - seqs[i]!)
    expect(Math.max(...gaps)).toBeLessThanOrEqual(8)
    expect(report.events - seqs.at(-1)!).toBeLessThan(8)
    expect(report.checkpoints.verified).toBe(report.checkpoints.total)
    // And through either API: the same verdict (the full walk, as staff may ask).
    const full = encodeURIComponent(JSON.stringify({ full: true }))
    for (const api of apis) {
      const res = await fetch(`${api.url}/trpc/audit.verify?input=${full}`, {
        headers: { authorization: `Bearer ${await adminToken()}` },
      })
      const body = (await res.json()) as { result: { data: { ok: boolean; events: number } } }
      expect(body.result.data).toMatchObject({ ok: true, events: report.events })
    }
  }, 180_000)
})
