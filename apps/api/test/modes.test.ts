// Read-only impersonation: the mode asked at `impersonation.start` is stored (row and chained
// `requested` event), rides in the actor token's `actor` payload into the session token's `act`
// claim (`act.mode`, through the real Clerk SDKs and the local server), and shows in `me`, the
// board, the record and `sessions.inspect`. Real sign-ins, the API in-process, PGlite.
import { getActAsError } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient
let cursor = 0

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as {
    act?: Record<string, unknown>
  }

function nextCustomer() {
  const user = stack.customers()[cursor++]
  if (!user) throw new Error('out of customers')
  return user
}

beforeAll(async () => {
  stack = await startStack({ env: { RATE_LIMIT_START_PER_MINUTE: '1000' } })
  admin = await stack.signIn('admin')
  api = stack.client(() => admin.token())
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('impersonation modes', () => {
  it('a read-only impersonation carries act.mode into the session and shows it everywhere', async () => {
    const user = nextCustomer()
    const started = await api.impersonation.start.mutate({
      userId: user.id,
      reason: 'Look at the invoices, change nothing',
      mode: 'read_only',
    })
    expect(started.mode).toBe('read_only')

    const session = await stack.signInWithTicket(started.ticket)
    const token = await session.token()
    // The whole actor payload is the act claim, mode included.
    expect(claims(token).act).toEqual({
      sub: admin.userId,
      reason: 'Look at the invoices, change nothing',
      impersonation_id: started.impersonationId,
      mode: 'read_only',
    })
    const client = stack.client(() => session.token())
    expect((await client.me.query()).actor).toMatchObject({
      userId: admin.userId,
      mode: 'read_only',
    })
    await client.impersonation.signedIn.mutate({ sessionToken: token })

    const record = await api.impersonation.get.query({ impersonationId: started.impersonationId })
    expect(record.mode).toBe('read_only')
    // In the hash chain too: the requested event says which mode was asked for.
    expect(record.events[0]).toMatchObject({ type: 'requested', data: { mode: 'read_only' } })
    const listed = await api.impersonation.list.query({ userId: user.id })
    expect(listed.items.map((r) => r.mode)).toEqual(['read_only'])
    const active = await api.impersonation.active.query()
    expect(active.items.find((i) => i.id === started.impersonationId)?.mode).toBe('read_only')
    const inspected = await api.sessions.inspect.mutate({ token })
    expect(inspected.actor).toMatchObject({ userId: admin.userId, mode: 'read_only' })
  })

  it('asking for full gives a full impersonation', async () => {
    const started = await api.impersonation.start.mutate({
      userId: nextCustomer().id,
      reason: 'Reproduce the checkout bug as the customer',
      mode: 'full',
    })
    expect(started.mode).toBe('full')
    const session = await stack.signInWithTicket(started.ticket)
    expect(claims(await session.token()).act?.['mode']).toBe('full')
    expect((await stack.client(() => session.token()).me.query()).actor?.mode).toBe('full')
  })

  it('refuses a mode that is not read_only or full, and records the refusal', async () => {
    const user = nextCustomer()
    const error = await api.impersonation.start
      .mutate({ userId: user.id, reason: 'Reproduce the checkout bug', mode: 'admin' as never })
      .then(
        () => null,
        (e: unknown) => getActAsError(e),
      )
    expect(error?.code).toBe('INVALID_INPUT')
    const listed = await api.impersonation.list.query({ userId: user.id })
    expect(listed.items).toMatchObject([{ status: 'denied', outcomeCode: 'INVALID_INPUT' }])
  })
})
