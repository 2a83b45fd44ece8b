// The audit log through the API: impersonation.get's timeline, audit.verify for staff (machines:
// audit-verify-api.test.ts), and audit completeness without floods (issue 10, item 3): every start by a
// signed-in caller leaves a record (403, 429 and 400 included), a non-staff caller's flood
// becomes one aggregate record a minute, and no text can make an audit write fail.
import { getActAsError } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callRaw, failure, startAdminStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient
/** The API's clock: one millisecond per reading, moved by hand to end a flood-control minute. */
let clock = Date.now()

beforeAll(async () => {
  ;({ stack, admin, api } = await startAdminStack({
    now: () => new Date(++clock),
    env: {
      RATE_LIMIT_START_PER_MINUTE: '4',
      AUDIT_DENIED_FULL_PER_MINUTE: '4',
      AUDIT_SIGNING_KEY: Buffer.alloc(32, 3).toString('base64url'),
      AUDIT_CHECKPOINT_EVERY: '10',
    },
  }))
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

const nextMinute = () => {
  clock = (Math.floor(clock / 60_000) + 1) * 60_000 + 1_000
}

describe('impersonation.get', () => {
  it('answers the record with its timeline, oldest first, chained', async () => {
    nextMinute()
    const customer = stack.customers()[0]!
    const started = await api.impersonation.start.mutate({
      userId: customer.id,
      reason: 'Timeline check for ticket 77',
    })
    await api.impersonation.revoke.mutate({ impersonationId: started.impersonationId })
    const got = await api.impersonation.get.query({ impersonationId: started.impersonationId })
    expect(got).toMatchObject({
      id: started.impersonationId,
      status: 'revoked',
      actor: { id: admin.userId },
      user: { id: customer.id },
      endedBy: admin.userId,
    })
    expect(got.events.map((e) => [e.type, e.by])).toEqual([
      ['requested', admin.userId],
      ['issued', null],
      ['ticket_revoked', admin.userId],
    ])
    expect(got.events[1]!.data).toMatchObject({ expiresAt: started.expiresAt })
    expect(JSON.stringify(got)).not.toContain(started.ticket)
    expect(got.events[2]!.prevHash).toBe(got.events[1]!.hash)
  })

  it('404 for an unknown id; a machine may read it, and that read is recorded', async () => {
    const missing = await failure(
      api.impersonation.get.query({ impersonationId: '00000000-0000-4000-8000-000000000000' }),
    )
    expect(missing).toMatchObject({ code: 'IMPERSONATION_NOT_FOUND', httpStatus: 404 })
    const { items } = await api.impersonation.list.query({ limit: 1 })
    const { token, id: tokenId } = await stack.m2mToken('helpdesk')
    const machine = stack.client(() => token)
    const got = await machine.impersonation.get.query({ impersonationId: items[0]!.id })
    expect(got.id).toBe(items[0]!.id)
    const reads = await stack.deps.audit.listAuditReads(stack.machine('helpdesk').id)
    expect(reads.at(-1)).toMatchObject({
      procedure: 'impersonation.get',
      tokenId,
      params: { impersonationId: items[0]!.id },
    })
  })
})

describe('audit.verify', () => {
  it('walks the chain for staff, with signed checkpoints; machines need an explicit grant', async () => {
    const report = await api.audit.verify.query({ full: true })
    expect(report).toMatchObject({ ok: true, firstBroken: null })
    expect(report.events).toBe(report.head.seq)
    expect(report.checkpoints.publicKey).toMatch(/BEGIN PUBLIC KEY/)
    // The default machine map leaves audit.verify out (audit-verify-api.test.ts grants it).
    const { token } = await stack.m2mToken('audit-export')
    expect(await failure(stack.client(() => token).audit.verify.query())).toMatchObject({
      code: 'FORBIDDEN',
    })
    const agent = await stack.signIn('agent')
    expect(await failure(stack.client(() => agent.token()).audit.verify.query())).toMatchObject({
      code: 'FORBIDDEN',
    })
  })
})

describe('every impersonation.start by a signed-in caller leaves a record', () => {
  it('NUL, control characters and an 8 KB user agent never make the write fail', async () => {
    const customer = stack.customers()[20]!
    const res = await callRaw(stack.app, 'impersonation.start', {
      type: 'mutation',
      token: await admin.token(),
      input: { userId: customer.id, reason: 'Needs\u0000 a look\u0007 at\u202e billing\r\nnow' },
      headers: { 'user-agent': `Mozilla\u0001/5.0 ${'y'.repeat(8192)}` },
    })
    expect(res.status).toBe(200)
    const { items } = await api.impersonation.list.query({ userId: customer.id })
    expect(items[0]).toMatchObject({ status: 'issued', reason: 'Needs a look at billing  now' })
    expect(items[0]!.userAgent).toMatch(/^Mozilla\/5\.0 y+$/)
    expect(items[0]!.userAgent).toHaveLength(512)
  })

  it('staff: invalid input (400) and the rate limit (429) are recorded with what was sent', async () => {
    const before = (await api.impersonation.list.query({ actorId: admin.userId, limit: 100 })).items
    const bad = await callRaw(stack.app, 'impersonation.start', {
      type: 'mutation',
      token: await admin.token(),
      input: { userId: 'not-a-user', reason: 'short', sessionMinutes: 99 },
      headers: { 'user-agent': 'x'.repeat(8192) },
    })
    expect(bad.status).toBe(400)
    // Start until the per-minute limit (4, real time) answers 429.
    const customers = stack.customers()
    let sent = 0
    let limited: Awaited<ReturnType<typeof failure>> | undefined
    for (let i = 0; i < 10 && !limited; i++) {
      sent += 1
      await api.impersonation.start
        .mutate({ userId: customers[10 + i]!.id, reason: `Filling the rate limit ${i}` })
        .catch((error: unknown) => {
          limited = getActAsError(error)
        })
    }
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', httpStatus: 429 })
    const after = (await api.impersonation.list.query({ actorId: admin.userId, limit: 100 })).items
    // One record per call: the 400, the starts, and the 429.
    expect(after.length - before.length).toBe(1 + sent)
    expect(after[0]).toMatchObject({
      status: 'denied',
      outcomeCode: 'RATE_LIMITED',
      user: { id: customers[10 + sent - 1]!.id },
      reason: `Filling the rate limit ${sent - 1}`,
    })
    const invalid = after.find((r) => r.outcomeCode === 'INVALID_INPUT')
    expect(invalid).toMatchObject({
      status: 'denied',
      user: { id: 'not-a-user' },
      reason: 'short',
      sessionMinutes: 0,
    })
    expect(invalid!.outcomeMessage).toMatch(/reason/)
    expect(invalid!.userAgent).toHaveLength(512)
  })

  it('a non-staff flood: the first N a minute in full, the rest as one aggregate record', async () => {
    nextMinute()
    const agent = await stack.signIn('agent')
    const asAgent = stack.client(() => agent.token())
    const target = stack.customers()[30]!
    const mine = async () =>
      (await api.impersonation.list.query({ actorId: agent.userId, limit: 100 })).items
    const before = (await mine()).length
    for (let i = 0; i < 24; i++) {
      const error = await failure(
        asAgent.impersonation.start.mutate({
          userId: target.id,
          reason: `Flood attempt number ${i} \u0000`,
        }),
      )
      expect(error.code).toBe('FORBIDDEN')
    }
    const full = (await mine()).slice(0, (await mine()).length - before)
    expect(full).toHaveLength(4)
    expect(full.every((r) => r.attempts === 1 && r.status === 'denied')).toBe(true)

    // The minute ends: the next attempt (or the timer) writes the aggregate of the other 20.
    nextMinute()
    await failure(
      asAgent.impersonation.start.mutate({ userId: target.id, reason: 'The next minute starts' }),
    )
    const after = (await mine()).slice(0, (await mine()).length - before)
    expect(after).toHaveLength(6)
    const aggregate = after.find((r) => r.attempts > 1)
    expect(aggregate).toMatchObject({ status: 'denied', attempts: 20, outcomeCode: 'FORBIDDEN' })
    expect(aggregate!.outcomeMessage).toMatch(
      new RegExp(`^\\+20 more refused attempts from ${agent.userId} between `),
    )
  })
})
