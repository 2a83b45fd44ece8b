// "Staff" means the staff organizations (STAFF_ORGANIZATIONS), and nothing else. Against the
// local Clerk server with the real SDKs: a customer organization whose admin role carries
// org:admin:impersonate (what adding the permission to Clerk's shared `org:admin` role does to
// every organization) grants its admin nothing, and a staff member active in a customer
// organization is not staff until they switch.
import { IMPERSONATE_PERMISSION, passwordDigest } from '@actas/clerk-local'
import type { LocalUser, Organization } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actasCode, addOrganization, callRaw, join, startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

const PASSWORD = 'acme-admin-pw-1'

let stack: Stack
let acme: Organization
let ops: Organization
let acmeAdmin: LocalUser
let acmeMember: LocalUser
let opsMember: LocalUser
/** Signed in to Acme, whose admin role carries the impersonate permission. */
let customerAdmin: SignedIn
let ada: SignedIn

// As when `org:admin:impersonate` is added to Clerk's instance-wide `org:admin` role.
const ADMINS_IMPERSONATE = { admin: [IMPERSONATE_PERMISSION], member: [] }

const primaryEmail = (u: LocalUser) => u.emailAddresses[0]!.emailAddress

beforeAll(async () => {
  stack = await startStack({
    env: (clerk) => {
      // Two staff organizations, one named by slug and one by id; Acme is a customer.
      ops = addOrganization(clerk, 'ops', 'Operations', ADMINS_IMPERSONATE)
      acme = addOrganization(clerk, 'acme', 'Acme Inc.', ADMINS_IMPERSONATE)
      return {
        STAFF_ORGANIZATIONS: `support,${ops.id}`,
        RATE_LIMIT_START_PER_MINUTE: '1000',
        RATE_LIMIT_SEARCH_PER_MINUTE: '1000',
      }
    },
  })
  const { clerk } = stack
  const [first, second, third] = stack.customers()
  acmeAdmin = first!
  acmeMember = second!
  opsMember = third!
  acmeAdmin.passwordDigest = passwordDigest(PASSWORD)
  join(clerk, acme, acmeAdmin.id, 'admin')
  join(clerk, acme, acmeMember.id, 'member')
  // Ada (Support's admin) is also an admin of Acme; an ops member holds no permission at all.
  join(clerk, acme, stack.account('admin').userId, 'admin')
  join(clerk, ops, opsMember.id, 'member')
  // Search rows show organizations from the membership mirror (display only, up to
  // MEMBERSHIP_MIRROR_REFRESH_SECONDS stale): reload it now that the memberships exist, as its
  // next period would. Without this the first load may or may not have seen them.
  await stack.deps.memberships?.refresh()

  customerAdmin = await stack.signIn(
    { identifier: primaryEmail(acmeAdmin), password: PASSWORD },
    { organizationId: acme.id },
  )
  ada = await stack.signIn('admin')
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

type Call = { path: string; type: 'query' | 'mutation'; input?: unknown }

const staffProcedures = (): Call[] => [
  { path: 'quota', type: 'query' },
  { path: 'users.search', type: 'query', input: { query: 'support.actas.test' } },
  {
    path: 'impersonation.start',
    type: 'mutation',
    input: { userId: stack.account('agent').userId, reason: 'Reproduce a support ticket' },
  },
  {
    path: 'impersonation.start',
    type: 'mutation',
    input: { userId: stack.account('admin').userId, reason: 'Reproduce a support ticket' },
  },
  {
    path: 'impersonation.start',
    type: 'mutation',
    input: { userId: acmeMember.id, reason: 'Reproduce a support ticket' },
  },
  {
    path: 'impersonation.revoke',
    type: 'mutation',
    input: { impersonationId: '00000000-0000-4000-8000-000000000000' },
  },
  { path: 'impersonation.list', type: 'query', input: {} },
  { path: 'sessions.inspect', type: 'mutation', input: { token: 'x'.repeat(40) } },
]

describe('a customer organization whose admin role carries org:admin:impersonate', () => {
  it('gets 403 on every staff procedure, and no ticket is ever minted', async () => {
    const tokensBefore = stack.clerk.state.actorTokens.size
    const token = await customerAdmin.token()
    for (const call of staffProcedures()) {
      const res = await callRaw(stack.app, call.path, { ...call, token })
      expect(res.status, `${call.path} ${JSON.stringify(call.input)}`).toBe(403)
      expect(actasCode(res)).toBe('FORBIDDEN')
      expect(res.raw).toContain('not a staff organization')
    }
    expect(stack.clerk.state.actorTokens.size).toBe(tokensBefore)
  })

  it('is told by me() that it cannot impersonate, though its session carries the permission', async () => {
    const me = await stack.client(() => customerAdmin.token()).me.query()
    expect(me.organization).toMatchObject({ id: acme.id, slug: 'acme', role: 'org:admin' })
    expect(me.permissions).toContain(IMPERSONATE_PERMISSION)
    expect(me.canImpersonate).toBe(false)
  })

  it('leaves its refused starts in the audit log as denied, with no ticket', async () => {
    const rows = await stack.deps.audit.list({ actorId: acmeAdmin.id, limit: 50 })
    expect(rows.rows.length).toBeGreaterThanOrEqual(3)
    for (const row of rows.rows) {
      expect(row.status).toBe('denied')
      expect(row.outcomeCode).toBe('FORBIDDEN')
      expect(row.clerkActorTokenId).toBeNull()
    }
  })

  it('does not make its admin staff in the eyes of real staff: Support may impersonate them', async () => {
    const api = stack.client(() => ada.token())
    const found = await api.users.search.query({ query: primaryEmail(acmeAdmin) })
    expect(found.items.map((i) => i.id)).toEqual([acmeAdmin.id])
    expect(found.items[0]!.organizations).toEqual([
      { id: acme.id, name: 'Acme Inc.', slug: 'acme', role: 'org:admin' },
    ])
    expect(found.items[0]!.impersonation).toMatchObject({ allowed: true })
    const started = await api.impersonation.start.mutate({
      userId: acmeAdmin.id,
      reason: 'Acme admin reports a broken invoice page',
    })
    expect(started.ticket.length).toBeGreaterThan(10)
  })
})

describe('staff organizations', () => {
  it('refuses every member of a staff organization, any role, named by slug or by id', async () => {
    const api = stack.client(() => ada.token())
    const sam = stack.account('agent')
    for (const [userId, email] of [
      [sam.userId, sam.identifier],
      [opsMember.id, primaryEmail(opsMember)],
    ] as const) {
      const found = await api.users.search.query({ query: email })
      const row = found.items.find((i) => i.id === userId)
      expect(row?.impersonation).toMatchObject({ allowed: false, rule: 'staff' })
      const res = await callRaw(stack.app, 'impersonation.start', {
        type: 'mutation',
        token: await ada.token(),
        input: { userId, reason: 'Trying to impersonate a colleague' },
      })
      expect(res.status).toBe(403)
      expect(actasCode(res)).toBe('POLICY_DENIED')
    }
  })

  it('decides inside impersonation.start on fresh memberships, not on what the search showed', async () => {
    const api = stack.client(() => ada.token())
    const [newcomer] = stack.customers().filter((u) => u.id !== acmeAdmin.id)
    const before = await api.users.search.query({ query: primaryEmail(newcomer!) })
    expect(before.items[0]!.impersonation).toMatchObject({ allowed: true })
    // Joins Support after the search (the search's memberships are cached for display).
    join(
      stack.clerk,
      [...stack.clerk.state.organizations.values()].find((o) => o.slug === 'support')!,
      newcomer!.id,
      'member',
    )
    const res = await callRaw(stack.app, 'impersonation.start', {
      type: 'mutation',
      token: await ada.token(),
      input: { userId: newcomer!.id, reason: 'Just joined support: must be refused' },
    })
    expect(res.status).toBe(403)
    expect(actasCode(res)).toBe('POLICY_DENIED')
  })

  it('a staff admin active in a customer organization is not staff until they switch', async () => {
    const adaInAcme = await stack.signIn('admin', { organizationId: acme.id })
    for (const call of staffProcedures()) {
      const res = await callRaw(stack.app, call.path, { ...call, token: await adaInAcme.token() })
      expect(res.status, call.path).toBe(403)
    }
    expect((await stack.client(() => adaInAcme.token()).me.query()).canImpersonate).toBe(false)
    // Switching the same session to Support makes it staff.
    await adaInAcme.fapi.touch(adaInAcme.sessionId, { activeOrganizationId: stack.supportOrgId })
    const api = stack.client(() => adaInAcme.token())
    expect((await api.me.query()).canImpersonate).toBe(true)
    await expect(api.quota.query()).resolves.toMatchObject({ limit: 5 })
  })
})

describe('staff organizations that cannot be resolved', () => {
  it('answer 503 with Retry-After, naming the unknown entry, and never 403 or 200', async () => {
    const broken = await startStack({ env: { STAFF_ORGANIZATIONS: 'support,suport' } })
    try {
      const admin = await broken.signIn('admin')
      for (const path of ['me', 'quota']) {
        const res = await callRaw(broken.app, path, { type: 'query', token: await admin.token() })
        expect(res.status, path).toBe(503)
        expect(actasCode(res)).toBe('SERVICE_UNAVAILABLE')
        expect(res.headers['retry-after']).toBe('10')
        expect(res.raw).toContain('suport')
      }
      expect(broken.logs.join('')).toContain('STAFF_ORGANIZATIONS names organizations')
    } finally {
      await broken.close()
    }
  })
})
