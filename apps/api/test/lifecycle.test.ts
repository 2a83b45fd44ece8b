// An impersonation after its ticket: the console's sign-in report, the "Active now" board, the
// kill switch, Stop with the way back to the console, and the refusal of an ended session while
// its JWT is still valid. Real sign-ins on the local Clerk server, the API in-process, PGlite
// (or the Postgres server of the servers run).
import { randomBytes } from 'node:crypto'
import type { ActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sha256Hex } from '../src/impersonation/lifecycle.js'
import {
  actasCode,
  callRaw,
  clerkBapi,
  failure,
  startAdminStack,
  withSupportRole,
} from './support/stack.js'
import type { AdminStack, SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient
let nextCustomer: AdminStack['nextCustomer']
let impersonate: AdminStack['impersonate']

function newSecret() {
  const secret = randomBytes(32).toString('base64url')
  return { secret, hash: sha256Hex(secret) }
}

beforeAll(async () => {
  ;({ stack, admin, api, nextCustomer, impersonate } = await startAdminStack())
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('impersonation.signedIn', () => {
  it('records the Clerk session from the verified token, once', async () => {
    const { id, session, client } = await impersonate({ report: false })
    expect((await api.impersonation.get.query({ impersonationId: id })).status).toBe('issued')
    const record = await client.impersonation.signedIn.mutate({
      sessionToken: await session.token(),
    })
    expect(record).toMatchObject({ status: 'signed_in', clerkSessionId: session.sessionId })
    // A second report changes nothing.
    await client.impersonation.signedIn.mutate({ sessionToken: await session.token() })
    const got = await api.impersonation.get.query({ impersonationId: id })
    expect(got.events.filter((e) => e.type === 'signed_in')).toHaveLength(1)
  })

  it("refuses another session's token and a token that does not verify", async () => {
    const a = await impersonate({ report: false })
    const b = await impersonate({ report: false })
    const other = await failure(
      a.client.impersonation.signedIn.mutate({ sessionToken: await b.session.token() }),
    )
    expect(other.code).toBe('FORBIDDEN')
    const token = await a.session.token()
    const [header, payload] = token.split('.')
    const forged = await failure(
      a.client.impersonation.signedIn.mutate({ sessionToken: `${header}.${payload}.AAAA` }),
    )
    expect(forged.code).toBe('INVALID_INPUT')
    // Staff sessions report nothing: the body alone is never trusted.
    const staff = await failure(
      api.impersonation.signedIn.mutate({ sessionToken: await a.session.token() }),
    )
    expect(staff.code).toBe('FORBIDDEN')
    expect((await api.impersonation.get.query({ impersonationId: a.id })).status).toBe('issued')
  })
})

describe('impersonation.active', () => {
  it('lists live impersonations with who, whom, why and until when', async () => {
    const { id, user, session } = await impersonate()
    const { items } = await api.impersonation.active.query()
    const item = items.find((i) => i.id === id)
    expect(item).toMatchObject({
      actor: { id: stack.account('admin').userId, email: 'ada@support.actas.test' },
      user: { id: user.id },
      reason: 'Customer reports a broken invoice page',
      clerkSessionId: session.sessionId,
    })
    expect(Date.parse(item!.endsAt!)).toBeGreaterThan(Date.parse(item!.signedInAt!))
    expect(item!.lastActiveAt).not.toBeNull()
  })
})

describe('impersonation.end (the kill switch)', () => {
  it('revokes the Clerk session, records who and why, and refuses the still-valid JWT', async () => {
    const { id, session } = await impersonate()
    const stillValid = await session.token()
    const record = await api.impersonation.end.mutate({
      impersonationId: id,
      reason: 'Wrong customer, stop now',
    })
    expect(record).toMatchObject({
      status: 'ended',
      endCause: 'ended_by_staff',
      endedBy: stack.account('admin').userId,
      endReason: 'Wrong customer, stop now',
    })
    expect(stack.clerk.state.sessions.get(session.sessionId)?.status).toBe('revoked')
    // The JWT minted before the end still verifies, and is refused with the reason.
    const refused = await callRaw(stack.app, 'me', { type: 'query', token: stillValid })
    expect(refused.status).toBe(401)
    expect(actasCode(refused)).toBe('UNAUTHENTICATED')
    expect(refused.raw).toContain('Wrong customer, stop now')
    const inspected = await api.sessions.inspect.mutate({ token: stillValid })
    expect(inspected).toMatchObject({ valid: true, revoked: true, sessionId: session.sessionId })
    // Clerk mints no new token for it either.
    await expect(session.token()).rejects.toThrow()
    // Gone from the board; a second end answers the same record.
    const { items } = await api.impersonation.active.query()
    expect(items.map((i) => i.id)).not.toContain(id)
    const again = await api.impersonation.end.mutate({ impersonationId: id, reason: 'again!' })
    expect(again.endReason).toBe('Wrong customer, stop now')
    const got = await api.impersonation.get.query({ impersonationId: id })
    expect(got.events.map((e) => e.type)).toEqual(['requested', 'issued', 'signed_in', 'ended'])
  })

  it('ends an unused ticket: revoked in Clerk, so it can no longer sign in', async () => {
    const user = nextCustomer()
    const started = await api.impersonation.start.mutate({
      userId: user.id,
      reason: 'Started by mistake, ending it',
    })
    const record = await api.impersonation.end.mutate({
      impersonationId: started.impersonationId,
      reason: 'Not needed after all',
    })
    expect(record).toMatchObject({ status: 'ended', endCause: 'ended_by_staff' })
    await expect(stack.signInWithTicket(started.ticket)).rejects.toThrow()
  })

  it('finds the session a used ticket became even when nobody reported it', async () => {
    const { id, session } = await impersonate({ report: false })
    const record = await api.impersonation.end.mutate({ impersonationId: id, reason: 'Stop it' })
    expect(record).toMatchObject({ status: 'ended', clerkSessionId: session.sessionId })
    expect(stack.clerk.state.sessions.get(session.sessionId)?.status).toBe('revoked')
  })

  it('answers 404 for an unknown id and 400 for one that is not live', async () => {
    expect(
      (
        await failure(
          api.impersonation.end.mutate({
            impersonationId: '00000000-0000-4000-8000-000000000000',
            reason: 'nothing',
          }),
        )
      ).code,
    ).toBe('IMPERSONATION_NOT_FOUND')
    const started = await api.impersonation.start.mutate({
      userId: nextCustomer().id,
      reason: 'Revoked before use, then ended?',
    })
    await api.impersonation.revoke.mutate({ impersonationId: started.impersonationId })
    const error = await failure(
      api.impersonation.end.mutate({ impersonationId: started.impersonationId, reason: 'late' }),
    )
    expect(error.code).toBe('INVALID_INPUT')
  })
})

describe('impersonation.stop (the way back)', () => {
  it('with the return secret: ends it and hands back a one-time sign-in for the staff member', async () => {
    const { secret, hash } = newSecret()
    const { id, session, client } = await impersonate({ returnSecretHash: hash })
    const stillValid = await session.token()
    const out = await client.impersonation.stop.mutate({ returnSecret: secret })
    expect(out.returnRefused).toBeNull()
    expect(out.impersonation).toMatchObject({
      id,
      status: 'ended',
      endCause: 'stopped_by_actor',
      endedBy: stack.account('admin').userId,
    })
    expect(stack.clerk.state.sessions.get(session.sessionId)?.status).toBe('revoked')
    // The ticket signs the staff member in, without a password, once.
    const back = await stack.signInWithTicket(out.returnTicket!)
    expect(back.userId).toBe(stack.account('admin').userId)
    await expect(stack.signInWithTicket(out.returnTicket!)).rejects.toThrow()
    // The impersonated JWT is refused; Stop again is refused too (the secret is single-use).
    const again = await callRaw(stack.app, 'impersonation.stop', {
      type: 'mutation',
      token: stillValid,
      input: { returnSecret: secret },
    })
    expect(again.status).toBe(401)
    // Neither the secret nor the ticket is in the log or the stored events.
    const got = await api.impersonation.get.query({ impersonationId: id })
    const stored = JSON.stringify(got) + stack.logs.join('')
    expect(stored).not.toContain(secret)
    expect(stored).not.toContain(out.returnTicket!)
  })

  it('without the secret, or with another one: ends it and returns no way back', async () => {
    const { hash } = newSecret()
    const none = await impersonate({ returnSecretHash: hash })
    const out = await none.client.impersonation.stop.mutate({})
    expect(out).toMatchObject({
      returnTicket: null,
      returnRefused: 'no_secret',
      impersonation: { status: 'ended', endCause: 'stopped_by_actor' },
    })
    const wrong = await impersonate({ returnSecretHash: hash })
    const out2 = await wrong.client.impersonation.stop.mutate({
      returnSecret: newSecret().secret,
    })
    expect(out2).toMatchObject({ returnTicket: null, returnRefused: 'secret_mismatch' })
    expect(stack.clerk.state.sessions.get(wrong.session.sessionId)?.status).toBe('revoked')
  })

  it('records the sign-in the console never reported before ending', async () => {
    const { id, session, client } = await impersonate({ report: false })
    const out = await client.impersonation.stop.mutate({})
    expect(out.impersonation).toMatchObject({ status: 'ended', clerkSessionId: session.sessionId })
    const got = await api.impersonation.get.query({ impersonationId: id })
    expect(got.events.map((e) => e.type)).toEqual(['requested', 'issued', 'signed_in', 'ended'])
  })

  it('is for impersonated sessions only', async () => {
    expect((await failure(api.impersonation.stop.mutate({}))).code).toBe('FORBIDDEN')
  })

  it('returns no way back to a staff member who lost the permission meanwhile', async () => {
    const { secret, hash } = newSecret()
    const { client } = await impersonate({ returnSecretHash: hash })
    const membership = stack.clerk.state
      .membershipsOfUser(stack.account('admin').userId)
      .find((m) => m.organizationId === stack.supportOrgId)!
    membership.role = 'member'
    try {
      const out = await client.impersonation.stop.mutate({ returnSecret: secret })
      expect(out).toMatchObject({ returnTicket: null, returnRefused: 'actor_not_allowed' })
    } finally {
      membership.role = 'admin'
    }
  })
})

/** Clerk's Backend API on the local server, as an operator's script would call it. */
const bapi = <T = unknown>(method: string, path: string, body?: unknown) =>
  clerkBapi<T>(stack, method, path, body)

/** A second staff member: a new user, admin of the support organization. */
async function newStaffMember(local: string) {
  const email = `${local}@support.actas.test`
  const password = 'second-staff-pw'
  const user = await bapi<{ id: string }>('POST', 'users', {
    email_address: [email],
    password,
    first_name: 'Grace',
    last_name: 'Hopper',
  })
  await bapi('POST', `organizations/${stack.supportOrgId}/memberships`, {
    user_id: user.id,
    role: 'org:admin',
  })
  const signedIn = await stack.signIn({ identifier: email, password })
  return { email, userId: user.id, client: stack.client(() => signedIn.token()) }
}

describe('impersonation.signInFailed (the console says the ticket sign-in failed)', () => {
  it('appends `failed` once with the code, and revokes the ticket so it can no longer sign in', async () => {
    const started = await api.impersonation.start.mutate({
      userId: nextCustomer().id,
      reason: 'The ticket sign-in will fail in the console',
    })
    const record = await api.impersonation.signInFailed.mutate({
      impersonationId: started.impersonationId,
      code: 'ticket_expired',
    })
    expect(record).toMatchObject({ status: 'failed', outcomeCode: 'ticket_expired' })
    await expect(stack.signInWithTicket(started.ticket)).rejects.toThrow()
    const again = await api.impersonation.signInFailed.mutate({
      impersonationId: started.impersonationId,
      code: 'unavailable',
    })
    expect(again).toMatchObject({ status: 'failed', outcomeCode: 'ticket_expired' })
    const got = await api.impersonation.get.query({ impersonationId: started.impersonationId })
    expect(got.events.map((e) => e.type)).toEqual(['requested', 'issued', 'failed'])
  })

  it('is refused once the ticket became a session, and to anyone but the staff member who started it', async () => {
    const live = await impersonate()
    const used = await failure(
      api.impersonation.signInFailed.mutate({ impersonationId: live.id, code: 'unknown' }),
    )
    expect(used.code).toBe('TICKET_ALREADY_USED')
    expect(used.httpStatus).toBe(409)
    expect((await api.impersonation.get.query({ impersonationId: live.id })).status).toBe(
      'signed_in',
    )

    // Used but never reported: Clerk says the ticket was used, so it is a sign-in, recorded.
    const unreported = await impersonate({ report: false })
    const late = await failure(
      api.impersonation.signInFailed.mutate({ impersonationId: unreported.id, code: 'unknown' }),
    )
    expect(late.code).toBe('TICKET_ALREADY_USED')
    expect(
      (await api.impersonation.get.query({ impersonationId: unreported.id })).clerkSessionId,
    ).toBe(unreported.session.sessionId)

    const started = await api.impersonation.start.mutate({
      userId: nextCustomer().id,
      reason: 'Someone else reports a failure',
    })
    const other = await newStaffMember('grace.signin')
    const forbidden = await failure(
      other.client.impersonation.signInFailed.mutate({
        impersonationId: started.impersonationId,
        code: 'ticket_invalid',
      }),
    )
    expect(forbidden.code).toBe('FORBIDDEN')
    // The impersonated session is not staff at all.
    const notStaff = await failure(
      live.client.impersonation.signInFailed.mutate({
        impersonationId: started.impersonationId,
        code: 'ticket_invalid',
      }),
    )
    expect(notStaff.code).toBe('FORBIDDEN')
    expect(
      (await api.impersonation.get.query({ impersonationId: started.impersonationId })).status,
    ).toBe('issued')
  })

  it('answers bad input with a typed 4xx, never a 500', async () => {
    const token = await admin.token()
    const cases: [unknown, number][] = [
      [{ impersonationId: 'not-a-uuid', code: 'ticket_expired' }, 400],
      [{ impersonationId: '00000000-0000-4000-8000-000000000000', code: 'Ticket Expired!' }, 400],
      [{ impersonationId: '00000000-0000-4000-8000-000000000000', code: 'x'.repeat(65) }, 400],
      [{ impersonationId: '00000000-0000-4000-8000-000000000000' }, 400],
      [{ impersonationId: '00000000-0000-4000-8000-000000000000', code: 'a', extra: 1 }, 400],
      ['junk', 400],
      [{ impersonationId: '00000000-0000-4000-8000-000000000000', code: 'ticket_expired' }, 404],
    ]
    for (const [input, status] of cases) {
      const res = await callRaw(stack.app, 'impersonation.signInFailed', {
        type: 'mutation',
        token,
        input,
      })
      expect(res.status, JSON.stringify(input)).toBe(status)
    }
  })
})

describe('the refusal of an ended session says how it ended (for its banner)', () => {
  it('kill switch: who ended it, by email, why and when; only that impersonation', async () => {
    const { id, session } = await impersonate()
    // The token minted before the end (Clerk mints no new one after it).
    const stillValid = await session.token()
    const client = stack.client(() => stillValid)
    const grace = await newStaffMember('grace.end')
    await grace.client.impersonation.end.mutate({
      impersonationId: id,
      reason: 'Customer withdrew consent',
    })
    const refused = await failure(client.me.query())
    expect(refused.code).toBe('UNAUTHENTICATED')
    expect(refused.message).toContain(`ended by ${grace.userId}: Customer withdrew consent`)
    expect(refused.impersonationEnded).toMatchObject({
      impersonationId: id,
      status: 'ended',
      cause: 'ended_by_staff',
      endedBy: { id: grace.userId, email: grace.email },
      reason: 'Customer withdrew consent',
    })
    expect(Date.parse(refused.impersonationEnded!.endedAt!)).not.toBeNaN()
    // The ender's email is in the audited event too.
    const got = await api.impersonation.get.query({ impersonationId: id })
    expect(got.events.at(-1)?.data).toMatchObject({ byEmail: grace.email })
    // Nothing of it reaches a session that has no ended impersonation.
    const plain = await callRaw(stack.app, 'me', { type: 'query', token: 'not-a-token' })
    expect(JSON.stringify(plain.body)).not.toContain('Customer withdrew consent')
    // A second refusal answers the same (kept, not read again).
    expect((await failure(client.me.query())).impersonationEnded).toEqual(
      refused.impersonationEnded,
    )
    await expect(session.token()).rejects.toThrow()
  })

  it('by policy: the cause, ended by the system', async () => {
    const { id, session } = await impersonate()
    const stillValid = await session.token()
    const client = stack.client(() => stillValid)
    await withSupportRole(stack, 'admin', 'member', () => stack.deps.reconciler.run())
    const refused = await failure(client.me.query())
    expect(refused.impersonationEnded).toMatchObject({
      impersonationId: id,
      cause: 'actor_lost_permission',
      endedBy: { id: 'system', email: null },
    })
  })
})
