// Unauthenticated requests cannot spend the instance's Clerk budget. A proxy between the API
// and the local Clerk server counts the calls the API really makes: M2M verifications are
// cached by token (valid ones until expiry, refused ones a minute), each client IP may have only
// so many credentials verified and refused per minute, and a JWT naming an unknown key fetches
// Clerk's JWKS at most once per interval (the API runs without CLERK_JWT_KEY here).
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingProxy } from './support/counting-proxy.js'
import type { CountingProxy } from './support/counting-proxy.js'
import { callRaw, startStack } from './support/stack.js'
import type { Stack } from './support/stack.js'

const VERIFY = 'POST /m2m_tokens/verify'
const JWKS = 'GET /v1/jwks'
const PER_IP = 10

let clerkUrl = ''
let proxy: CountingProxy
let stack: Stack

beforeAll(async () => {
  proxy = await startCountingProxy(() => clerkUrl)
  stack = await startStack({
    env: (clerk) => {
      clerkUrl = clerk.url
      return {
        CLERK_API_URL: proxy.url,
        CLERK_JWT_KEY: '',
        RATE_LIMIT_UNVERIFIED_PER_IP_PER_MINUTE: String(PER_IP),
      }
    },
  })
}, 60_000)

afterAll(async () => {
  await stack?.close()
  await proxy?.close()
})

/** `users.search` with a bearer token, from `ip`. */
function search(token: string, ip: string) {
  return stack.app.inject({
    method: 'GET',
    url: `/trpc/users.search?input=${encodeURIComponent(JSON.stringify({ limit: 1 }))}`,
    headers: { authorization: `Bearer ${token}` },
    remoteAddress: ip,
  })
}

const junk = () => `mt_${randomBytes(24).toString('base64url')}`

describe("Clerk's budget", () => {
  it('verifies a valid M2M token with Clerk once, however often it is used', async () => {
    const { token } = await stack.m2mToken('helpdesk')
    const before = proxy.count(VERIFY)
    for (let i = 0; i < 20; i++) expect((await search(token, '10.0.1.1')).statusCode).toBe(200)
    expect(proxy.count(VERIFY) - before).toBe(1)
  })

  it('verifies the same junk M2M token once a minute at most', async () => {
    const token = junk()
    const before = proxy.count(VERIFY)
    for (let i = 0; i < 20; i++) expect((await search(token, '10.0.2.1')).statusCode).toBe(401)
    expect(proxy.count(VERIFY) - before).toBe(1)
  })

  it('refuses an address with 429 before asking Clerk once its unverified credentials are used up', async () => {
    const before = proxy.count(VERIFY)
    const statuses: number[] = []
    for (let i = 0; i < PER_IP + 15; i++)
      statuses.push((await search(junk(), '10.0.3.1')).statusCode)
    expect(statuses.slice(0, PER_IP)).toEqual(Array(PER_IP).fill(401))
    expect(statuses.slice(PER_IP)).toEqual(Array(15).fill(429))
    expect(proxy.count(VERIFY) - before).toBe(PER_IP)
    // Another address is not affected.
    expect((await search(junk(), '10.0.3.9')).statusCode).toBe(401)
    const limited = await search(junk(), '10.0.3.1')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    // Shaped by the router's own error formatter, as every other error: whose limit it is.
    expect(limited.json<{ error: { data: Record<string, unknown> } }>().error.data).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      httpStatus: 429,
      actasCode: 'RATE_LIMITED',
      rateLimitedBy: 'actas',
      retryAfter: Number(limited.headers['retry-after']),
      impersonationEnded: null,
    })
    // A valid machine from that address is not locked out by the cache it already earned.
    const { token } = await stack.m2mToken('helpdesk')
    expect((await search(token, '10.0.3.2')).statusCode).toBe(200)
  })

  it('fetches the JWKS at most once for JWTs naming unknown keys, and still accepts real tokens', async () => {
    const admin = await stack.signIn('admin')
    const real = await admin.token()
    // A real token first: its key comes from Clerk's JWKS.
    expect((await callRaw(stack.app, 'me', { type: 'query', token: real })).status).toBe(200)
    expect(proxy.count(JWKS)).toBeGreaterThan(0)
    const before = proxy.count(JWKS)
    const [, payload, signature] = real.split('.')
    for (let i = 0; i < 30; i++) {
      const header = Buffer.from(
        JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: `ins_${randomBytes(8).toString('hex')}` }),
      ).toString('base64url')
      const res = await stack.app.inject({
        method: 'GET',
        url: '/trpc/me',
        headers: { authorization: `Bearer ${header}.${payload}.${signature}` },
        remoteAddress: `10.0.4.${i}`,
      })
      expect(res.statusCode).toBe(401)
    }
    expect(proxy.count(JWKS) - before).toBeLessThanOrEqual(1)
    expect(
      (await callRaw(stack.app, 'me', { type: 'query', token: await admin.token() })).status,
    ).toBe(200)
  })
})
