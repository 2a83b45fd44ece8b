// What the access procedures ask of Clerk, counted by a proxy between the API and the local
// Clerk server (the calls really made).
//
// An organization's history (`customer.orgHistory`) decides on the organization's whole
// membership, read from Clerk: every page of `GET /v1/organizations/{id}/memberships` (500 a
// page, Clerk's largest), the members' impersonations filtered in the query. Here the
// organization has more than one page of members; impersonations of non-members never show; a
// membership list that changes while it is read is refused (503), not judged from part of it.
//
// The approvers' list and the nav's count (`access.list`, polled by the console) read the
// session's claims and the database: no Clerk call per poll; a decision re-reads the approval
// permission from Clerk at that moment.
import { newId, passwordDigest } from '@actas/clerk-local'
import type { ClerkLocal, LocalUser, Organization } from '@actas/clerk-local'
import type { ActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingProxy } from '../support/counting-proxy.js'
import type { CountingProxy } from '../support/counting-proxy.js'
import {
  actasCode,
  callRaw,
  customersAnyoneMayImpersonate,
  failure,
  startAdminStack,
} from '../support/stack.js'
import type { Stack } from '../support/stack.js'

const PASSWORD = 'org-admin-pw-history-1'
/** More than one page of Clerk's largest (500). */
const MEMBERS = 520

let stack: Stack
let api: ActAsClient
let proxy: CountingProxy
let clerkUrl = ''
/** Runs before the proxy forwards a request (a change of Clerk's state "meanwhile"). */
let beforeForward: (() => void) | null = null
/** Every request the API made to Clerk. */
let clerkCalls = 0
let megacorp: Organization
const members: LocalUser[] = []

function addMember(clerk: ClerkLocal, user: LocalUser, role: 'admin' | 'member', at: number) {
  clerk.state.addMembership({
    id: newId('orgmem'),
    organizationId: megacorp.id,
    userId: user.id,
    role,
    createdAt: at,
    updatedAt: at,
  })
}

async function impersonate(userId: string) {
  const started = await api.impersonation.start.mutate({
    userId,
    reason: 'Customer reports a broken invoice page',
    mode: 'read_only',
  })
  const session = await stack.signInWithTicket(started.ticket)
  await stack
    .client(() => session.token())
    .impersonation.signedIn.mutate({ sessionToken: await session.token() })
  return started.impersonationId
}

beforeAll(async () => {
  proxy = await startCountingProxy(() => {
    clerkCalls += 1
    const hook = beforeForward
    beforeForward = null
    hook?.()
    return clerkUrl
  })
  ;({ stack, api } = await startAdminStack({
    clerk: { users: MEMBERS + 100 },
    env: (clerk) => {
      clerkUrl = clerk.url
      const now = clerk.state.now()
      megacorp = clerk.state.addOrganization({
        id: newId('org'),
        name: 'Megacorp',
        slug: 'megacorp',
        roles: { admin: [], member: [] },
        createdAt: now,
        updatedAt: now,
      })
      const free = customersAnyoneMayImpersonate(clerk)
      if (free.length < MEMBERS + 5) throw new Error(`only ${free.length} free users`)
      free.slice(0, MEMBERS).forEach((user, i) => {
        members.push(user)
        addMember(clerk, user, i === 0 ? 'admin' : 'member', now + i)
      })
      members[0]!.passwordDigest = passwordDigest(PASSWORD)
      // A second staff member approves full-mode impersonations (the approvers' list below).
      return { CLERK_API_URL: proxy.url, ACCESS_APPROVAL_REQUIRED: 'full' }
    },
  }))
}, 120_000)

afterAll(async () => {
  await stack?.close()
  await proxy?.close()
})

