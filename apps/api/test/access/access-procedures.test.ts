// Access requests end to end through the typed procedures, with real sign-ins (the real Clerk
// SDKs against the local server), the API in-process and PGlite: the customer's consent, the
// two-person rule, an organization's own setting, the customer's history, and the refusals.
import { passwordDigest } from '@actas/clerk-local'
import type { LocalUser, Organization } from '@actas/clerk-local'
import type { ActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  actasCode,
  addOrganization,
  callRaw,
  customersAnyoneMayImpersonate,
  failure,
  join,
  startAdminStack,
  withSupportRole,
} from '../support/stack.js'
import type { SignedIn, Stack } from '../support/stack.js'

const PASSWORD = 'customer-pw-access-1'

let stack: Stack
let api: ActAsClient
/** Consent required for its members (ACCESS_CONSENT_ORGANIZATIONS). */
let initech: Organization
/** A second staff member's approval required for its members (ACCESS_APPROVAL_ORGANIZATIONS). */
let umbrella: Organization
/** No deployment rule: its admins set its own setting. */
let hooli: Organization
const people: Record<string, LocalUser> = {}

const emailOf = (u: LocalUser) => u.emailAddresses[0]!.emailAddress

/** A customer signed in to the host application (same Clerk instance), and their client. */
async function customer(user: LocalUser, organizationId: string | null = null) {
  const session = await stack.signIn(
    { identifier: emailOf(user), password: PASSWORD },
    { organizationId },
  )
  return { session, api: stack.client(() => session.token()) }
}

/** Starts as the admin, signs in with the ticket, reports the sign-in: a live impersonation. */
async function impersonate(
  userId: string,
  options: { mode?: 'read_only' | 'full'; sessionMinutes?: number } = {},
) {
  const started = await api.impersonation.start.mutate({
    userId,
    reason: 'Customer reports a broken invoice page',
    ...options,
  })
  const session = await stack.signInWithTicket(started.ticket)
  const client = stack.client(() => session.token())
  await client.impersonation.signedIn.mutate({ sessionToken: await session.token() })
  return { id: started.impersonationId, session, client, mode: started.mode }
}

beforeAll(async () => {
  ;({ stack, api } = await startAdminStack({
    env: (clerk) => {
      initech = addOrganization(clerk, 'initech', 'Initech')
      umbrella = addOrganization(clerk, 'umbrella', 'Umbrella')
      hooli = addOrganization(clerk, 'hooli', 'Hooli')
      const free = customersAnyoneMayImpersonate(clerk)
      const names = [
        'consenter',
        'revoker',
        'unasked',
        'umbrellaMember',
        'hooliAdmin',
        'hooliMember',
        'narrower',
      ]
      names.forEach((name, i) => {
        const user = free[i]!
        user.passwordDigest = passwordDigest(PASSWORD)
        people[name] = user
      })
      join(clerk, initech, people['consenter']!.id, 'member')
      join(clerk, initech, people['revoker']!.id, 'member')
      join(clerk, initech, people['unasked']!.id, 'member')
      join(clerk, initech, people['narrower']!.id, 'member')
      join(clerk, umbrella, people['umbrellaMember']!.id, 'member')
      join(clerk, hooli, people['hooliAdmin']!.id, 'admin')
      join(clerk, hooli, people['hooliMember']!.id, 'member')
      return {
        ACCESS_CONSENT_REQUIRED: 'organizations',
        ACCESS_CONSENT_ORGANIZATIONS: 'initech',
        ACCESS_APPROVAL_REQUIRED: 'organizations',
        ACCESS_APPROVAL_ORGANIZATIONS: 'umbrella',
        RATE_LIMIT_ACCESS_REQUEST_PER_MINUTE: '3',
      }
    },
  }))
}, 90_000)

afterAll(async () => {
  await stack?.close()
})

