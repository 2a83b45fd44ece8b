// The verdict cache in front of clerkPlugin's hook, with a stand-in plugin that "verifies" by
// looking the header up in a table and counts its calls.
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { registerWithSessionCache } from './session-cache.js'
import type { HookPlugin, M2MVerdict, SessionCacheOptions } from './session-cache.js'

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

async function setup(options: Omit<SessionCacheOptions, 'now'> = {}) {
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
  app.get('/who-machine', (req) => {
    const r = req as unknown as { auth: { machineId?: unknown } | null }
    return { machineId: r.auth?.machineId ?? null }
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

  it('never caches refusals or machine verdicts of the plugin', async () => {
    const { calls, stats, who } = await setup()
    for (let i = 0; i < 2; i++) {
      expect(await who('Bearer refused')).toBe(null)
      expect(await who('Bearer machine')).toBe(null)
      expect(await who('Bearer unknown')).toBe(null)
    }
    expect(calls).toHaveLength(6)
    expect(stats.size).toBe(0)
  })

  it('reads Bearer credentials only: without one, the plugin is never asked (no cookie, no 307)', async () => {
    const { app, calls, who } = await setup()
    expect(await who()).toBe(null)
    expect(await who('Basic dXNlcjpwdw==')).toBe(null)
    const res = await app.inject({ url: '/who', headers: { cookie: '__session=good' } })
    expect(res.json()).toMatchObject({ userId: null })
    expect(calls).toEqual([])
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

describe('what reaches Clerk', () => {
  it('verifies an M2M token once until it expires (≤ 60 s), a refused one once a minute, an outage every time', async () => {
    const asked: string[] = []
    const verdicts: Record<string, M2MVerdict> = {
      mt_valid: {
        kind: 'valid',
        id: 'm2m_1',
        machineId: 'mch_1',
        scopes: [],
        claims: null,
        expiresAt: T0 + 30_000,
      },
      mt_forever: {
        kind: 'valid',
        id: 'm2m_2',
        machineId: 'mch_2',
        scopes: [],
        claims: null,
        expiresAt: null,
      },
      mt_junk: { kind: 'invalid' },
      mt_outage: { kind: 'unavailable' },
    }
    const { calls, advance, app } = await setup({
      verifyM2M: (token) => {
        asked.push(token)
        return Promise.resolve(verdicts[token] ?? { kind: 'invalid' })
      },
    })
    const auth = async (token: string) =>
      (
        await app.inject({ url: '/who-machine', headers: { authorization: `Bearer ${token}` } })
      ).json<{ machineId: string | null }>()
    for (let i = 0; i < 3; i++) {
      expect(await auth('mt_valid')).toEqual({ machineId: 'mch_1' })
      expect(await auth('mt_forever')).toEqual({ machineId: 'mch_2' })
      expect(await auth('mt_junk')).toEqual({ machineId: null })
      expect(await auth('mt_outage')).toEqual({ machineId: null })
    }
    expect(asked).toEqual([
      'mt_valid',
      'mt_forever',
      'mt_junk',
      'mt_outage',
      'mt_outage',
      'mt_outage',
    ])
    advance(30_000) // mt_valid expired: asked again (and refused by Clerk in real life)
    await auth('mt_valid')
    await auth('mt_forever')
    await auth('mt_junk')
    expect(asked.slice(6)).toEqual(['mt_valid'])
    advance(30_000) // 60 s: every verdict is asked for again
    await auth('mt_forever')
    await auth('mt_junk')
    expect(asked.slice(7)).toEqual(['mt_forever', 'mt_junk'])
    expect(calls).toEqual([]) // M2M tokens never reach the plugin
  })

  it('refuses with 429 before verifying once an IP has used its unverified credentials', async () => {
    const taken = new Map<string, number>()
    const { calls, app } = await setup({
      ipLimiter: {
        take: (ip) => {
          const n = (taken.get(ip) ?? 0) + 1
          taken.set(ip, n)
          return Promise.resolve(
            n > 3 ? { allowed: false, retryAfterSeconds: 42 } : { allowed: true },
          )
        },
        giveBack: (ip) => {
          taken.set(ip, (taken.get(ip) ?? 1) - 1)
          return Promise.resolve()
        },
      },
    })
    const send = (authorization: string) => app.inject({ url: '/who', headers: { authorization } })
    // Accepted tokens give their point back: any number of them.
    for (let i = 0; i < 5; i++) expect((await send('Bearer good')).statusCode).toBe(200)
    for (let i = 0; i < 3; i++) expect((await send(`Bearer junk${i}`)).statusCode).toBe(200)
    const refused = await send('Bearer junk-more')
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['retry-after']).toBe('42')
    expect(calls.filter((c) => c.startsWith('Bearer junk'))).toHaveLength(3)
    // A token the cache already accepted is not a verification: still answered.
    expect((await send('Bearer good')).statusCode).toBe(200)
  })

  it('fetches the JWKS at most once per interval for kids it does not know, and never lets them reach the plugin', async () => {
    let fetches = 0
    const jwt = (kid: string) =>
      `Bearer ${Buffer.from(JSON.stringify({ alg: 'RS256', kid })).toString('base64url')}.e30.sig`
    const { calls, advance, who } = await setup({
      jwks: {
        kids: () => {
          fetches++
          return Promise.resolve(['ins_key_1'])
        },
        minIntervalMs: 30_000,
      },
    })
    for (let i = 0; i < 20; i++) expect(await who(jwt(`random_${i}`))).toBe(null)
    expect(fetches).toBe(1)
    expect(calls).toEqual([])
    await who(jwt('ins_key_1')) // a kid of Clerk's JWKS goes to the plugin, without a fetch
    expect(calls).toHaveLength(1)
    expect(fetches).toBe(1)
    advance(30_000)
    for (let i = 0; i < 5; i++) await who(jwt(`later_${i}`))
    expect(fetches).toBe(2)
  })
})
