import type { ClerkFastifyOptions } from '@clerk/fastify'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFapiClient, type FapiClient } from '../src/index.js'
import { startTestServer, type TestServer } from './support/local-server.js'
import { backendSdk } from './support/local.js'

// The real @clerk/backend and @clerk/fastify verify the session JWTs the local server mints
// after real FAPI sign-ins: offline with `jwtKey` (the PEM), and with the server's JWKS.

process.env.CLERK_TELEMETRY_DISABLED = '1'

const ORIGIN = 'http://localhost:5173'
const IMPERSONATE = { permission: 'org:admin:impersonate' } as const
let offsetMs = 0
let server: TestServer
/** Signed-in FAPI clients; every test takes a fresh token (they live 60 s). */
let admin: FapiClient
let agent: FapiClient
let actor: FapiClient
let adminSessionId: string

function fapiClient(origin = ORIGIN) {
  return createFapiClient({ frontendApiUrl: server.frontendApiUrl, origin })
}

beforeAll(async () => {
  server = await startTestServer({ now: () => Date.now() + offsetMs })
  const a = server.account('admin')
  const g = server.account('agent')
  admin = fapiClient()
  adminSessionId = (await admin.signInWithPassword(a.identifier, a.password)).sessionId
  agent = fapiClient()
  await agent.signInWithPassword(g.identifier, g.password)
  // The ticket comes from BAPI's POST /v1/actor_tokens, through @clerk/backend.
  const { ticket } = await server.createActorToken(g.userId, { sub: a.userId, reason: 'ticket 42' })
  actor = fapiClient()
  await actor.signInWithTicket(ticket)
})
afterAll(async () => {
  await server?.stop()
})

const bearer = (token: string) =>
  new Request('http://localhost:3000/trpc/users.search', {
    headers: { authorization: `Bearer ${token}` },
  })

describe('@clerk/backend authenticateRequest', () => {
  const modes = [
    ['jwtKey (offline PEM)', () => ({ jwtKey: server.jwtPublicKeyPem })],
    ['remote JWKS (GET /v1/jwks)', () => ({})],
  ] as const

  for (const [mode, keyOptions] of modes) {
    describe(mode, () => {
      const authenticate = (token: string, authorizedParties = [ORIGIN]) => {
        const clerk = backendSdk(server, keyOptions())
        return clerk.authenticateRequest(bearer(token), { authorizedParties, ...keyOptions() })
      }

      it('signs in the admin, who may impersonate in the active organization', async () => {
        const state = await authenticate(await admin.getToken())
        expect(state.status).toBe('signed-in')
        const auth = state.toAuth()!
        expect(auth.userId).toBe(server.account('admin').userId)
        expect(auth.sessionId).toBe(adminSessionId)
        expect(auth.orgId).toBe(server.supportOrgId)
        expect(auth.orgRole).toBe('org:admin')
        expect(auth.has(IMPERSONATE)).toBe(true)
        expect(auth.actor).toBeUndefined()
      })

      it('signs in the agent, who may not impersonate', async () => {
        const auth = (await authenticate(await agent.getToken())).toAuth()!
        expect(auth.userId).toBe(server.account('agent').userId)
        expect(auth.orgRole).toBe('org:member')
        expect(auth.has(IMPERSONATE)).toBe(false)
      })

      it('sets actor on the actor session', async () => {
        const auth = (await authenticate(await actor.getToken())).toAuth()!
        expect(auth.userId).toBe(server.account('agent').userId)
        expect(auth.actor).toEqual({ sub: server.account('admin').userId, reason: 'ticket 42' })
      })

      it('rejects a token minted for another origin (azp)', async () => {
        const a = server.account('admin')
        const evil = await createFapiClient({
          frontendApiUrl: server.frontendApiUrl,
          origin: 'http://evil.test',
        }).signInWithPassword(a.identifier, a.password)
        const state = await authenticate(evil.token)
        expect(state.status).toBe('signed-out')
        expect(state.reason).toBe('token-invalid-authorized-parties')
      })

      it('rejects an expired token', async () => {
        const a = server.account('admin')
        const client = fapiClient()
        const { sessionId } = await client.signInWithPassword(a.identifier, a.password)
        offsetMs = -5 * 60_000
        const stale = await client.getToken(sessionId)
        offsetMs = 0
        const state = await authenticate(stale)
        expect(state.status).toBe('signed-out')
        expect(state.reason).toMatch(/expired/)
      })

      it('rejects alg: none', async () => {
        const [realHeader, payload] = (await admin.getToken()).split('.') as [string, string]
        const { kid } = JSON.parse(Buffer.from(realHeader, 'base64url').toString()) as {
          kid: string
        }
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid })).toString(
          'base64url',
        )
        const state = await authenticate(`${header}.${payload}.`)
        expect(state.status).toBe('signed-out')
        expect(state.reason).toBe('token-invalid-algorithm')
        expect(state.toAuth()?.userId ?? null).toBeNull()
      })
    })
  }
})

describe('@clerk/fastify clerkPlugin + getAuth', () => {
  let app: FastifyInstance

  beforeAll(async () => {
    const { default: Fastify } = await import('fastify')
    const { clerkPlugin, getAuth } = await import('@clerk/fastify')
    app = Fastify()
    // `authorizedParties` is not in ClerkFastifyOptions' type, but the plugin passes it on to
    // authenticateRequest (the wrong-origin test below proves it).
    const options: ClerkFastifyOptions & { authorizedParties: string[] } = {
      secretKey: server.secretKey,
      publishableKey: server.publishableKey,
      apiUrl: server.url,
      jwtKey: server.jwtPublicKeyPem,
      authorizedParties: [ORIGIN],
    }
    await app.register(clerkPlugin, options)
    app.get('/whoami', (req) => {
      const auth = getAuth(req)
      return {
        userId: auth.userId,
        actor: auth.actor ?? null,
        canImpersonate: auth.userId ? auth.has(IMPERSONATE) : false,
      }
    })
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
  })

  const whoami = async (token?: string) => {
    const res = await app.inject({
      method: 'GET',
      url: '/whoami',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    })
    expect(res.statusCode).toBe(200)
    return res.json<{
      userId: string | null
      actor: Record<string, unknown> | null
      canImpersonate: boolean
    }>()
  }

  it('gives the admin has(org:admin:impersonate)', async () => {
    expect(await whoami(await admin.getToken())).toEqual({
      userId: server.account('admin').userId,
      actor: null,
      canImpersonate: true,
    })
  })

  it('denies it to the agent', async () => {
    expect(await whoami(await agent.getToken())).toEqual({
      userId: server.account('agent').userId,
      actor: null,
      canImpersonate: false,
    })
  })

  it('sets actor on the actor session', async () => {
    expect(await whoami(await actor.getToken())).toEqual({
      userId: server.account('agent').userId,
      actor: { sub: server.account('admin').userId, reason: 'ticket 42' },
      canImpersonate: false,
    })
  })

  it('is signed out with a token minted for another origin', async () => {
    const a = server.account('admin')
    const evil = createFapiClient({
      frontendApiUrl: server.frontendApiUrl,
      origin: 'http://evil.test',
    })
    await evil.signInWithPassword(a.identifier, a.password)
    expect(await whoami(await evil.getToken())).toEqual({
      userId: null,
      actor: null,
      canImpersonate: false,
    })
  })

  it('is signed out without a token', async () => {
    expect(await whoami()).toEqual({ userId: null, actor: null, canImpersonate: false })
  })
})
