// The monthly quota in block mode (issue 19, item 3): a ticket Clerk billed holds its slot
// whatever happened to it after (signed in, ended), so `quota` and the gate count the same
// thing, and a start past the plan is refused (402) before anything is asked of Clerk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actasCode, callRaw, startStack } from './support/stack.js'
import type { Stack } from './support/stack.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack({
    env: {
      IMPERSONATION_QUOTA: '2',
      IMPERSONATION_QUOTA_MODE: 'block',
      RATE_LIMIT_START_PER_MINUTE: '100',
    },
  })
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('IMPERSONATION_QUOTA=2, IMPERSONATION_QUOTA_MODE=block', () => {
  it('two used tickets fill the quota: quota says 2 of 2, the third start is a 402 and Clerk hears nothing of it', async () => {
    const staff = await stack.signIn('admin')
    const api = stack.client(() => staff.token())
    const [first, second, third] = stack.customers()
    // Two tickets, each used: a ticket sign-in, then `signedIn`; the first one also ended.
    for (const user of [first!, second!]) {
      const started = await api.impersonation.start.mutate({
        userId: user.id,
        reason: 'Quota check in block mode',
      })
      const session = await stack.signInWithTicket(started.ticket)
      await stack
        .client(() => session.token())
        .impersonation.signedIn.mutate({ sessionToken: await session.token() })
      expect(
        await api.impersonation.get.query({ impersonationId: started.impersonationId }),
      ).toMatchObject({ status: 'signed_in' })
      if (user === first)
        await api.impersonation.end.mutate({
          impersonationId: started.impersonationId,
          reason: 'Done with the quota check',
        })
    }
    expect(await api.quota.query()).toMatchObject({ used: 2, limit: 2, remaining: 0 })

    const token = await staff.token()
    stack.clerk.requests.reset()
    const refused = await callRaw(stack.app, 'impersonation.start', {
      type: 'mutation',
      token,
      input: { userId: third!.id, reason: 'Quota check in block mode' },
    })
    expect({ status: refused.status, code: actasCode(refused) }).toEqual({
      status: 402,
      code: 'QUOTA_EXCEEDED',
    })
    expect(stack.clerk.requests.snapshot()).toEqual({ total: 0, routes: {} })
    expect(stack.clerk.state.actorTokens.size).toBe(2)
    // The refusal is on the record, and frees nothing.
    const { items } = await api.impersonation.list.query({ userId: third!.id })
    expect(items[0]).toMatchObject({ status: 'denied', outcomeCode: 'QUOTA_EXCEEDED' })
    expect(await api.quota.query()).toMatchObject({ used: 2, remaining: 0 })
    expect((await stack.deps.audit.verify({ full: true })).ok).toBe(true)
  })
})
