// Postgres faults under a loop of impersonation.start, against a real Postgres server of this
// file's own (so restarting and freezing it disturbs no other test file) and the API as its own
// process (a crash is the process ending). For each fault: the process never ends, every answer
// is a ticket (200) or 503 with Retry-After, /readyz says 503 while the database is away, the
// API recovers by itself (the time it took is printed), and no ticket exists without its audit
// row: every ticket handed out has an `issued` row naming its actor token, and every actor
// token Clerk still holds unrevoked has one too.
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localClerkEnvironment } from '../../src/config.js'
import { startApiProcess } from '../support/api-process.js'
import type { ApiProcess } from '../support/api-process.js'
import { startPostgres } from '../support/servers.js'
import { ORIGIN, customersAnyoneMayImpersonate, signInOn } from '../support/stack.js'
import type { PostgresServer } from '../support/servers.js'

let clerk: ClerkLocal
let postgres: PostgresServer
let api: ApiProcess
let token: () => Promise<string>
let targets: string[]
/** Every ticket the API handed out: impersonation id → Clerk actor token (looked up later). */
const handedOut: { impersonationId: string; ticket: string }[] = []

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  ;[clerk, postgres] = await Promise.all([
    startClerkLocal({ port: 0, users: 50, seed: 7 }),
    startPostgres(),
  ])
  api = await startApiProcess({
    ...localClerkEnvironment(clerk, ORIGIN),
    DATABASE_URL: postgres.url,
    DATABASE_STATEMENT_TIMEOUT_MS: '1000',
    DATABASE_ACQUIRE_TIMEOUT_MS: '2000',
    RATE_LIMIT_START_PER_MINUTE: '1000000',
    LOG_LEVEL: 'info',
  })
  const admin = await signInOn(clerk, 'admin')
  token = () => admin.token()
  targets = customersAnyoneMayImpersonate(clerk).map((u) => u.id)
}, 120_000)

afterAll(async () => {
  await api?.stop()
  await Promise.allSettled([postgres?.stop(), clerk?.stop()])
})

interface Answer {
  status: number
  retryAfter: string | null
  at: number
  /** The error's message, when there is one (what a failed expectation shows). */
  message?: string
}

