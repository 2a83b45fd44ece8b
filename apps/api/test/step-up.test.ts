// Step-up before a ticket, through the real stack: the staff session's `fva` (minted by the local
// Clerk server, read by @clerk/fastify) decides whether impersonation.start may issue a ticket.
// A stale first factor gets Clerk's reverification error shape as a typed 403 and nothing is
// asked of Clerk nor recorded; after a password reverification over FAPI (what clerk-js's
// session.startVerification / attemptFirstFactorVerification send) the same call issues.
import { getActAsError } from '@actas/contracts/client'
import { isReverificationHint } from '@clerk/shared/authorization-errors'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callRaw, startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let cursor = 0

function nextCustomer() {
  const user = stack.customers()[cursor++]
  if (!user) throw new Error('out of customers')
  return user
}

/** Makes the server believe `who` verified their password `minutes` ago. */
function firstFactorAge(who: SignedIn, minutes: number) {
  stack.clerk.state.sessions.get(who.sessionId)!.firstFactorVerifiedAt =
    stack.clerk.state.now() - minutes * 60_000
}

beforeAll(async () => {
  // STEP_UP_MINUTES unset: the default, 10.
  stack = await startStack({ env: { RATE_LIMIT_START_PER_MINUTE: '1000' } })
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('step-up before impersonation.start', () => {
  it('a first factor verified 11 minutes ago gets the reverification error; nothing issued or recorded', async () => {
    const admin = await stack.signIn('admin')
    firstFactorAge(admin, 11)
    const user = nextCustomer()
    const tokensBefore = stack.clerk.state.actorTokens.size
    const res = await callRaw(stack.app, 'impersonation.start', {
      type: 'mutation',
      token: await admin.token(),
      input: { userId: user.id, reason: 'Reproduce the checkout bug' },
    })
    expect(res.status).toBe(403)
    const error = (res.body as { error: { message: string; data: Record<string, unknown> } }).error
    expect(error.data).toMatchObject({
      actasCode: 'REVERIFICATION_REQUIRED',
      httpStatus: 403,
      clerk_error: {
        type: 'forbidden',
        reason: 'reverification-error',
        metadata: { reverification: { level: 'first_factor', afterMinutes: 10 } },
      },
    })
    // Clerk's own helper recognises it, as clerk-js's useReverification would.
    expect(isReverificationHint(error.data)).toBe(true)
    expect(error.message).toContain('within the last 10 minutes')
    expect(stack.clerk.state.actorTokens.size).toBe(tokensBefore)
    const api = stack.client(() => admin.token())
    expect((await api.impersonation.list.query({ userId: user.id })).items).toEqual([])
  })

  it('the typed client reads the requirement; after a password reverification the same call issues', async () => {
    const admin = await stack.signIn('admin')
    firstFactorAge(admin, 45)
    const api = stack.client(() => admin.token())
    const input = { userId: nextCustomer().id, reason: 'Reproduce the checkout bug' }
    const refused = await api.impersonation.start.mutate(input).then(
      () => null,
      (e: unknown) => getActAsError(e),
    )
    expect(refused).toMatchObject({
      code: 'REVERIFICATION_REQUIRED',
      httpStatus: 403,
      reverification: { level: 'first_factor', afterMinutes: 10 },
    })
    // A wrong password changes nothing.
    await expect(
      admin.fapi.reverifyWithPassword('not-the-password', { sessionId: admin.sessionId }),
    ).rejects.toThrow()
    expect(
      await api.impersonation.start.mutate(input).then(
        () => null,
        (e: unknown) => getActAsError(e).code,
      ),
    ).toBe('REVERIFICATION_REQUIRED')

    await admin.fapi.reverifyWithPassword(stack.account('admin').password, {
      sessionId: admin.sessionId,
    })
    const started = await api.impersonation.start.mutate(input)
    expect(started.ticket).toBeTruthy()
  })

  it('a first factor verified 9 minutes ago is recent enough', async () => {
    const admin = await stack.signIn('admin')
    firstFactorAge(admin, 9)
    const api = stack.client(() => admin.token())
    const started = await api.impersonation.start.mutate({
      userId: nextCustomer().id,
      reason: 'Reproduce the checkout bug',
    })
    expect(started.impersonationId).toBeTruthy()
  })
})

describe('STEP_UP_MINUTES', () => {
  it('a shorter limit applies; off (outside production) issues whatever the age', async () => {
    const strict = await startStack({ env: { STEP_UP_MINUTES: '2' } })
    const off = await startStack({ env: { STEP_UP_MINUTES: 'off' } })
    try {
      for (const [s, expected] of [
        [strict, 'REVERIFICATION_REQUIRED'],
        [off, 'issued'],
      ] as const) {
        const admin = await s.signIn('admin')
        s.clerk.state.sessions.get(admin.sessionId)!.firstFactorVerifiedAt =
          s.clerk.state.now() - 3 * 60_000
        const api = s.client(() => admin.token())
        const outcome = await api.impersonation.start
          .mutate({ userId: s.customers()[0]!.id, reason: 'Reproduce the checkout bug' })
          .then(
            () => 'issued',
            (e: unknown) => getActAsError(e).code,
          )
        expect(outcome).toBe(expected)
      }
    } finally {
      await strict.close()
      await off.close()
    }
  }, 120_000)
})
