// No orphan ticket: the console's deadline travels with impersonation.start. Past it the API asks
// Clerk for nothing; a ticket Clerk issues after it (a frozen Clerk, through the local server's
// injected latency) is revoked at once and recorded as the start's failure. Either way the answer
// says it did not start, and no usable ticket is left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actasCode, callRaw, startStack } from './support/stack.js'
import type { SignedIn, Stack, TrpcResponse } from './support/stack.js'

let stack: Stack
let admin: SignedIn

beforeAll(async () => {
  stack = await startStack({ env: { RATE_LIMIT_START_PER_MINUTE: '1000' } })
  admin = await stack.signIn('admin')
}, 60_000)
afterAll(async () => {
  await stack?.close()
})

async function start(userId: string, deadline: Date): Promise<TrpcResponse> {
  return callRaw(stack.app, 'impersonation.start', {
    type: 'mutation',
    token: await admin.token(),
    input: {
      userId,
      reason: 'Deadline: does a late ticket stay?',
      deadline: deadline.toISOString(),
    },
  })
}

async function rowsFor(userId: string) {
  const { items } = await stack.client(() => admin.token()).impersonation.list.query({ userId })
  return items
}

const tokensOf = (userId: string) =>
  [...stack.clerk.state.actorTokens.values()].filter((t) => t.userId === userId)

describe('impersonation.start with the console’s deadline', () => {
  it('a deadline already past (the API froze before it read the request): Clerk is not asked', async () => {
    const userId = stack.customers()[0]!.id
    const res = await start(userId, new Date(Date.now() - 1000))
    expect({ status: res.status, code: actasCode(res) }).toEqual({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
    })
    expect(JSON.stringify(res.body)).toMatch(/no ticket was issued\. It did not start/)
    expect(tokensOf(userId)).toHaveLength(0)
    expect(await rowsFor(userId)).toMatchObject([
      { status: 'failed', outcomeCode: 'SERVICE_UNAVAILABLE' },
    ])
  })

  it('Clerk answers after the deadline: its ticket is revoked at once and the start fails', async () => {
    const userId = stack.customers()[1]!.id
    stack.clerk.faults.add({ route: 'POST /v1/actor_tokens', latencyMs: 1200, times: 1 })
    const res = await start(userId, new Date(Date.now() + 300))
    expect({ status: res.status, code: actasCode(res) }).toEqual({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
    })
    expect(JSON.stringify(res.body)).not.toMatch(/"ticket"/)
    const tokens = tokensOf(userId)
    expect(tokens).toHaveLength(1)
    expect(tokens[0]!.status).toBe('revoked')
    const [row] = await rowsFor(userId)
    expect(row).toMatchObject({ status: 'failed', outcomeCode: 'SERVICE_UNAVAILABLE' })
    expect(row!.outcomeMessage).toContain(`ticket (${tokens[0]!.id}) was revoked at once`)
  })

  it('an answer before the deadline is the usual ticket', async () => {
    const userId = stack.customers()[2]!.id
    const res = await start(userId, new Date(Date.now() + 10_000))
    expect(res.status).toBe(200)
    expect(tokensOf(userId).map((t) => t.status)).toEqual(['pending'])
  })
})
