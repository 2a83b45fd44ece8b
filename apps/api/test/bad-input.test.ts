// Property-based bad input: whatever a caller sends, the answer is a 4xx with no stack trace,
// never a 5xx. ≥ 1,000 runs per procedure, through the whole stack with a valid admin token.
import {
  AuditVerifyInputSchema,
  ImpersonationEndInputSchema,
  ImpersonationSignedInInputSchema,
  ImpersonationSignInFailedInputSchema,
  ImpersonationStopInputSchema,
  ImpersonationGetInputSchema,
  ImpersonationListInputSchema,
  ImpersonationRevokeInputSchema,
  ImpersonationStartInputSchema,
  SessionInspectInputSchema,
  SessionsRevokedInputSchema,
  ImpersonationActionsInputSchema,
  UsersSearchInputSchema,
} from '@actas/contracts'
import fc from 'fast-check'
import { z } from 'zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

const RUNS = 1000

let stack: Stack
let admin: SignedIn
let token = ''
let tokenAt = 0

async function freshToken(): Promise<string> {
  if (Date.now() - tokenAt > 20_000) {
    token = await admin.token()
    tokenAt = Date.now()
  }
  return token
}

beforeAll(async () => {
  stack = await startStack({
    env: {
      RATE_LIMIT_START_PER_MINUTE: '1000000',
      RATE_LIMIT_SEARCH_PER_MINUTE: '1000000',
      LOG_LEVEL: 'warn',
    },
  })
  admin = await stack.signIn('admin')
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

function assertClientError(res: { statusCode: number; body: string }, context: string): void {
  if (res.statusCode < 400 || res.statusCode > 499) {
    throw new Error(`${context} → ${res.statusCode}: ${res.body.slice(0, 300)}`)
  }
  if (/\n\s+at |"stack"|node_modules|\.ts:\d+/.test(res.body)) {
    throw new Error(`${context} → a stack trace or source path leaked: ${res.body.slice(0, 300)}`)
  }
}

/** Sends `raw` as a procedure's input: in the query string (GET) or as the body (POST). */
async function send(path: string, raw: string, asQuery: boolean) {
  const authorization = `Bearer ${await freshToken()}`
  return asQuery
    ? stack.app.inject({
        method: 'GET',
        url: `/trpc/${path}?input=${encodeURIComponent(raw)}`,
        headers: { authorization },
      })
    : stack.app.inject({
        method: 'POST',
        url: `/trpc/${path}`,
        headers: { authorization, 'content-type': 'application/json' },
        payload: raw,
      })
}

/** JSON-ish junk, with some near misses of the real shapes. */
const junk = fc.oneof(
  fc.jsonValue(),
  fc.anything({ withObjectString: true, withNullPrototype: true, maxDepth: 3 }),
  fc.record(
    {
      query: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)),
      limit: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double(), fc.string()),
      offset: fc.oneof(fc.integer({ min: -10, max: 2_000_000 }), fc.string()),
      cursor: fc.oneof(fc.string({ maxLength: 250 }), fc.base64String()),
      orderBy: fc.oneof(fc.constantFrom('-created_at', 'created_at', 'password', ''), fc.string()),
      userId: fc.oneof(
        fc.constantFrom('user_', 'user_abc', 'org_1', ''),
        fc.string({ maxLength: 80 }),
      ),
      reason: fc.string({ maxLength: 600 }),
      ticketUrl: fc.oneof(fc.webUrl(), fc.string(), fc.constant('javascript:alert(1)')),
      sessionMinutes: fc.oneof(fc.integer({ min: -5, max: 100 }), fc.double()),
      impersonationId: fc.oneof(fc.uuid(), fc.string()),
      status: fc.oneof(fc.constantFrom('issued', 'denied', 'nope'), fc.string()),
      actorId: fc.string({ maxLength: 80 }),
      since: fc.oneof(fc.constantFrom('0', '12', '-1', '1e3'), fc.string({ maxLength: 20 })),
      sessionId: fc.oneof(fc.constantFrom('sess_123456', 'sess_'), fc.string({ maxLength: 80 })),
      actions: fc.array(
        fc.record(
          {
            method: fc.constantFrom('GET', 'POST', 'TRACE', ''),
            route: fc.oneof(
              fc.constantFrom('/orders', '/orders?x=1', '/orders/123', 'orders'),
              fc.string({ maxLength: 250 }),
            ),
            status: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.string()),
            at: fc.oneof(fc.constant(new Date().toISOString()), fc.string()),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 120 },
      ),
    },
    { requiredKeys: [] },
  ),
)

