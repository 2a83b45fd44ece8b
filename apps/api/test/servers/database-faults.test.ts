// Database faults are classified once, by the router's error mapper, for every port: with the
// audit database down, `audit.verify` (ctx.audit), `impersonation.list` (ctx.impersonation) and
// `webhooks.deliveries` (ctx.webhooks) all answer 503 with Retry-After, never 500, and answer
// again once it is back. Against a Postgres server of this file's own (stopping it disturbs no
// other test file).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPostgres } from '../support/servers.js'
import type { PostgresServer } from '../support/servers.js'
import { actasCode, callRaw, startStack } from '../support/stack.js'
import type { SignedIn, Stack } from '../support/stack.js'

let postgres: PostgresServer
let stack: Stack
let admin: SignedIn

beforeAll(async () => {
  postgres = await startPostgres()
  stack = await startStack({
    env: {
      DATABASE_URL: postgres.url,
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
      DATABASE_ACQUIRE_TIMEOUT_MS: '1500',
    },
  })
  admin = await stack.signIn('admin')
}, 120_000)

afterAll(async () => {
  await stack?.close()
  await postgres?.stop()
})

const reads = [
  ['audit.verify', 'ctx.audit'],
  ['impersonation.list', 'ctx.impersonation'],
  ['webhooks.deliveries', 'ctx.webhooks'],
] as const

describe('a database fault, whichever port meets it', () => {
  it('answers 503 with Retry-After from every port while the database is down, then recovers', async () => {
    const call = async (path: string) =>
      callRaw(stack.app, path, {
        type: 'query',
        token: await admin.token(),
        ...(path === 'audit.verify' ? {} : { input: {} }),
      })
    for (const [path] of reads)
      expect({ path, status: (await call(path)).status }).toEqual({ path, status: 200 })

    await postgres.halt()
    try {
      for (const [path, port] of reads) {
        const res = await call(path)
        expect({ path, port, status: res.status, code: actasCode(res) }).toEqual({
          path,
          port,
          status: 503,
          code: 'SERVICE_UNAVAILABLE',
        })
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
      }
    } finally {
      await postgres.start()
    }
    // Back: the pool reconnects by itself.
    for (const [path] of reads) {
      let status = 0
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await call(path)).status
        if (status !== 200) await new Promise((r) => setTimeout(r, 250))
      }
      expect({ path, status }).toEqual({ path, status: 200 })
    }
  }, 120_000)
})