async function start(bearer: string, i: number): Promise<Answer> {
  try {
    const res = await fetch(`${api.url}/trpc/impersonation.start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        userId: targets[i % targets.length],
        reason: `Fault loop, call ${i}`,
      }),
    })
    const body = (await res.json()) as {
      result?: { data?: { impersonationId: string; ticket: string } }
      error?: { message?: string }
    }
    const data = body.result?.data
    if (res.status === 200 && data)
      handedOut.push({ impersonationId: data.impersonationId, ticket: data.ticket })
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      at: Date.now(),
      ...(body.error?.message ? { message: body.error.message } : {}),
    }
  } catch {
    // No answer at all (the process ended): status 0 fails `expectSurvived`.
    return { status: 0, retryAfter: null, at: Date.now() }
  }
}

/**
 * Runs `impersonation.start` from 3 concurrent callers while `fault()` runs, then until a call
 * succeeds after `fault()` returned (that wait is the recovery time), and answers every result.
 */
async function loopDuring(
  name: string,
  fault: (answers: readonly Answer[]) => Promise<void>,
): Promise<{ answers: Answer[]; recoveryMs: number | null }> {
  const answers: Answer[] = []
  let faultEnded = 0
  let recoveredAt = 0
  let n = 0
  const deadline = Date.now() + 90_000
  const worker = async () => {
    while (!recoveredAt && Date.now() < deadline) {
      const bearer = await token()
      const answer = await start(bearer, n++)
      answers.push(answer)
      if (answer.status === 0) return
      if (faultEnded && answer.status === 200 && answer.at >= faultEnded && !recoveredAt)
        recoveredAt = answer.at
      if (answer.status !== 200) await new Promise((r) => setTimeout(r, 50))
    }
  }
  const workers = Array.from({ length: 3 }, worker)
  // Some normal traffic first, then the fault.
  await new Promise((r) => setTimeout(r, 500))
  await fault(answers)
  faultEnded = Date.now()
  await Promise.all(workers)
  // null: no ticket was handed out after the fault ended, before the deadline.
  const recoveryMs = recoveredAt ? recoveredAt - faultEnded : null
  console.log(
    `[postgres faults] ${name}: ${answers.length} calls (` +
      `${answers.filter((a) => a.status === 200).length} tickets, ` +
      `${answers.filter((a) => a.status === 503).length} × 503); ` +
      (recoveryMs === null
        ? `NOT recovered within ${Math.round((Date.now() - faultEnded) / 1000)} s after the database was back`
        : `recovered ${recoveryMs} ms after the database was back`),
  )
  return { answers, recoveryMs }
}

function expectSurvived(answers: Answer[], recoveryMs: number | null) {
  expect(api.exit()).toBeNull()
  const unexpected = answers.filter((a) => a.status !== 200 && a.status !== 503)
  expect(unexpected).toEqual([])
  for (const a of answers.filter((x) => x.status === 503))
    expect(a.retryAfter, JSON.stringify(a)).toMatch(/^\d+$/)
  // Recovered by itself: a ticket was handed out again after the fault ended.
  expect(recoveryMs, 'no ticket was handed out after the fault ended').not.toBeNull()
}

async function readyz(): Promise<number> {
  return (await fetch(`${api.url}/readyz`)).status
}

describe('Postgres faults during impersonation.start', () => {
  it('survives its connections being terminated (pg_terminate_backend)', async () => {
    const { answers, recoveryMs } = await loopDuring('connections terminated', async () => {
      const admin = new pg.Client({ connectionString: postgres.url })
      await admin.connect()
      try {
        const { rowCount } = await admin.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'actas-api'",
        )
        expect(rowCount).toBeGreaterThan(0)
      } finally {
        await admin.end()
      }
    })
    expectSurvived(answers, recoveryMs)
    expect(api.output.join('\n')).toContain('database connection lost')
  })

  it('answers 503 with Retry-After while Postgres restarts, then recovers by itself', async () => {
    const { answers, recoveryMs } = await loopDuring('server restarted', async () => {
      await postgres.halt()
      // Down: readiness says so, and starts are refused with 503 (no ticket without a row).
      expect(await readyz()).toBe(503)
      const down = await start(await token(), 0)
      expect(down.status).toBe(503)
      expect(down.retryAfter).toMatch(/^\d+$/)
      await postgres.start()
    })
    expectSurvived(answers, recoveryMs)
    expect(answers.some((a) => a.status === 503)).toBe(true)
    expect(await readyz()).toBe(200)
  })

  it('answers instead of hanging while Postgres is frozen (SIGSTOP), and recovers on SIGCONT', async () => {
    let answeredWhileFrozen = 0
    const { answers, recoveryMs } = await loopDuring('server frozen', async (sofar) => {
      postgres.freeze()
      const frozenAt = Date.now()
      try {
        // Held longer than the acquire (2 s) and statement (1 s + 1 s) timeouts together.
        await new Promise((r) => setTimeout(r, 7000))
        expect(await readyz()).toBe(503)
      } finally {
        postgres.thaw()
      }
      answeredWhileFrozen = sofar.filter((a) => a.status === 503 && a.at >= frozenAt).length
    })
    expectSurvived(answers, recoveryMs)
    expect(answeredWhileFrozen).toBeGreaterThan(0)
    expect(await readyz()).toBe(200)
  })

  it('handed out no ticket without its audit event', async () => {
    expect(handedOut.length).toBeGreaterThan(0)
    const db = new pg.Client({ connectionString: postgres.url })
    await db.connect()
    try {
      const { rows } = await db.query<{
        id: string
        status: string
        clerk_actor_token_id: string | null
      }>('select id, status, clerk_actor_token_id from impersonations')
      const byId = new Map(rows.map((r) => [r.id, r]))
      const tokens = [...clerk.state.actorTokens.values()]
      // Every ticket handed out: an `issued` row naming the actor token that carries it.
      for (const { impersonationId, ticket } of handedOut) {
        const actorToken = tokens.find((t) => t.token === ticket)
        expect(byId.get(impersonationId)).toMatchObject({
          status: 'issued',
          clerk_actor_token_id: actorToken?.id,
        })
      }
      // Every actor token Clerk still holds unrevoked: an `issued` row names it.
      const recorded = new Set(
        rows.filter((r) => r.status === 'issued').map((r) => r.clerk_actor_token_id),
      )
      const unrecorded = tokens.filter((t) => t.status !== 'revoked' && !recorded.has(t.id))
      expect(unrecorded.map((t) => t.id)).toEqual([])
    } finally {
      await db.end()
    }
  })
})