const procedures = [
  { path: 'users.search', type: 'query', schema: UsersSearchInputSchema },
  { path: 'impersonation.start', type: 'mutation', schema: ImpersonationStartInputSchema },
  { path: 'impersonation.revoke', type: 'mutation', schema: ImpersonationRevokeInputSchema },
  { path: 'impersonation.list', type: 'query', schema: ImpersonationListInputSchema },
  { path: 'impersonation.get', type: 'query', schema: ImpersonationGetInputSchema },
  { path: 'audit.verify', type: 'query', schema: AuditVerifyInputSchema },
  { path: 'me', type: 'query', schema: z.undefined() },
  { path: 'quota', type: 'query', schema: z.undefined() },
  { path: 'sessions.inspect', type: 'mutation', schema: SessionInspectInputSchema },
  { path: 'impersonation.active', type: 'query', schema: z.undefined() },
  { path: 'impersonation.end', type: 'mutation', schema: ImpersonationEndInputSchema },
  { path: 'impersonation.stop', type: 'mutation', schema: ImpersonationStopInputSchema },
  { path: 'impersonation.signedIn', type: 'mutation', schema: ImpersonationSignedInInputSchema },
  { path: 'sessions.revoked', type: 'query', schema: SessionsRevokedInputSchema },
  { path: 'impersonation.actions', type: 'mutation', schema: ImpersonationActionsInputSchema },
  {
    path: 'impersonation.signInFailed',
    type: 'mutation',
    schema: ImpersonationSignInFailedInputSchema,
  },
] as const

