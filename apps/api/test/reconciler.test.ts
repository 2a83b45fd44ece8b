// The reconciler with webhooks off: one run settles what nobody reported (a used ticket, a
// ticket expired unused, a session past its cap or signed out in Clerk) and ends live
// impersonations whose actor or target policy no longer allows. Properties over every
// impersonation of the file: none is live past its cap; every issued ticket reaches exactly one
// terminal state.
import type { ActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capOf } from '../src/impersonation/lifecycle.js'
import { Reconciler } from '../src/impersonation/reconciler.js'
import { clerkBapi, startAdminStack, withSupportRole } from './support/stack.js'
import type { AdminStack, Stack } from './support/stack.js'

let stack: Stack
let api: ActAsClient
let nextCustomer: AdminStack['nextCustomer']
const ids: string[] = []

beforeAll(async () => {
  ;({ stack, api, nextCustomer } = await startAdminStack())
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

async function start(sessionMinutes = 30) {
  const started = await api.impersonation.start.mutate({
    userId: nextCustomer().id,
    reason: 'Reconciler: nobody reports this',
    sessionMinutes,
  })
  ids.push(started.impersonationId)
  return started
}

/** The same reconciler as the API's, with a clock `offsetMs` ahead. */
function reconcilerAt(offsetMs: number, maxClerkCalls = 1000) {
  const d = stack.deps
  return new Reconciler({
    audit: d.audit,
    directory: d.directory,
    lifecycle: d.lifecycle,
    now: () => new Date(Date.now() + offsetMs),
    logger: d.logger,
    policy: d.policy,
    maxClerkCalls,
  })
}

const get = (id: string) => api.impersonation.get.query({ impersonationId: id })

const bapi = (method: string, path: string, body?: unknown) => clerkBapi(stack, method, path, body)

describe('reconciler (webhooks off)', () => {
  it('one run settles used tickets and sessions ended in Clerk', async () => {
    const used = await start()
    const usedSession = await stack.signInWithTicket(used.ticket)
    const signedOut = await start()
    const outSession = await stack.signInWithTicket(signedOut.ticket)
    // Reported, then signed out in the app: only Clerk knows.
    await stack
      .client(() => outSession.token())
      .impersonation.signedIn.mutate({ sessionToken: await outSession.token() })
    await outSession.fapi.signOut()

    const report = await stack.deps.reconciler.run()
    expect(report.deferred).toBe(0)
    expect(await get(used.impersonationId)).toMatchObject({
      status: 'signed_in',
      clerkSessionId: usedSession.sessionId,
    })
    expect(await get(signedOut.impersonationId)).toMatchObject({
      status: 'ended',
      endCause: 'signed_out',
    })
  })

  it('expires unused tickets and ends sessions at their cap', async () => {
    const unused = await start()
    const capped = await start(1)
    const cappedSession = await stack.signInWithTicket(capped.ticket)
    // Ten minutes later (the ticket lives 5, the session 1).
    await reconcilerAt(10 * 60_000).run()
    expect(await get(unused.impersonationId)).toMatchObject({
      status: 'expired',
      endCause: 'ticket_expired_unused',
    })
    expect(await get(capped.impersonationId)).toMatchObject({
      status: 'ended',
      endCause: 'expired_at_cap',
    })
    expect(stack.clerk.state.sessions.get(cappedSession.sessionId)?.status).not.toBe('active')
  })

  it('ends a live impersonation whose target was banned, or whose actor lost the permission', async () => {
    const banned = await start()
    await stack.signInWithTicket(banned.ticket)
    const demoted = await start()
    await stack.signInWithTicket(demoted.ticket)
    await stack.deps.reconciler.run()
    expect((await get(banned.impersonationId)).status).toBe('signed_in')

    const target = (await get(banned.impersonationId)).user.id
    await bapi('POST', `users/${target}/ban`)
    await stack.deps.reconciler.run()
    expect(await get(banned.impersonationId)).toMatchObject({
      status: 'ended',
      endCause: 'target_banned',
      endedBy: 'system',
    })

    await withSupportRole(stack, 'admin', 'member', () => stack.deps.reconciler.run())
    expect(await get(demoted.impersonationId)).toMatchObject({
      status: 'ended',
      endCause: 'actor_lost_permission',
    })
  })

  it('keeps to its budget of Clerk calls and leaves the rest for the next run', async () => {
    for (let i = 0; i < 3; i++) await stack.signInWithTicket((await start()).ticket)
    const report = await reconcilerAt(0, 7).run()
    expect(report.clerkCalls).toBeLessThanOrEqual(7)
    expect(report.deferred).toBeGreaterThan(0)
  })

  it('properties: nothing live past its cap; every issued ticket reaches exactly one terminal state', async () => {
    // An hour later every ticket expired and every session passed its cap.
    const later = reconcilerAt(60 * 60_000)
    for (let i = 0; i < 10; i++) {
      const report = await later.run()
      if (report.deferred === 0) break
    }
    const at = Date.now() + 60 * 60_000
    for (const id of ids) {
      const got = await get(id)
      const terminal = got.events.filter((e) =>
        ['ended', 'ticket_revoked', 'failed', 'denied'].includes(e.type),
      )
      expect(terminal, id).toHaveLength(1)
      expect(['ended', 'expired', 'revoked'], id).toContain(got.status)
      const cap = capOf({
        signedInAt: got.signedInAt ? new Date(got.signedInAt) : null,
        sessionMinutes: got.sessionMinutes,
        sessionExpiresAt: got.sessionExpiresAt ? new Date(got.sessionExpiresAt) : null,
      } as Parameters<typeof capOf>[0])
      expect(cap === null || cap.getTime() <= at).toBe(true)
    }
    expect((await api.audit.verify.query()).ok).toBe(true)
  })
})
