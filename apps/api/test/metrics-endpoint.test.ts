// GET /metrics behind METRICS_TOKEN on the API's own port: refused without the token (401, and
// nothing of the metrics in the answer), served with it in Prometheus' text format, the gauges
// read from the audit database. (The METRICS_PORT listener is covered by the production e2e.)
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildApp,
  createDeps,
  createLogger,
  localClerkEnvironment,
  loadConfig,
} from '../src/index.js'
import type { AppDeps } from '../src/index.js'
import { openTestDatabase } from './support/stack.js'

const TOKEN = 'metrics-token-0123456789abcdef'

let clerk: ClerkLocal
let deps: AppDeps
let app: Awaited<ReturnType<typeof buildApp>>

beforeAll(async () => {
  clerk = await startClerkLocal({ port: 0, users: 5, seed: 6 })
  const config = loadConfig({
    ...localClerkEnvironment(clerk, 'http://localhost:5173'),
    METRICS_TOKEN: TOKEN,
    MEMBERSHIP_MIRROR_REFRESH_SECONDS: '0',
    RECONCILER_INTERVAL_SECONDS: '0',
  })
  deps = await createDeps(config, {
    logger: createLogger('silent'),
    database: await openTestDatabase(),
  })
  app = await buildApp(deps)
}, 60_000)

afterAll(async () => {
  await app?.close()
  await deps?.close()
  await deps?.database.close()
  await clerk?.stop()
})

describe('GET /metrics with METRICS_TOKEN', () => {
  it('refuses a request without the token, or with another one', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN]) {
      const res = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization ? { authorization } : {},
      })
      expect(res.statusCode, String(authorization)).toBe(401)
      expect(res.body).not.toContain('actas_')
    }
  })

  it('serves the metrics to the token, the database gauges included', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(res.body).toMatch(/^actas_audit_head_seq \d+$/m)
    expect(res.body).toMatch(/^actas_impersonations_live\{status="signed_in"\} 0$/m)
    expect(res.body).toMatch(/^actas_webhook_outbox_messages\{status="dead"\} 0$/m)
    expect(res.body).toContain('# TYPE actas_impersonation_starts_total counter')
  })

  it('is refused when shorter than 24 characters', () => {
    expect(() =>
      loadConfig({ ...localClerkEnvironment(clerk, 'http://x'), METRICS_TOKEN: 'short' }),
    ).toThrow(/METRICS_TOKEN must be at least 24 characters/)
  })
})