describe('bad input', () => {
  it.each(procedures)(
    '$path answers 4xx to any invalid input',
    async ({ path, type, schema }) => {
      await fc.assert(
        fc.asyncProperty(
          // Judge validity on what the server receives: JSON drops `undefined` members, so
          // `{"": undefined}` arrives as `{}`, which is valid input.
          junk
            .map((input) => JSON.stringify(input) ?? 'undefined')
            .filter((serialized) => {
              const received: unknown =
                serialized === 'undefined' ? undefined : (JSON.parse(serialized) as unknown)
              return !schema.safeParse(received).success
            }),
          async (serialized) => {
            const res = await send(path, serialized, type === 'query')
            assertClientError(res, `${path} ${serialized.slice(0, 200)}`)
          },
        ),
        { numRuns: RUNS },
      )
    },
    120_000,
  )

  it('answers 4xx to malformed bodies and query strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('users.search', 'impersonation.start', 'impersonation.list', 'me'),
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.constantFrom('{', '{"0":', '%', '%E0%A4%A', 'null', '[]', '{"json":1}'),
        ),
        fc.boolean(),
        async (path, raw, asQuery) => {
          let body: unknown
          try {
            body = JSON.parse(raw)
          } catch {
            body = Symbol('not json')
          }
          // Only clearly malformed payloads: valid JSON may be a valid input.
          // (An empty input means "no input", which `me` rightly accepts.)
          fc.pre(typeof body === 'symbol' && raw !== '')
          const res = await send(path, raw, asQuery)
          assertClientError(res, `${asQuery ? 'GET' : 'POST'} ${path} ${JSON.stringify(raw)}`)
        },
      ),
      { numRuns: RUNS },
    )
  }, 120_000)

  it('answers 4xx to malformed batch paths', async () => {
    const name = fc.oneof(
      fc.constantFrom(
        'me',
        'quota',
        'users.search',
        'impersonation.list',
        'impersonation.start',
        'impersonation.revoke',
      ),
      fc.constantFrom(
        '',
        'nope',
        'users',
        'users.',
        '.search',
        '__proto__',
        'constructor',
        'me.me',
        '%20',
        '..',
      ),
      fc.stringMatching(/^[A-Za-z0-9._~%-]{0,40}$/),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(name, { minLength: 1, maxLength: 40 }),
        fc.oneof(
          fc.constant(undefined),
          fc.string({ maxLength: 100 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        fc.boolean(),
        async (names, input, post) => {
          const authorization = `Bearer ${await freshToken()}`
          const known = new Set([
            'me',
            'quota',
            'users.search',
            'impersonation.list',
            'impersonation.start',
            'impersonation.revoke',
          ])
          // Clearly malformed: an unknown procedure in the batch, or more calls than allowed.
          fc.pre(names.some((n) => !known.has(n)) || names.length > 20)
          const query = `batch=1${input === undefined ? '' : `&input=${encodeURIComponent(input)}`}`
          const url = `/trpc/${names.join(',')}?${query}`
          const res = post
            ? await stack.app.inject({
                method: 'POST',
                url,
                headers: { authorization, 'content-type': 'application/json' },
                payload: input ?? '{}',
              })
            : await stack.app.inject({ method: 'GET', url, headers: { authorization } })
          assertClientError(res, `${post ? 'POST' : 'GET'} ${url.slice(0, 200)}`)
        },
      ),
      { numRuns: RUNS },
    )
  }, 120_000)

  it('accepts a full batch of 20 calls (no 414), and refuses 21', async () => {
    const authorization = `Bearer ${await freshToken()}`
    const batch = (n: number) => {
      const names = Array.from({ length: n }, () => 'impersonation.list')
      const input = Object.fromEntries(
        names.map((_, i) => [
          i,
          { limit: 100, status: 'issued', actorId: 'user_0123456789abcdefghijklmnopq' },
        ]),
      )
      return stack.app.inject({
        method: 'GET',
        url: `/trpc/${names.join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`,
        headers: { authorization },
      })
    }
    const twenty = await batch(20)
    expect(twenty.statusCode).toBe(200)
    expect(JSON.parse(twenty.body)).toHaveLength(20)
    const longest = Array.from({ length: 20 }, () => 'impersonation.revoke').join(',')
    expect(
      (
        await stack.app.inject({
          method: 'POST',
          url: `/trpc/${longest}?batch=1`,
          headers: { authorization },
          payload: {},
        })
      ).statusCode,
    ).not.toBe(404)
    const res = await batch(21)
    assertClientError(res, '21 calls')
    expect(res.statusCode).toBe(400)
    // Refused before tRPC runs, yet shaped like every other error (the router's formatter): the
    // same `data` keys as a refusal from inside tRPC (but `path`: no single procedure is meant).
    const inside = await stack.app.inject({ method: 'GET', url: '/trpc/me' })
    const data = (r: { body: string }) =>
      (JSON.parse(r.body) as { error: { data: Record<string, unknown> } }).error.data
    const keys = (r: { body: string }) =>
      Object.keys(data(r))
        .filter((k) => k !== 'path')
        .sort()
    expect(keys(res)).toEqual(keys(inside))
    expect(data(res)).toMatchObject({
      code: 'BAD_REQUEST',
      actasCode: 'INVALID_INPUT',
      rateLimitedBy: null,
      impersonationEnded: null,
    })
    const unknown = await stack.app.inject({
      method: 'GET',
      url: '/trpc/me,nope?batch=1',
      headers: { authorization },
    })
    expect(unknown.statusCode).toBe(404)
    expect(keys(unknown)).toEqual(keys(inside))
  })
})
