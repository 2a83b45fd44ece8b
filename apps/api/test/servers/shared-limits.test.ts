// Rate limits with Redis: two API processes sharing one Redis enforce one limit (5 starts a
// minute across both), and when Redis goes away each instance falls back to its own memory
// (logged, never a 5xx).
import { randomBytes } from 'node:crypto'
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localClerkEnvironment } from '../../src/config.js'
import { startApiProcess } from '../support/api-process.js'
import type { ApiProcess } from '../support/api-process.js'
import { startRedis } from '../support/servers.js'
import { ORIGIN, callRaw, signInOn, startStack } from '../support/stack.js'

let clerk: ClerkLocal
let apis: ApiProcess[] = []
let token: () => Promise<string>

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  clerk = await startClerkLocal({ port: 0, users: 50, seed: 3 })
  const env = {
    ...localClerkEnvironment(clerk, ORIGIN),
    REDIS_URL: process.env['REDIS_URL'] ?? '',
    REDIS_KEY_PREFIX: `actas_test_${randomBytes(6).toString('hex')}`,
    LOG_LEVEL: 'info',
  }
  apis = await Promise.all([startApiProcess(env), startApiProcess(env)])
  const admin = await signInOn(clerk, 'admin')
  token = () => admin.token()
}, 120_000)

afterAll(async () => {
  await Promise.allSettled(apis.map((a) => a.stop()))
  await clerk?.stop()
})

describe('rate limits in Redis', () => {
  it('two API processes sharing one Redis allow 5 starts a minute across both', async () => {
    const banned = clerk.accounts.find((a) => a.role === 'banned')?.userId
    const bearer = await token()
    const start = async (api: ApiProcess) => {
      const res = await fetch(`${api.url}/trpc/impersonation.start`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        // Refused by policy (a banned user), but every attempt counts.
        body: JSON.stringify({ userId: banned, reason: 'Shared limit probe, two instances' }),
      })
      return res.status
    }
    const [a, b] = apis as [ApiProcess, ApiProcess]
    const statuses = []
    for (const api of [a, b, a, b, a]) statuses.push(await start(api))
    expect(statuses).toEqual([403, 403, 403, 403, 403])
    expect(await start(b)).toBe(429)
    expect(await start(a)).toBe(429)
    for (const api of apis) expect(api.exit()).toBeNull()
  })
})

describe('when Redis goes away', () => {
  it('limits in memory instead: logged, never a 5xx', async () => {
    const redis = await startRedis()
    const stack = await startStack({ env: { REDIS_URL: redis.url } })
    try {
      const admin = await stack.signIn('admin')
      const search = async () =>
        (
          await callRaw(stack.app, 'users.search', {
            type: 'query',
            input: { limit: 1 },
            token: await admin.token(),
          })
        ).status
      expect(await search()).toBe(200)
      await redis.stop()
      const statuses: number[] = []
      for (let i = 0; i < 125; i++) statuses.push(await search())
      expect(statuses.filter((s) => s >= 500)).toEqual([])
      // The insurance limiter still limits: 120 a minute (one was counted in Redis).
      expect(statuses.filter((s) => s === 200).length).toBe(120)
      expect(statuses.at(-1)).toBe(429)
      expect(stack.logs.join('')).toContain('Redis unavailable')
    } finally {
      await stack.close()
      await redis.stop()
    }
  })
})
