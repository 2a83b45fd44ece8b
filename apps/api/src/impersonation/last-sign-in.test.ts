// The search rows' last sign-in mirror against a real engine (PGlite): what a search shows is the
// log's latest signed-in impersonation of each user, without a query of the log per page once
// loaded; this process's sign-ins show at once, another instance's within the mirror's age.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OpenedDatabase } from '../audit/db.js'
import { AuditStore } from '../audit/store.js'
import { openTestDatabase } from '../../test/support/stack.js'
import { SignedInMirror } from './last-sign-in.js'

let db: OpenedDatabase
let clock = Date.parse('2026-12-01T09:00:00.000Z')
const now = () => new Date(clock)

beforeAll(async () => {
  db = await openTestDatabase()
})
afterAll(() => db?.close())

async function signedIn(audit: AuditStore, userId: string): Promise<void> {
  const id = randomUUID()
  await audit.createImpersonation({
    id,
    actorId: 'user_staff1',
    actorSessionId: 'sess_staff',
    actorOrganizationId: 'org_support',
    userId,
    reason: 'Checking the invoice page, ticket 19',
    ticketUrl: null,
    sessionMinutes: 15,
    mode: 'read_only',
    requestId: `req-${id}`,
    ip: '127.0.0.1',
    userAgent: 'vitest',
  })
  await audit.appendEvent(id, { type: 'issued', data: { clerkActorTokenId: `act_${id}` } })
  clock += 1000
  await audit.appendEvent(id, { type: 'signed_in', clerkSessionId: `sess_${id.slice(0, 8)}` })
}

describe('SignedInMirror', () => {
  it('shows each user’s latest sign-in: this process’s at once, another instance’s within its age', async () => {
    let mirrorNow = 0
    let directReads = 0
    const mirror: SignedInMirror = new SignedInMirror({
      audit: {
        signedInSince: (after, limit) => here.signedInSince(after, limit),
        latestImpersonatedSignIns: (ids) => {
          directReads++
          return here.latestImpersonatedSignIns(ids)
        },
      },
      maxAgeMs: 1000,
      nowMs: () => mirrorNow,
    })
    const here = new AuditStore(db.db, {
      now,
      onAppended: (type) => {
        if (type === 'signed_in') mirror.invalidate()
      },
    })
    const elsewhere = new AuditStore(db.db, now)
    const [ann, bob, cy] = ['user_ann', 'user_bob', 'user_cy'].map((u) => `${u}_${randomUUID()}`)
    await signedIn(here, ann!)

    // Before the first load: the page asks the log (and the load starts).
    expect([...(await mirror.of([ann!, bob!])).keys()]).toEqual([ann])
    expect(directReads).toBe(1)
    await expect.poll(async () => [...(await mirror.of([ann!, bob!])).keys()]).toEqual([ann])
    const afterLoad = directReads

    // A sign-in recorded by this process: the next page has it, with its times.
    await signedIn(here, bob!)
    const bobs = await mirror.of([ann!, bob!])
    expect([...bobs.keys()].sort()).toEqual([ann, bob].sort())
    expect(bobs.get(bob!)!.signedInAt.getTime()).toBe(clock)

    // Another instance's: not before the mirror's age has passed, then yes.
    await signedIn(elsewhere, cy!)
    expect((await mirror.of([cy!])).has(cy!)).toBe(false)
    mirrorNow += 1001
    expect((await mirror.of([cy!])).has(cy!)).toBe(true)

    // The same user again: the latest one counts.
    const before = (await mirror.of([ann!])).get(ann!)!.signedInAt.getTime()
    await signedIn(here, ann!)
    expect((await mirror.of([ann!])).get(ann!)!.signedInAt.getTime()).toBeGreaterThan(before)
    expect(directReads).toBe(afterLoad)
  })
})
