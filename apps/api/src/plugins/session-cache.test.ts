// The verdict cache in front of clerkPlugin's hook, with a stand-in plugin that "verifies" by
// looking the header up in a table and counts its calls.
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { registerWithSessionCache } from './session-cache.js'
import type { HookPlugin } from './session-cache.js'

const T0 = 1_700_000_000_000
const exp = (ms: number) => Math.floor((T0 + ms) / 1000)

const verdicts: Record<string, unknown> = {
  'Bearer good': {
    tokenType: 'session_token',
    isAuthenticated: true,
    userId: 'user_1',
    sessionClaims: { exp: exp(60_000) },
  },
  'Bearer other': {
    tokenType: 'session_token',
    isAuthenticated: true,
    userId: 'user_2',
    sessionClaims: { exp: exp(60_000) },
  },
  'Bearer soon': {
    tokenType: 'session_token',
    isAuthenticated: true,
    userId: 'user_1',
    sessionClaims: { exp: exp(2_000) },
  },
  'Bearer refused': { tokenType: 'session_token', isAuthenticated: false, userId: null },
  'Bearer machine': { tokenType: 'm2m_token', isAuthenticated: true, userId: null },
}

async function setup(options: { maxEntries?: number; maxAgeMs?: number } = {}) {
  let now = T0
  const calls: string[] = []
  const fake: HookPlugin<{ hookName: 'preHandler' }> = (instance, opts, done) => {
    instance.decorateRequest('auth', null)
    instance.decorateRequest('clerk', null as never)
    instance.addHook(opts.hookName, async (req, reply) => {
      const header = req.headers.authorization ?? ''
      calls.push(header)
      if (header === 'Bearer redirect') return reply.code(307).send()
      const r = req as unknown as { auth: unknown; clerk: unknown }
      r.auth = verdicts[header] ?? { tokenType: 'session_token', isAuthenticated: false }
      r.clerk = 'client'
    })
    done()
  }
  const app: FastifyInstance = Fastify()
  const stats = await registerWithSessionCache(
    app,
    fake,
    { hookName: 'preHandler' },
    { ...options, now: () => now },
  )
  app.get('/who', (req) => {
    const r = req as unknown as { auth: { userId?: unknown } | null; clerk: unknown }
    return { userId: r.auth?.userId ?? null, clerk: r.clerk }
  })
  await app.ready()
  const who = async (authorization?: string) => {
    const res = await app.inject({
      url: '/who',
      headers: authorization ? { authorization } : {},
    })
    return res.statusCode === 200 ? res.json<{ userId: string | null }>().userId : res.statusCode
  }
  return { app, calls, stats, who, advance: (ms: number) => (now += ms) }
}

describe('session cache in front of clerkPlugin', () => {
  it('verifies a token once, then answers the same header from the cache', async () => {
    const { calls, stats, who } = await setup()
    expect(await who('Bearer good')).toBe('user_1')
    expect(await who('Bearer good')).toBe('user_1')
    expect(await who('Bearer other')).toBe('user_2')
    expect(await who('Bearer good')).toBe('user_1')
    expect(calls).toEqual(['Bearer good', 'Bearer other'])
    expect(stats).toMatchObject({ hits: 2, misses: 2, size: 2 })
  })

  it('never caches refusals, machine tokens or header-less requests', async () => {
    const { calls, stats, who } = await setup()
    for (let i = 0; i < 2; i++) {
      expect(await who('Bearer refused')).toBe(null)
      expect(await who('Bearer machine')).toBe(null)
      expect(await who('Bearer unknown')).toBe(null)
      expect(await who()).toBe(null)
    }
    expect(calls).toHaveLength(8)
    expect(stats.size).toBe(0)
  })

  it('sends the request back to the plugin once the token expires', async () => {
    const { calls, advance, who } = await setup()
    expect(await who('Bearer soon')).toBe('user_1')
    advance(1_000)
    expect(await who('Bearer soon')).toBe('user_1')
    expect(calls).toHaveLength(1)
    advance(1_000) // now === exp: the cache no longer answers; the plugin decides
    expect(await who('Bearer soon')).toBe('user_1')
    expect(calls).toHaveLength(2)
  })

  it('keeps no entry longer than maxAgeMs, nor more than maxEntries', async () => {
    const { calls, advance, who, stats } = await setup({ maxAgeMs: 500, maxEntries: 1 })
    await who('Bearer good')
    await who('Bearer good')
    expect(calls).toHaveLength(1)
    advance(500)
    await who('Bearer good')
    expect(calls).toHaveLength(2)
    await who('Bearer other') // evicts good
    expect(stats.size).toBe(1)
    await who('Bearer good')
    expect(calls).toHaveLength(4)
  })

  it('passes through a reply the plugin sent itself', async () => {
    const { who, stats } = await setup()
    expect(await who('Bearer redirect')).toBe(307)
    expect(await who('Bearer redirect')).toBe(307)
    expect(stats.size).toBe(0)
  })
})
