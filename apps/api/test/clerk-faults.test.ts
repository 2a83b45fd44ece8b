// Faults injected on the local Clerk server: each maps to a typed error with a plain message,
// each attempt leaves exactly one audit row with its outcome, and no ticket reaches the logs.
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { actasCode, callRaw, startStack } from './support/stack.js'
import type { SignedIn, Stack, TrpcResponse } from './support/stack.js'

let stack: Stack
let admin: SignedIn
const issuedTickets: string[] = []

let nextCustomer = 0
function customer(): string {
  return stack.customers()[nextCustomer++]!.id
}

async function start(userId: string): Promise<TrpcResponse> {
  const res = await callRaw(stack.app, 'impersonation.start', {
    type: 'mutation',
    token: await admin.token(),
    input: { userId, reason: 'Fault injection: what does the console see?' },
  })
  const ticket = (res.body as { result?: { data?: { ticket?: string } } }).result?.data?.ticket
  if (ticket) issuedTickets.push(ticket)
  return res
}

async function rowsFor(userId: string) {
  const res = await callRaw(stack.app, 'impersonation.list', {
    type: 'query',
    token: await admin.token(),
    input: { userId },
  })
  return (
    res.body as {
      result: {
        data: {
          items: { status: string; outcomeCode: string | null; outcomeMessage: string | null }[]
        }
      }
    }
  ).result.data.items
}

function message(res: TrpcResponse): string {
  return (res.body as { error: { message: string } }).error.message
}