describe("an organization's history", () => {
  it('lists its members from every page of Clerk, never a non-member, with a bounded number of reads', async () => {
    // The last member joined last: on Clerk's second page.
    const lastMember = members.at(-1)!
    const early = members[3]!
    const onPageTwo = await impersonate(lastMember.id)
    const onPageOne = await impersonate(early.id)
    const outsiders = [
      await impersonate(stack.customers()[0]!.id),
      await impersonate(stack.customers()[1]!.id),
    ]

    const session = await stack.signIn(
      { identifier: members[0]!.emailAddresses[0]!.emailAddress, password: PASSWORD },
      { organizationId: megacorp.id },
    )
    const admin = stack.client(() => session.token())
    const route = `GET /v1/organizations/${megacorp.id}/memberships`
    const before = { memberships: proxy.count(route), users: proxy.count('GET /v1/users') }
    const history = await admin.customer.orgHistory.query({ organizationId: megacorp.id })
    const ids = history.items.map((i) => i.impersonationId)
    expect(ids).toEqual(expect.arrayContaining([onPageTwo, onPageOne]))
    for (const id of outsiders) expect(ids).not.toContain(id)
    expect(new Set(history.items.map((i) => i.user.id))).toEqual(new Set([lastMember.id, early.id]))
    // The admin's own membership (1), then the member list: 2 pages of 500 — not one read per
    // impersonated user, and no user-by-user filter (`GET /v1/users` only for the staff check).
    expect(proxy.count(route) - before.memberships).toBe(3)
    expect(proxy.count('GET /v1/users') - before.users).toBe(1)
    console.log(
      `orgHistory over ${MEMBERS} members: ${proxy.count(route) - before.memberships} membership reads`,
    )

    // A member joins while the list is read (between page 1 and page 2): refused, 503 with
    // Retry-After, rather than an answer from a list that may have shifted.
    const joiner = stack.customers()[2]!
    let reads = 0
    const arm = () => {
      beforeForward = () => {
        reads += 1
        // The admin check, then page 1 have gone; this is page 2.
        if (proxy.count(route) - start === 2) {
          addMember(stack.clerk, joiner, 'member', stack.clerk.state.now())
        } else arm()
      }
    }
    const start = proxy.count(route)
    arm()
    const raw = await callRaw(stack.app, 'customer.orgHistory', {
      type: 'query',
      token: await session.token(),
      input: { organizationId: megacorp.id },
    })
    beforeForward = null
    expect(reads).toBeGreaterThanOrEqual(3)
    expect(raw.status).toBe(503)
    expect(actasCode(raw)).toBe('SERVICE_UNAVAILABLE')
    expect(raw.headers['retry-after']).toBeDefined()
    // Asked again, the whole list is read afresh: the joiner's impersonation now shows.
    const joined = await impersonate(joiner.id)
    const again = await admin.customer.orgHistory.query({ organizationId: megacorp.id })
    expect(again.items.map((i) => i.impersonationId)).toContain(joined)
    // Another organization's history is refused (not its admin).
    expect(
      (await failure(admin.customer.orgHistory.query({ organizationId: 'org_nope' }))).code,
    ).toBe('FORBIDDEN')
  })
})

describe("the approvers' list and the nav's count", () => {
  it('are read without asking Clerk; the decision re-reads the permission from Clerk', async () => {
    const user = stack.customers()[5]!
    const asked = await api.access.request.mutate({
      userId: user.id,
      reason: 'Customer needs a setting changed',
      mode: 'full',
    })
    const katherine = await stack.signIn('approver')
    const kApi = stack.client(() => katherine.token())
    await katherine.token() // a fresh token before counting (its refresh is FAPI, not BAPI)
    const before = clerkCalls
    for (let i = 0; i < 5; i++) {
      const out = await kApi.access.list.query({ view: 'to_decide', limit: 50 })
      expect(out).toMatchObject({ mayApprove: true })
      expect(out.toDecide).toBeGreaterThanOrEqual(1)
      expect(out.items.map((r) => r.id)).toContain(asked.id)
    }
    // Ada (no approval permission) sees no count.
    expect(await api.access.list.query({ view: 'to_decide' })).toMatchObject({
      mayApprove: false,
      toDecide: 0,
      items: [],
    })
    expect(clerkCalls - before).toBe(0)
    console.log(`6 polls of access.list: ${clerkCalls - before} Clerk calls`)

    const support = `GET /v1/organizations/${stack.supportOrgId}/memberships`
    const reads = proxy.count(support)
    const approved = await kApi.access.decide.mutate({ accessId: asked.id, decision: 'approve' })
    expect(approved.status).toBe('granted')
    expect(proxy.count(support) - reads).toBeGreaterThanOrEqual(1)
  })
})