describe('consent required for an organization', () => {
  it('refuses a start until the customer approves; then works within the grant; ends on revoke', async () => {
    const user = people['consenter']!
    // The search row and the start say which rule, and what would allow it.
    const refused = await failure(
      api.impersonation.start.mutate({ userId: user.id, reason: 'Customer reports a broken page' }),
    )
    expect(refused).toMatchObject({ code: 'POLICY_DENIED', rule: 'consent_required' })
    expect(refused.message).toMatch(/consent is required \(members of Initech.*request access/)

    const request = await api.access.request.mutate({
      userId: user.id,
      reason: 'Customer reports a broken invoice page',
      mode: 'full',
      minutes: 60,
    })
    expect(request).toMatchObject({ status: 'pending', needs: { consent: true, approval: false } })
    // Staff see its state.
    const mine = await api.access.list.query({ view: 'mine', userId: user.id })
    expect(mine.items.map((i) => i.id)).toContain(request.id)

    // The customer sees it and approves it, narrowed to read-only.
    const me = await customer(user)
    const pending = await me.api.customer.requests.query()
    expect(pending.items.map((i) => i.id)).toEqual([request.id])
    expect(pending.items[0]!.requestedBy?.label).toMatch(/\w/)
    const granted = await me.api.customer.decide.mutate({
      accessId: request.id,
      decision: 'approve',
      mode: 'read_only',
    })
    expect(granted).toMatchObject({ status: 'granted', grant: { mode: 'read_only' } })
    // A second decision on it: 409.
    const again = await failure(
      me.api.customer.decide.mutate({ accessId: request.id, decision: 'approve' }),
    )
    expect(again).toMatchObject({ code: 'ACCESS_SETTLED', httpStatus: 409 })

    // Within the grant: full is refused (its mode), read-only starts.
    const full = await failure(
      api.impersonation.start.mutate({
        userId: user.id,
        reason: 'Need to fix the invoice',
        mode: 'full',
      }),
    )
    expect(full).toMatchObject({ code: 'POLICY_DENIED', rule: 'grant_exceeded' })
    const live = await impersonate(user.id, { mode: 'read_only' })
    expect(live.mode).toBe('read_only')

    // The customer sees it in their history.
    const history = await me.api.customer.history.query({ limit: 20 })
    expect(history.items[0]).toMatchObject({
      impersonationId: live.id,
      reason: 'Customer reports a broken invoice page',
      mode: 'read_only',
      endedAt: null,
    })
    expect(history.items[0]!.staff.label).toMatch(/Ada|ada@/)

    // The impersonated session cannot act as the customer here (no consent to itself).
    expect((await failure(live.client.customer.requests.query())).code).toBe('FORBIDDEN')
    expect(
      (
        await failure(
          live.client.customer.decide.mutate({ accessId: request.id, decision: 'approve' }),
        )
      ).code,
    ).toBe('FORBIDDEN')

    // Revoking the grant ends the live impersonation (its session refused at once).
    const stillValid = await live.session.token()
    const t0 = performance.now()
    const revoked = await me.api.customer.revoke.mutate({ accessId: request.id, reason: 'Done' })
    const ms = performance.now() - t0
    expect(revoked.status).toBe('revoked')
    const record = await api.impersonation.get.query({ impersonationId: live.id })
    expect(record).toMatchObject({ status: 'ended', endCause: 'access_revoked' })
    const after = await callRaw(stack.app, 'me', { type: 'query', token: stillValid })
    expect(after.status).toBe(401)
    expect(actasCode(after)).toBe('UNAUTHENTICATED')
    console.log(`revoke → impersonation ended and its session refused: ${ms.toFixed(0)} ms`)
    // And a new start is refused again.
    expect(
      await failure(
        api.impersonation.start.mutate({
          userId: user.id,
          reason: 'One more look please',
          mode: 'read_only',
        }),
      ),
    ).toMatchObject({ rule: 'consent_required' })
    const ended = await me.api.customer.history.query({ limit: 20 })
    expect(ended.items[0]!.endedAt).not.toBeNull()
  })

  it('a customer grants access unasked; a start may not outlast it; revoking ends it', async () => {
    const user = people['unasked']!
    const me = await customer(user)
    const grant = await me.api.customer.grant.mutate({
      mode: 'full',
      minutes: 10,
      note: 'Let support in',
    })
    expect(grant).toMatchObject({ status: 'granted', requestedBy: null, grant: { mode: 'full' } })
    const long = await failure(
      api.impersonation.start.mutate({
        userId: user.id,
        reason: 'Look at the settings',
        sessionMinutes: 30,
      }),
    )
    expect(long).toMatchObject({ rule: 'grant_exceeded' })
    expect(long.message).toMatch(/ask for at most \d+ minutes/)
    const live = await impersonate(user.id, { sessionMinutes: 5 })
    expect(live.mode).toBe('full')
    await me.api.customer.revoke.mutate({ accessId: grant.id })
    expect((await api.impersonation.get.query({ impersonationId: live.id })).status).toBe('ended')
  })

  it('a customer sees and decides only for themselves; staff and impersonated sessions are refused', async () => {
    const request = await api.access.request.mutate({
      userId: people['revoker']!.id,
      reason: 'Customer reports a broken invoice page',
    })
    const other = await customer(people['unasked']!)
    const notMine = await failure(
      other.api.customer.decide.mutate({ accessId: request.id, decision: 'approve' }),
    )
    expect(notMine).toMatchObject({ code: 'ACCESS_NOT_FOUND' })
    expect((await other.api.customer.requests.query()).items.map((i) => i.id)).not.toContain(
      request.id,
    )
    // Staff are not customers.
    const staff = await failure(api.customer.requests.query())
    expect(staff.code).toBe('FORBIDDEN')
    // The refusal is on the request's timeline.
    const events = await stack.deps.audit.events(request.id)
    expect(events.map((e) => e.type)).toEqual(['access.requested', 'access.refused'])
    // The customer denies with a reason.
    const me = await customer(people['revoker']!)
    const denied = await me.api.customer.decide.mutate({
      accessId: request.id,
      decision: 'deny',
      reason: 'Not now, thanks',
    })
    expect(denied).toMatchObject({ status: 'denied', settled: { reason: 'Not now, thanks' } })
  })

  it('asking for something else while a request is pending supersedes it (withdrawn, in the chain)', async () => {
    const user = people['narrower']!
    // Sam (an agent) may impersonate for this test: Ada's requests count against her flood limit.
    await withSupportRole(stack, 'agent', 'admin', async () => {
      const sam = await stack.signIn('agent')
      const sApi = stack.client(() => sam.token())
      const full = await sApi.access.request.mutate({
        userId: user.id,
        reason: 'Customer reports a broken invoice page',
        mode: 'full',
        minutes: 60,
      })
      // Sam thinks again: read-only is enough. The new ask is what the customer sees.
      const readOnly = await sApi.access.request.mutate({
        userId: user.id,
        reason: 'Only need to look at the invoice page',
        mode: 'read_only',
        minutes: 60,
      })
      expect(readOnly.id).not.toBe(full.id)
      expect(readOnly).toMatchObject({ status: 'pending', mode: 'read_only' })
      const mine = await sApi.access.list.query({ view: 'mine', userId: user.id })
      expect(mine.items.find((i) => i.id === full.id)).toMatchObject({
        status: 'revoked',
        settled: { by: sam.userId, cause: 'superseded' },
      })
      // Asking the same again answers the one under way.
      const same = await sApi.access.request.mutate({
        userId: user.id,
        reason: 'Only need to look at the invoice page',
        mode: 'read_only',
        minutes: 60,
      })
      expect(same.id).toBe(readOnly.id)

      const me = await customer(user)
      expect((await me.api.customer.requests.query()).items.map((i) => i.id)).toEqual([readOnly.id])
      // The withdrawn one cannot be approved any more (409, recorded); the new one can.
      expect(
        await failure(me.api.customer.decide.mutate({ accessId: full.id, decision: 'approve' })),
      ).toMatchObject({ code: 'ACCESS_SETTLED', httpStatus: 409 })
      const granted = await me.api.customer.decide.mutate({
        accessId: readOnly.id,
        decision: 'approve',
      })
      expect(granted).toMatchObject({ status: 'granted', grant: { mode: 'read_only' } })
      expect((await stack.deps.audit.events(full.id)).map((e) => [e.type, e.cause])).toEqual([
        ['access.requested', null],
        ['access.revoked', 'superseded'],
        ['access.refused', null],
      ])
      const asked = await stack.deps.audit.events(readOnly.id)
      expect(JSON.parse(asked[0]!.data)).toMatchObject({ supersedes: full.id, mode: 'read_only' })
    })
    expect((await stack.deps.audit.verify({ full: true })).ok).toBe(true)
  })
})

describe('the two-person rule', () => {
  it('an approver cannot approve their own request, nor decide after losing the permission', async () => {
    const user = people['umbrellaMember']!
    expect(
      await failure(
        api.impersonation.start.mutate({ userId: user.id, reason: 'Look at the orders' }),
      ),
    ).toMatchObject({ rule: 'approval_required' })
    // Katherine (an approver) asks; she may not approve her own request.
    const katherine = await stack.signIn('approver')
    const kApi = stack.client(() => katherine.token())
    const own = await kApi.access.request.mutate({
      userId: user.id,
      reason: 'Look at the orders please',
    })
    expect(own.needs).toEqual({ consent: false, approval: true })
    const self = await failure(kApi.access.decide.mutate({ accessId: own.id, decision: 'approve' }))
    expect(self.code).toBe('FORBIDDEN')
    expect(
      (await kApi.access.list.query({ view: 'to_decide' })).items.map((i) => i.id),
    ).not.toContain(own.id)

    // Ada asks; Katherine sees it to decide (with the count) and denial needs a reason.
    const adas = await api.access.request.mutate({
      userId: user.id,
      reason: 'Customer reports a broken page',
    })
    const toDecide = await kApi.access.list.query({ view: 'to_decide' })
    expect(toDecide.mayApprove).toBe(true)
    expect(toDecide.items.map((i) => i.id)).toContain(adas.id)
    expect(toDecide.toDecide).toBeGreaterThanOrEqual(1)
    const noReason = await failure(
      kApi.access.decide.mutate({ accessId: adas.id, decision: 'deny' }),
    )
    expect(noReason.code).toBe('INVALID_INPUT')
    // Ada holds no approval permission.
    expect(
      (await failure(api.access.decide.mutate({ accessId: own.id, decision: 'approve' }))).code,
    ).toBe('FORBIDDEN')

    // Katherine loses the permission in Clerk: her next decision is refused (re-read, not the token).
    const lost = await withSupportRole(stack, 'approver', 'admin', () =>
      failure(kApi.access.decide.mutate({ accessId: adas.id, decision: 'approve' })),
    )
    expect(lost.code).toBe('FORBIDDEN')
    // Step-up at the moment of deciding: a password typed 11 minutes ago is not enough, and the
    // message names the decision (not a start).
    const katherineSession = stack.clerk.state.sessions.get(katherine.sessionId)!
    const verifiedAt = katherineSession.firstFactorVerifiedAt
    katherineSession.firstFactorVerifiedAt = stack.clerk.state.now() - 11 * 60_000
    const stale = await failure(
      kApi.access.decide.mutate({ accessId: adas.id, decision: 'approve' }),
    )
    expect(stale.code).toBe('REVERIFICATION_REQUIRED')
    expect(stale.message).toBe(
      'Confirm your password: deciding an access request needs your password entered within the last 10 minutes.',
    )
    katherineSession.firstFactorVerifiedAt = verifiedAt
    const approved = await kApi.access.decide.mutate({ accessId: adas.id, decision: 'approve' })
    expect(approved).toMatchObject({ status: 'granted', approvedBy: { id: katherine.userId } })
    const settled = await failure(
      kApi.access.decide.mutate({ accessId: adas.id, decision: 'approve' }),
    )
    expect(settled).toMatchObject({ code: 'ACCESS_SETTLED', httpStatus: 409 })
    // Ada's grant lets Ada start; the refusals are recorded on the timelines.
    await impersonate(user.id)
    expect((await stack.deps.audit.events(own.id)).map((e) => e.type)).toEqual([
      'access.requested',
      'access.refused',
      'access.refused',
    ])
  })

  it('request floods are limited per staff member (and the refusal recorded)', async () => {
    const user = people['umbrellaMember']!
    const grace = await stack.signIn('colleague')
    const gApi = stack.client(() => grace.token())
    const codes: string[] = []
    for (let i = 0; i < 5; i++) {
      const asked = gApi.access.request.mutate({ userId: user.id, reason: `Flood attempt ${i}` })
      codes.push(
        await asked.then(
          () => 'ok',
          () => failure(asked).then((x) => x.code),
        ),
      )
    }
    expect(codes.slice(0, 3)).toEqual(['ok', 'ok', 'ok'])
    expect(codes.slice(3)).toEqual(['RATE_LIMITED', 'RATE_LIMITED'])
    const denied = await api.impersonation.list.query({ actorId: grace.userId, status: 'denied' })
    expect(denied.items.some((r) => r.outcomeCode === 'RATE_LIMITED')).toBe(true)
  })
})

describe("an organization's own setting", () => {
  let admin: { session: SignedIn; api: ActAsClient }

  beforeAll(async () => {
    admin = await customer(people['hooliAdmin']!, hooli.id)
  })

  it('only its admins change it; off refuses every start for its members and ends live ones', async () => {
    const member = people['hooliMember']!
    const live = await impersonate(member.id)
    const notAdmin = await customer(member, hooli.id)
    expect(
      (
        await failure(
          notAdmin.api.customer.orgSetting.set.mutate({ organizationId: hooli.id, setting: 'off' }),
        )
      ).code,
    ).toBe('FORBIDDEN')
    expect(
      await admin.api.customer.orgSetting.get.query({ organizationId: hooli.id }),
    ).toMatchObject({
      setting: 'allowed',
    })
    const off = await admin.api.customer.orgSetting.set.mutate({
      organizationId: hooli.id,
      setting: 'off',
    })
    expect(off).toMatchObject({ setting: 'off', changedBy: people['hooliAdmin']!.id })
    expect(await api.impersonation.get.query({ impersonationId: live.id })).toMatchObject({
      status: 'ended',
      endCause: 'organization_off',
    })
    const refused = await failure(
      api.impersonation.start.mutate({
        userId: member.id,
        reason: 'Customer reports a broken page',
      }),
    )
    expect(refused).toMatchObject({ rule: 'organization_off' })
    expect(refused.message).toMatch(/Hooli switched impersonation of its members off/)
    // The organization's history lists its member's session.
    const history = await admin.api.customer.orgHistory.query({ organizationId: hooli.id })
    expect(history.items.map((i) => i.impersonationId)).toContain(live.id)
    // Consent required: a start needs the member's consent now.
    await admin.api.customer.orgSetting.set.mutate({
      organizationId: hooli.id,
      setting: 'consent_required',
    })
    expect(
      await failure(
        api.impersonation.start.mutate({
          userId: member.id,
          reason: 'Customer reports a broken page',
        }),
      ),
    ).toMatchObject({ rule: 'consent_required' })
    await admin.api.customer.orgSetting.set.mutate({ organizationId: hooli.id, setting: 'allowed' })
    await impersonate(member.id)
    // Every change is an event in the chain, and the chain verifies.
    expect((await stack.deps.audit.verify({ full: true })).ok).toBe(true)
  })
})