beforeAll(async () => {
  stack = await startStack({
    env: {
      CLERK_TIMEOUT_MS: '400',
      RATE_LIMIT_START_PER_MINUTE: '1000',
      RATE_LIMIT_SEARCH_PER_MINUTE: '1000',
    },
  })
  admin = await stack.signIn('admin')
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('actor token faults', () => {
  it('issues normally when nothing is injected', async () => {
    const userId = customer()
    const res = await start(userId)
    expect(res.status).toBe(200)
    expect(await rowsFor(userId)).toMatchObject([{ status: 'issued' }])
  })

  it.each([
    {
      status: 429 as const,
      retryAfterSeconds: 7,
      http: 429,
      code: 'RATE_LIMITED',
      text: /retry in 7 s/,
      retryAfter: '7',
    },
    {
      status: 500 as const,
      http: 503,
      code: 'SERVICE_UNAVAILABLE',
      text: /Clerk is unavailable/,
      retryAfter: '5',
    },
    {
      status: 503 as const,
      retryAfterSeconds: 11,
      http: 503,
      code: 'SERVICE_UNAVAILABLE',
      text: /Clerk is unavailable/,
      retryAfter: '11',
    },
  ])('Clerk $status → $http $code, one failed row, never retried', async (fault) => {
    const userId = customer()
    stack.clerk.faults.add({
      route: 'POST /v1/actor_tokens',
      status: fault.status,
      ...(fault.retryAfterSeconds ? { retryAfterSeconds: fault.retryAfterSeconds } : {}),
      times: 1,
    })
    const tokensBefore = stack.clerk.state.actorTokens.size
    const res = await start(userId)
    // `times: 1`: a retry would have succeeded and returned a ticket.
    expect({ status: res.status, code: actasCode(res) }).toEqual({
      status: fault.http,
      code: fault.code,
    })
    expect(message(res)).toMatch(fault.text)
    expect(res.headers['retry-after']).toBe(fault.retryAfter)
    expect(stack.clerk.state.actorTokens.size).toBe(tokensBefore)
    expect(await rowsFor(userId)).toMatchObject([{ status: 'failed', outcomeCode: fault.code }])
  })

  it('a Clerk that does not answer in time → 503, one failed row, and the late ticket revoked', async () => {
    const userId = customer()
    stack.clerk.faults.add({ route: 'POST /v1/actor_tokens', latencyMs: 1500, times: 1 })
    const res = await start(userId)
    expect({ status: res.status, code: actasCode(res) }).toEqual({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
    })
    expect(message(res)).toMatch(/did not answer in time/)
    const rows = await rowsFor(userId)
    expect(rows).toMatchObject([{ status: 'failed', outcomeCode: 'SERVICE_UNAVAILABLE' }])
    // The SDK call cannot be cancelled: Clerk still issues the token once its delay is over. The
    // API revokes it as soon as that late answer arrives: no usable ticket is left in Clerk.
    const tokens = () =>
      [...stack.clerk.state.actorTokens.values()].filter((t) => t.userId === userId)
    await expect.poll(() => tokens().length, { timeout: 15_000 }).toBe(1)
    await expect.poll(() => tokens()[0]!.status, { timeout: 15_000 }).toBe('revoked')
    // Logged once the revocation's answer is back (after clerk-local marked it revoked).
    await expect
      .poll(() => stack.logs.join(''), { timeout: 15_000 })
      .toMatch(/Clerk issued an actor token after the timeout; revoked it/)
  })

  it('a used-up monthly quota (402) → QUOTA_EXCEEDED in plain words, one failed row', async () => {
    const userId = customer()
    stack.clerk.faults.setQuota(true, stack.clerk.state.actorTokens.size)
    try {
      const res = await start(userId)
      expect({ status: res.status, code: actasCode(res) }).toEqual({
        status: 402,
        code: 'QUOTA_EXCEEDED',
      })
      expect(message(res)).toMatch(/monthly impersonation quota/)
      expect(await rowsFor(userId)).toMatchObject([
        { status: 'failed', outcomeCode: 'QUOTA_EXCEEDED' },
      ])
    } finally {
      stack.clerk.faults.setQuota(false)
    }
  })

  it('hands out no ticket when the audit row cannot be written', async () => {
    const userId = customer()
    const db = stack.deps.database.db
    const tokensBefore = stack.clerk.state.actorTokens.size
    // Reads still work (step-up reads the staff member's last return); only appends fail.
    await db.execute(
      sql.raw(`create function actas_test_refuse_append() returns trigger language plpgsql as $$
        begin raise exception 'appends refused by the test'; end $$`),
    )
    await db.execute(
      sql`create trigger test_refuse_append before insert on audit_events for each row execute function actas_test_refuse_append()`,
    )
    try {
      const res = await start(userId)
      expect({ status: res.status, code: actasCode(res) }).toEqual({
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
      })
      expect(message(res)).toMatch(/audit log could not be written/)
      expect(JSON.stringify(res.body)).not.toMatch(/ticket"/)
    } finally {
      await db.execute(sql`drop trigger test_refuse_append on audit_events`)
      await db.execute(sql`drop function actas_test_refuse_append()`)
    }
    expect(stack.clerk.state.actorTokens.size).toBe(tokensBefore)
    expect(await rowsFor(userId)).toEqual([])
  })
})

describe('read faults', () => {
  const search = async () =>
    callRaw(stack.app, 'users.search', {
      type: 'query',
      token: await admin.token(),
      input: { limit: 5 },
    })

  it('retries a read twice with backoff, then answers', async () => {
    stack.clerk.faults.add({ route: 'GET /v1/users', status: 503, times: 2 })
    const res = await search()
    expect(res.status).toBe(200)
  })

  it('gives up after two retries with SERVICE_UNAVAILABLE', async () => {
    stack.clerk.faults.add({ route: 'GET /v1/users', status: 500, times: 3 })
    const res = await search()
    expect({ status: res.status, code: actasCode(res) }).toEqual({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
    })
    stack.clerk.faults.clear()
  })

  const listCalls = () => stack.clerk.requests.snapshot().routes['GET /v1/users'] ?? 0
  const errorData = (res: TrpcResponse) =>
    (res.body as { error: { data: { retryAfter: number; rateLimitedBy: string } } }).error.data

  it("passes Clerk's 429 and its Retry-After on, without retrying, when the wait is over 2 s", async () => {
    stack.clerk.faults.add({ route: 'GET /v1/users', status: 429, retryAfterSeconds: 7, times: 1 })
    const before = listCalls()
    const res = await search()
    expect({ status: res.status, code: actasCode(res) }).toEqual({
      status: 429,
      code: 'RATE_LIMITED',
    })
    expect(res.headers['retry-after']).toBe('7')
    expect(errorData(res)).toMatchObject({ retryAfter: 7, rateLimitedBy: 'clerk' })
    expect(message(res)).toBe('Clerk is rate limiting requests; retry in 7 s.')
    expect(listCalls() - before).toBe(1)
    // One fault, one request: the next search is answered.
    expect((await search()).status).toBe(200)
  })

  it('waits out a Retry-After of at most 2 s once, then answers', async () => {
    stack.clerk.faults.add({ route: 'GET /v1/users', status: 429, retryAfterSeconds: 1, times: 1 })
    const before = listCalls()
    const res = await search()
    expect(res.status).toBe(200)
    // The refused list, the list again, then the page's staff read (also GET /v1/users).
    expect(listCalls() - before).toBe(3)
  })

  it('retries a short 429 only once: a second 429 is the typed error with the wait', async () => {
    stack.clerk.faults.add({ route: 'GET /v1/users', status: 429, retryAfterSeconds: 1, times: 2 })
    const before = listCalls()
    const res = await search()
    expect({ status: res.status, code: actasCode(res) }).toEqual({
      status: 429,
      code: 'RATE_LIMITED',
    })
    expect(errorData(res)).toMatchObject({ retryAfter: 1, rateLimitedBy: 'clerk' })
    expect(listCalls() - before).toBe(2)
    stack.clerk.faults.clear()
  })

  it('bounds a read that Clerk does not answer: 503 after the timeout and its retries', async () => {
    // Clerk holds each of the three attempts for a minute. The 503 arrives while every one of
    // them is still held (the fault's delay has not ended), which only a bounded read allows;
    // an unbounded one would wait the minutes out and fail the test at its deadline.
    const held = vi.spyOn(stack.clerk.faults, 'apply')
    stack.clerk.faults.add({ route: 'GET /v1/users', latencyMs: 60_000, times: 3 })
    try {
      const res = await search()
      expect({ status: res.status, code: actasCode(res) }).toEqual({
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
      })
      expect(message(res)).toBe('Clerk did not answer in time; try again in a moment.')
      const attempts = held.mock.calls.flatMap(([, route], i) =>
        route === 'GET /v1/users' ? [held.mock.settledResults[i]?.type] : [],
      )
      // Three attempts, every one of them still held by Clerk when the answer came.
      expect(attempts).toEqual(['incomplete', 'incomplete', 'incomplete'])
    } finally {
      held.mockRestore()
      stack.clerk.faults.clear()
    }
  })

  it('maps a vanished user (404) to USER_NOT_FOUND', async () => {
    const userId = customer()
    stack.clerk.state.users.delete(userId)
    const res = await start(userId)
    expect({ status: res.status, code: actasCode(res) }).toEqual({
      status: 404,
      code: 'USER_NOT_FOUND',
    })
    expect(message(res)).toBe('This user no longer exists.')
    expect(await rowsFor(userId)).toMatchObject([
      { status: 'failed', outcomeCode: 'USER_NOT_FOUND' },
    ])
  })
})

describe('logs', () => {
  it('carry request ids and never a ticket, a session token or a key', async () => {
    const userId = customer()
    const res = await start(userId)
    expect(res.status).toBe(200)
    const token = await admin.token()
    await callRaw(stack.app, 'me', { type: 'query', token })
    expect(issuedTickets.length).toBeGreaterThanOrEqual(2)

    const logs = stack.logs.join('')
    expect(logs).toContain('"requestId"')
    expect(logs).toContain('impersonation issued')
    for (const ticket of issuedTickets) expect(logs).not.toContain(ticket)
    expect(logs).not.toContain(token)
    expect(logs).not.toContain(token.split('.')[2]!)
    expect(logs).not.toContain(stack.clerk.secretKey)
    expect(logs).not.toMatch(/Bearer [A-Za-z0-9_-]{20,}/)
  })
})
