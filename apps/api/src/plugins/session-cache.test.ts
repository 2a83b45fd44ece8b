// The verdict caches of plugins/auth.ts, over real tokens of the local Clerk server: a session
// token is verified once (sessions/verifier.ts, @clerk/backend's public authenticateRequest) and
// then answered from memory until its `exp`; M2M tokens once a minute at most; nothing reaches
// Clerk without a bearer credential, nor past the per-IP limit.
import { createFapiClient, startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localClerkEnvironment, loadConfig } from '../config.js'
import type { Config } from '../config.js'
import { IpRateLimiter } from '../rate-limit.js'
import { SessionVerifier } from '../sessions/verifier.js'
import { createM2MVerifier, registerAuth } from './auth.js'

const ORIGIN = 'http://localhost:5173'
let clerk: ClerkLocal
let config: Config
let token: string

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  clerk = await startClerkLocal({ port: 0, users: 5, seed: 1 })
  config = loadConfig(localClerkEnvironment(clerk, ORIGIN))
  const admin = clerk.accounts.find((a) => a.role === 'admin')!
  const fapi = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: ORIGIN })
  const session = await fapi.signInWithPassword(admin.identifier, admin.password)
  token = await fapi.getToken(session.sessionId)
}, 60_000)

afterAll(async () => {
  await clerk?.stop()
})

async function setup(options: { ipPerMinute?: number } = {}) {
  let now = Date.now()
  const clock = () => now
  const verifier = new SessionVerifier({ ...config.clerk, now: clock })
  const m2mCalls: string[] = []
  const m2m = createM2MVerifier(config)
  const app: FastifyInstance = Fastify()
  const caches = registerAuth(app, config, {
    verifier,
    now: clock,
    ...(options.ipPerMinute
      ? { ipLimiter: new IpRateLimiter(options.ipPerMinute, { keyPrefix: 'test', now: clock }) }
      : {}),
    onLimited: (reply, s) => reply.code(429).header('retry-after', String(s)).send(),
    onUnavailable: (reply, s) => reply.code(503).header('retry-after', String(s)).send(),
    verifyM2M: (t) => {
      m2mCalls.push(t)
      return m2m(t)
    },
  })
  app.get('/who', (req) => {
    const c = req.actasCredential
    return {
      who: c === null ? null : c.kind === 'session' ? c.session.userId : c.machine.machineId,
    }
  })
  await app.ready()
  const who = async (headers: Record<string, string> = {}) => {
    const res = await app.inject({ url: '/who', headers })
    return res.statusCode === 200 ? res.json<{ who: string | null }>().who : res.statusCode
  }
  return { app, caches, m2mCalls, who, advance: (ms: number) => (now += ms) }
}

describe('verdict caches in front of Clerk (plugins/auth.ts)', () => {
  it('verifies a session token once, then answers it from memory until its exp', async () => {
    const { caches, who, advance } = await setup()
    const userId = clerk.accounts.find((a) => a.role === 'admin')!.userId
    expect(await who({ authorization: `Bearer ${token}` })).toBe(userId)
    expect(await who({ authorization: `Bearer ${token}` })).toBe(userId)
    expect({ misses: caches.sessions.misses, hits: caches.sessions.hits }).toEqual({
      misses: 1,
      hits: 1,
    })
    // Past the token's exp on the API's clock the verdict is gone: verified again.
    advance(61_000)
    await who({ authorization: `Bearer ${token}` })
    expect(caches.sessions.misses).toBe(2)
  })

  it('never keeps a refusal, and a look-alike with another signature is refused every time', async () => {
    const { caches, who } = await setup()
    const [header, payload, signature] = token.split('.')
    const forged = `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`
    expect(await who({ authorization: `Bearer ${forged}` })).toBeNull()
    expect(await who({ authorization: `Bearer ${forged}` })).toBeNull()
    expect(caches.sessions.misses).toBe(2)
    expect(caches.sessions.size).toBe(0)
  })

  it('reads Bearer credentials only: a cookie session is never verified', async () => {
    const { caches, who } = await setup()
    expect(await who({ cookie: `__session=${token}; __client_uat=1` })).toBeNull()
    expect(await who({ authorization: `Basic ${token}` })).toBeNull()
    expect(caches.sessions.misses).toBe(0)
  })

  it('verifies an M2M token once until it expires, and a refused one once a minute', async () => {
    const { m2mCalls, who, advance } = await setup()
    const machine = clerk.machines.find((m) => m.name === 'helpdesk')!
    const res = await fetch(`${clerk.url}/m2m_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${machine.secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ seconds_until_expiration: 300 }),
    })
    const m2m = (await res.json()) as { token: string }
    expect(await who({ authorization: `Bearer ${m2m.token}` })).toBe(machine.id)
    expect(await who({ authorization: `Bearer ${m2m.token}` })).toBe(machine.id)
    expect(m2mCalls).toHaveLength(1)
    // Kept at most a minute, then Clerk is asked again.
    advance(60_000)
    expect(await who({ authorization: `Bearer ${m2m.token}` })).toBe(machine.id)
    expect(m2mCalls).toHaveLength(2)
    const unknown = 'mt_' + 'x'.repeat(40)
    expect(await who({ authorization: `Bearer ${unknown}` })).toBeNull()
    expect(await who({ authorization: `Bearer ${unknown}` })).toBeNull()
    expect(m2mCalls).toHaveLength(3)
    advance(60_000)
    expect(await who({ authorization: `Bearer ${unknown}` })).toBeNull()
    expect(m2mCalls).toHaveLength(4)
  })

  it('refuses with 429 before verifying once an IP has used its unverified credentials', async () => {
    const { caches, who } = await setup({ ipPerMinute: 2 })
    expect(await who({ authorization: 'Bearer not.a.jwt' })).toBeNull()
    expect(await who({ authorization: 'Bearer not.b.jwt' })).toBeNull()
    expect(await who({ authorization: 'Bearer not.c.jwt' })).toBe(429)
    expect(caches.sessions.misses).toBe(2)
  })
})
