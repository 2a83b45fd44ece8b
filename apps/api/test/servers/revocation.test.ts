// The kill switch across API instances: two API processes on one Postgres server (this file's
// own). A staff member ends a live impersonation through instance A; instance B must refuse the
// impersonated session's still-valid JWT. The time until B refused it is printed (the target is
// ≤ 2 s; a figure, not a timed assertion): once with LISTEN/NOTIFY, once with B learning only
// from its periodic read (its listener's Postgres connection terminated and NOTIFY unheard).
import { randomBytes } from 'node:crypto'
import { createFapiClient, startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localClerkEnvironment } from '../../src/config.js'
import { startApiProcess } from '../support/api-process.js'
import type { ApiProcess } from '../support/api-process.js'
import { startPostgres } from '../support/servers.js'
import type { PostgresServer } from '../support/servers.js'
import { ORIGIN, customersAnyoneMayImpersonate, signInOn } from '../support/stack.js'

let clerk: ClerkLocal
let postgres: PostgresServer
let a: ApiProcess
let b: ApiProcess
let staffToken: () => Promise<string>
let targets: string[]

async function call(
  api: ApiProcess,
  path: string,
  bearer: string,
  input?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${api.url}/trpc/${path}`, {
    method: input === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    ...(input === undefined ? {} : { body: JSON.stringify(input) }),
  })
  return { status: res.status, body: await res.json() }
}

function data<T>(res: { body: unknown }): T {
  return (res.body as { result: { data: T } }).result.data
}

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  ;[clerk, postgres] = await Promise.all([
    startClerkLocal({ port: 0, users: 50, seed: 11 }),
    startPostgres(),
  ])
  const env = {
    ...localClerkEnvironment(clerk, ORIGIN),
    DATABASE_URL: postgres.url,
    RATE_LIMIT_START_PER_MINUTE: '1000',
    // The backstop read: slow enough that the NOTIFY figure is NOTIFY's, not the read's.
    REVOCATION_REFRESH_MS: '1000',
    // (startApiProcess waits for the "Server listening" line, an info line.)
    LOG_LEVEL: 'info',
  }
  // One after the other: both would run the migrations at once otherwise.
  a = await startApiProcess(env)
  b = await startApiProcess(env)
  const admin = await signInOn(clerk, 'admin')
  staffToken = () => admin.token()
  targets = customersAnyoneMayImpersonate(clerk).map((u) => u.id)
}, 180_000)

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()])
  await Promise.allSettled([postgres?.stop(), clerk?.stop()])
})

/** A live impersonation reported through A; its session's token, accepted by B. */
async function liveImpersonation(i: number) {
  const started = await call(a, 'impersonation.start', await staffToken(), {
    userId: targets[i],
    reason: `Kill switch across instances ${i}`,
    returnSecretHash: randomBytes(32).toString('hex'),
  })
  expect(started.status).toBe(200)
  const { impersonationId, ticket } = data<{ impersonationId: string; ticket: string }>(started)
  const fapi = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: ORIGIN })
  const session = await fapi.signInWithTicket(ticket)
  const token = await fapi.getToken(session.sessionId)
  expect((await call(a, 'impersonation.signedIn', token, { sessionToken: token })).status).toBe(200)
  expect((await call(b, 'me', token)).status).toBe(200)
  return { impersonationId, token }
}

/** Ends it through A, then asks B until it refuses the token; answers the milliseconds. */
async function endAndWaitForB(impersonationId: string, token: string): Promise<number> {
  const ended = await call(a, 'impersonation.end', await staffToken(), {
    impersonationId,
    reason: 'Ended from the other instance',
  })
  expect(ended.status).toBe(200)
  const endedAt = Date.now()
  for (;;) {
    const res = await call(b, 'me', token)
    if (res.status === 401) {
      expect(JSON.stringify(res.body)).toContain('Ended from the other instance')
      return Date.now() - endedAt
    }
    expect(res.status).toBe(200)
    if (Date.now() - endedAt > 30_000) throw new Error('B never refused the ended session')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('kill switch across two API processes (Postgres server)', () => {
  it('B refuses the ended session: through LISTEN/NOTIFY', async () => {
    const figures: number[] = []
    for (let i = 0; i < 5; i++) {
      const { impersonationId, token } = await liveImpersonation(i)
      figures.push(await endAndWaitForB(impersonationId, token))
    }
    console.log(
      `[revocation] LISTEN/NOTIFY: B refused the ended session after ${figures.join(', ')} ms ` +
        `(max ${Math.max(...figures)} ms; target ≤ 2000 ms)`,
    )
    // sessions.inspect on B says revoked while the JWT still verifies.
    const { impersonationId, token } = await liveImpersonation(5)
    await endAndWaitForB(impersonationId, token)
    const inspected = await call(b, 'sessions.inspect', await staffToken(), { token })
    expect(data(inspected)).toMatchObject({ valid: true, revoked: true })
  })

  it("B's push stream (GET /v1/sessions/ended) tells the session of an end done through A", async () => {
    const figures: number[] = []
    for (let i = 9; i < 12; i++) {
      const { impersonationId, token } = await liveImpersonation(i)
      const res = await fetch(`${b.url}/v1/sessions/ended`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      })
      expect(res.status).toBe(200)
      const decoder = new TextDecoder()
      let text = ''
      let endedAt = Number.NaN
      const seen = (async () => {
        for await (const chunk of res.body!) {
          text += decoder.decode(chunk as Uint8Array, { stream: true })
          if (text.includes('event: ended')) return Date.now()
        }
        throw new Error('the stream closed without an end')
      })()
      while (!text.includes('event: open')) await new Promise((r) => setTimeout(r, 10))
      const ended = await call(a, 'impersonation.end', await staffToken(), {
        impersonationId,
        reason: 'Ended from the other instance',
      })
      expect(ended.status).toBe(200)
      endedAt = Date.now()
      const at = await seen
      expect(text).toContain(impersonationId)
      expect(text).toContain('Ended from the other instance')
      figures.push(at - endedAt)
    }
    console.log(
      `[revocation] push from B after A's end answered: ${figures.join(', ')} ms ` +
        `(max ${Math.max(...figures)} ms; negative: before the answer; target ≤ 500 ms)`,
    )
  })

  it('B refuses it without NOTIFY too, from its periodic read (listener connection killed)', async () => {
    const admin = new pg.Client({ connectionString: postgres.url })
    await admin.connect()
    const figures: number[] = []
    try {
      for (let i = 12; i < 15; i++) {
        const { impersonationId, token } = await liveImpersonation(i)
        // Every listener's connection is terminated: the NOTIFY of this end reaches nobody.
        await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'actas-api-listen'`,
        )
        figures.push(await endAndWaitForB(impersonationId, token))
      }
    } finally {
      await admin.end()
    }
    console.log(
      `[revocation] periodic read only (REVOCATION_REFRESH_MS=1000): B refused after ` +
        `${figures.join(', ')} ms (max ${Math.max(...figures)} ms; target ≤ 2000 ms)`,
    )
    expect(a.exit()).toBeNull()
    expect(b.exit()).toBeNull()
  })
})
