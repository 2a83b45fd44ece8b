// Issue 23, item 1: every audit event type has an OCSF 1.8.0 form, and every form ActAs emits
// validates against the vendored OCSF schema (src/ocsf/schema), through the JSON Schema the
// small generator (src/ocsf/json-schema.ts) builds from OCSF's dictionary, classes and objects.
// The events come from a real audit store (PGlite, or the server at DATABASE_URL).
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCESS_MODEL_EVENT_TYPES, END_CAUSES, IMPERSONATION_EVENT_TYPES } from '@actas/contracts'
import type { EndCause } from '@actas/contracts'
import type { OpenedDatabase } from '../../src/audit/db.js'
import { AuditStore } from '../../src/audit/store.js'
import { AccessStore } from '../../src/access/store.js'
import { feedToOcsf, readFeed } from '../../src/ocsf/feed.js'
import type { FeedEvent } from '../../src/ocsf/feed.js'
import { classUid, eventClassSchema } from '../../src/ocsf/json-schema.js'
import {
  OCSF_CLASSES,
  OCSF_VERSION,
  ocsfFromAction,
  ocsfFromAuditRead,
  ocsfFromEvent,
} from '../../src/ocsf/map.js'
import type { OcsfEvent } from '../../src/ocsf/map.js'
import { openTestDatabase } from '../support/stack.js'
import { ocsfErrors, ocsfSource, validatorFor } from './validate.js'

let db: OpenedDatabase
let audit: AuditStore
let clock = Date.parse('2026-12-01T09:00:00.000Z')
const now = () => new Date((clock += 1000))

async function started(userId = 'user_cust1') {
  const id = randomUUID()
  await audit.createImpersonation({
    id,
    actorId: 'user_staff1',
    actorSessionId: 'sess_staff',
    actorOrganizationId: 'org_support',
    userId,
    reason: 'Checking the invoice page, ticket 23',
    ticketUrl: 'https://support.example.com/t/23',
    sessionMinutes: 15,
    mode: 'read_only',
    requestId: 'req-23',
    ip: '203.0.113.7',
    userAgent: 'vitest',
  })
  return id
}
const issue = (id: string) =>
  audit.appendEvent(id, {
    type: 'issued',
    data: { clerkActorTokenId: 'act_1', expiresAt: new Date(clock + 60_000).toISOString() },
  })
const signIn = (id: string, sessionId: string) =>
  audit.appendEvent(id, { type: 'signed_in', clerkSessionId: sessionId })
const end = (id: string, cause: EndCause, sessionId: string | null) =>
  audit.appendEvent(id, {
    type: 'ended',
    cause,
    by: cause === 'ended_by_staff' ? 'user_staff2' : 'system',
    reason: cause === 'ended_by_staff' ? 'Done with the check' : null,
    clerkSessionId: sessionId,
  })

beforeAll(async () => {
  db = await openTestDatabase()
  audit = new AuditStore(db.db, { now })
  // Every path a timeline takes: each event type, each end cause.
  const denied = randomUUID()
  await audit.createImpersonation(
    {
      id: denied,
      actorId: 'user_staff1',
      userId: 'user_admin9',
      reason: 'Trying an admin, should be refused',
      sessionMinutes: 15,
      mode: 'full',
      ip: '2001:db8::7',
    },
    [{ type: 'denied', data: { code: 'POLICY_DENIED', message: 'Staff cannot be impersonated.' } }],
  )
  const failed = await started()
  await audit.appendEvent(failed, {
    type: 'failed',
    data: { code: 'SERVICE_UNAVAILABLE', message: 'Clerk did not answer.' },
  })
  const revoked = await started()
  await issue(revoked)
  await audit.appendEvent(revoked, { type: 'ticket_revoked', by: 'user_staff1' })
  for (const [i, cause] of END_CAUSES.entries()) {
    const id = await started(`user_cust${i + 10}`)
    await issue(id)
    if (cause === 'ticket_expired_unused') {
      await end(id, cause, null)
      continue
    }
    await signIn(id, `sess_imp${i}`)
    await end(id, cause, `sess_imp${i}`)
  }
}, 60_000)

afterAll(async () => {
  await db?.close()
})

/** The chain's impersonation events with their parties. */
async function impersonationFeed() {
  const feed = await readFeed(db.db, { afterSeq: 0, limit: 10_000 })
  return feed.filter((f): f is FeedEvent & { kind: 'impersonation' } => f.kind === 'impersonation')
}

async function allEvents(): Promise<OcsfEvent[]> {
  const feed = await impersonationFeed()
  return feed.map((f) => ocsfFromEvent(f.event, f.impersonation, { productVersion: '0.0.0' }))
}

describe('the OCSF form of every audit event', () => {
  it('covers every event type, and every form validates against the vendored schema', async () => {
    const feed = await impersonationFeed()
    const types = new Set(feed.map((f) => f.event.type))
    expect([...types].sort()).toEqual([...IMPERSONATION_EVENT_TYPES].sort())
    for (const f of feed) {
      const ocsf = ocsfFromEvent(f.event, f.impersonation)
      expect(ocsfErrors(ocsf), `${f.event.type} (seq ${f.event.seq})`).toEqual([])
      expect(ocsf.metadata).toMatchObject({
        version: OCSF_VERSION,
        correlation_uid: f.impersonation.id,
        sequence: f.event.seq,
        uid: f.event.hash,
      })
      expect(ocsf.unmapped).toMatchObject({
        actas: { seq: f.event.seq, hash: f.event.hash, prev_hash: f.event.prevHash },
      })
      expect(ocsf.type_uid).toBe(ocsf.class_uid * 100 + ocsf.activity_id)
      expect(ocsf.time).toBe(Date.parse(f.event.at))
    }
  })

  it('maps the sign-in to Authentication / Account Switch / Impersonate, staff as actor, customer as user', async () => {
    const events = await allEvents()
    const signIn = events.find((e) => e.metadata.event_code === 'signed_in')
    expect(signIn).toMatchObject({
      class_uid: 3002,
      activity_id: 7,
      type_uid: 300207,
      account_switch_type_id: 2,
      account_switch_type: 'Impersonate',
      actor: { user: { uid: 'user_staff1' } },
      user: { uid: 'user_cust10', type_id: 1 },
      session: { uid: 'sess_imp0' },
      status_id: 1,
    })
  })

  it('maps the ticket to Authorize Session, refusals as failures with their code', async () => {
    const events = await allEvents()
    const byType = (t: string) => events.filter((e) => e.metadata.event_code === t)
    for (const e of byType('issued'))
      expect(e).toMatchObject({
        class_uid: 3003,
        activity_id: 1,
        status_id: 1,
        privileges: ['impersonate:read_only'],
      })
    expect(byType('denied')[0]).toMatchObject({
      class_uid: 3003,
      status_id: 2,
      status_code: 'POLICY_DENIED',
      user: { uid: 'user_admin9' },
    })
    expect(
      byType('requested').find((e) => e.user && (e.user as { uid: string }).uid === 'user_admin9'),
    ).toMatchObject({
      src_endpoint: { ip: '2001:db8::7' },
    })
    expect(byType('failed')[0]).toMatchObject({
      class_uid: 3003,
      status_id: 2,
      status_code: 'SERVICE_UNAVAILABLE',
    })
    expect(byType('requested')[1]).toMatchObject({
      class_uid: 3003,
      status: 'Requested',
      src_endpoint: { ip: '203.0.113.7' },
    })
    expect(byType('ticket_revoked')[0]).toMatchObject({ class_uid: 3003, activity_id: 99 })
  })

  it('maps the end to Authentication Logoff with its cause, an unused ticket to the grant expiring', async () => {
    const ends = (await allEvents()).filter((e) => e.metadata.event_code === 'ended')
    expect(ends).toHaveLength(END_CAUSES.length)
    for (const e of ends) {
      const cause = (e.unmapped as { actas: { cause: string } }).actas.cause
      if (cause === 'ticket_expired_unused')
        expect(e).toMatchObject({ class_uid: 3003, activity_id: 99 })
      else expect(e).toMatchObject({ class_uid: 3002, activity_id: 2, status_detail: cause })
    }
    const byStaff = ends.find((e) => e.status_detail === 'ended_by_staff')
    expect(byStaff).toMatchObject({
      message: 'Done with the check',
      unmapped: { actas: { by: 'user_staff2' } },
    })
  })

  it('maps the guard action trail and machine audit reads to API Activity', async () => {
    const [first] = await impersonationFeed()
    if (!first) throw new Error('no events')
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const
    await audit.insertActions(
      methods.map((method, i) => ({
        impersonationId: first.impersonation.id,
        clerkSessionId: 'sess_imp1',
        method,
        route: '/orders/:id',
        status: i === 1 ? 403 : 200,
        at: new Date(clock),
        reportedBy: 'mch_host',
      })),
    )
    const { rows } = await audit.actions(first.impersonation.id, 100)
    expect(rows).toHaveLength(methods.length)
    const mapped = rows.map((r) =>
      ocsfFromAction({ ...r, at: r.at.toISOString() }, first.impersonation),
    )
    for (const e of mapped) expect(ocsfErrors(e)).toEqual([])
    expect(mapped.map((e) => [e.class_uid, e.activity_id, e.status_id])).toEqual([
      [6003, 2, 1],
      [6003, 1, 2],
      [6003, 3, 1],
      [6003, 3, 1],
      [6003, 4, 1],
      [6003, 2, 1],
      [6003, 2, 1],
    ])
    await audit.insertAuditRead({
      id: randomUUID(),
      machineId: 'mch_export',
      tokenId: 'mt_1',
      procedure: 'impersonation.list',
      params: { limit: 50 },
      rowCount: 3,
      requestId: 'req-9',
      ip: '127.0.0.1',
      userAgent: 'vitest',
    })
    const [read] = await audit.listAuditReads('mch_export')
    if (!read) throw new Error('no audit read')
    const e = ocsfFromAuditRead({ ...read, at: read.createdAt.toISOString() })
    expect(ocsfErrors(e)).toEqual([])
    expect(e).toMatchObject({ class_uid: 6003, activity_id: 2, actor: { app_uid: 'mch_export' } })
  })
})

describe('the OCSF form of the access model (access requests, organization settings)', () => {
  it('maps every access.* and organization.* type, each valid, in the one chain with the others', async () => {
    const access = new AccessStore(db.db, audit, now)
    const requested = () =>
      access.create({
        type: 'access.requested',
        by: 'user_staff1',
        reason: 'Customer reports a broken invoice page',
        data: {
          userId: 'user_cust77',
          mode: 'full',
          minutes: 30,
          needsConsent: true,
          needsApproval: false,
          decideBy: new Date(clock + 86_400_000).toISOString(),
        },
      })
    const a = await requested()
    await access.appendEvents(a.id, [
      { type: 'access.refused', by: 'user_cust78', reason: 'Not my account' },
      { type: 'access.approved', by: 'user_cust77', data: { approver: 'customer' } },
      {
        type: 'access.granted',
        by: 'user_cust77',
        data: { mode: 'read_only', endsAt: new Date(clock + 1_800_000).toISOString() },
      },
      { type: 'access.revoked', by: 'user_cust77', reason: 'No longer needed' },
    ])
    const b = await requested()
    await access.appendEvents(b.id, [
      { type: 'access.denied', by: 'user_cust77', reason: 'Not now' },
    ])
    const c = await requested()
    await access.appendEvents(c.id, [{ type: 'access.expired', cause: 'undecided', by: 'system' }])
    await access.setOrganizationSetting(
      { id: 'org_cust1', name: 'Acme' },
      'consent_required',
      'user_orgadmin',
    )
    const feed = await readFeed(db.db, { afterSeq: 0, limit: 10_000 })
    const model = feed.filter((f) => f.kind !== 'impersonation')
    expect([...new Set(model.map((f) => f.event.type))].sort()).toEqual(
      [...ACCESS_MODEL_EVENT_TYPES].sort(),
    )
    for (const f of feed) {
      const e = feedToOcsf(f)
      expect(ocsfErrors(e), `${f.event.type} (seq ${f.event.seq})`).toEqual([])
      expect(e.metadata).toMatchObject({ sequence: f.event.seq, uid: f.event.hash })
    }
    const ocsf = model.map((f) => feedToOcsf(f))
    const of = (type: string) => ocsf.find((e) => e.metadata.event_code === type)
    expect(of('access.granted')).toMatchObject({
      class_uid: 3005,
      activity_id: 1,
      user: { uid: 'user_cust77' },
      privileges: ['impersonate:read_only'],
      actor: { user: { uid: 'user_cust77' } },
      metadata: { correlation_uid: a.id },
    })
    expect(of('access.revoked')).toMatchObject({ class_uid: 3005, activity_id: 2 })
    expect(of('access.expired')).toMatchObject({
      class_uid: 3005,
      activity_id: 2,
      status_detail: 'undecided',
    })
    expect(of('access.denied')).toMatchObject({ class_uid: 3005, status_id: 2 })
    expect(of('organization.access_setting_changed')).toMatchObject({
      class_uid: 3004,
      activity_id: 3,
      entity: { type_id: 4, uid: 'org_cust1', name: 'Acme' },
      actor: { user: { uid: 'user_orgadmin' } },
    })
  })
})

describe('the JSON Schema generated from the vendored OCSF files', () => {
  const valid = () =>
    structuredClone(
      ocsfFromEvent(
        {
          seq: 1,
          type: 'signed_in',
          cause: null,
          by: null,
          reason: null,
          clerkSessionId: 'sess_1',
          data: {},
          at: '2026-12-01T09:00:00.000Z',
          prevHash: '0'.repeat(64),
          hash: 'a'.repeat(64),
        },
        {
          id: randomUUID(),
          actor: { id: 'user_staff1', email: 'ada@example.com' },
          user: { id: 'user_cust1', email: null },
          mode: 'full',
        },
      ),
    )

  it('names the classes by their uid and the OCSF version', () => {
    expect(ocsfSource.version).toBe(OCSF_VERSION)
    for (const [name, uid] of Object.entries(OCSF_CLASSES))
      expect(classUid(ocsfSource, name)).toBe(uid)
    expect(eventClassSchema(ocsfSource, 'authentication').title).toBe(
      'OCSF 1.8.0 authentication (3002)',
    )
  })

  it('accepts a valid event and refuses what OCSF refuses', () => {
    expect(ocsfErrors(valid())).toEqual([])
    const validate = validatorFor(3002)
    const cases: Array<[string, (e: Record<string, unknown>) => void]> = [
      ['a missing required attribute (user)', (e) => delete e.user],
      [
        'an activity the class does not define',
        (e) => ((e.activity_id = 42), (e.type_uid = 300242)),
      ],
      ['a type_uid that is not class × 100 + activity', (e) => (e.type_uid = 300201)],
      ['another class_uid', (e) => (e.class_uid = 3003)],
      ['an attribute the class does not have', (e) => (e.privileges = ['x'])],
      ['a profile attribute (host profile: device)', (e) => (e.device = { name: 'laptop' })],
      ['an attribute of the wrong type', (e) => (e.time = '2026-12-01')],
      [
        'an object attribute not in the object',
        (e) => ((e.user as Record<string, unknown>).nickname = 'x'),
      ],
      [
        'an enum value not defined (account_switch_type_id 5)',
        (e) => (e.account_switch_type_id = 5),
      ],
      ['neither service nor dst_endpoint (at_least_one)', (e) => delete e.service],
      [
        'an email that is not one',
        (e) => ((e.actor as { user: Record<string, unknown> }).user.email_addr = 'no at sign'),
      ],
      [
        'metadata without its product',
        (e) => delete (e.metadata as Record<string, unknown>).product,
      ],
    ]
    for (const [what, change] of cases) {
      const e = valid()
      change(e)
      expect(validate(e), what).toBe(false)
    }
  })

  it('refuses an object that is not vendored (ActAs emits none)', () => {
    const schema = eventClassSchema(ocsfSource, 'authentication')
    const properties = schema.properties as Record<
      string,
      { not?: unknown; items?: { not?: unknown } }
    >
    const notVendored = Object.keys(properties).filter(
      (k) => properties[k]?.not !== undefined || properties[k]?.items?.not !== undefined,
    )
    expect(notVendored.length).toBeGreaterThan(0)
    for (const key of notVendored) {
      const e = valid()
      e[key] = properties[key]?.items ? [{ name: 'x' }] : { name: 'x' }
      expect(validatorFor(3002)(e), key).toBe(false)
    }
  })
})

// Last: it adds a timeline the counts above do not expect.
describe('the OCSF form of what a machine did on behalf of a staff member', () => {
  it('a machine acting on behalf of a staff member: the person is the actor, the machine its app and source', async () => {
    const id = randomUUID()
    const machine = 'mch_helpdesk0000000000000000'
    await audit.createImpersonation({
      id,
      actorId: 'user_staff1',
      userId: 'user_cust99',
      reason: 'Started by the helpdesk bot for Ada',
      sessionMinutes: 15,
      mode: 'read_only',
      ip: '203.0.113.9',
      via: machine,
    })
    await audit.appendEvent(id, {
      type: 'issued',
      data: {
        clerkActorTokenId: 'act_9',
        expiresAt: new Date(clock + 60_000).toISOString(),
        via: machine,
      },
    })
    await signIn(id, 'sess_via')
    await audit.appendEvent(id, {
      type: 'ended',
      cause: 'ended_by_staff',
      by: 'user_staff1',
      reason: 'The bot is done',
      clerkSessionId: 'sess_via',
      data: { via: machine },
    })
    const feed = (await impersonationFeed()).filter((f) => f.impersonation.id === id)
    const forms = feed.map((f) => ocsfFromEvent(f.event, f.impersonation))
    expect(forms.map((e) => e.metadata.event_code)).toEqual([
      'requested',
      'issued',
      'signed_in',
      'ended',
    ])
    for (const e of forms) expect(ocsfErrors(e), String(e.metadata.event_code)).toEqual([])
    const byMachine = forms.filter((e) => e.metadata.event_code !== 'signed_in')
    for (const e of byMachine)
      expect(e, String(e.metadata.event_code)).toMatchObject({
        actor: { user: { uid: 'user_staff1', type_id: 2 }, app_uid: machine, invoked_by: machine },
        src_endpoint: { uid: machine },
        user: { uid: 'user_cust99' },
      })
    expect(forms[0]).toMatchObject({ src_endpoint: { ip: '203.0.113.9', uid: machine } })
    // The sign-in is the person's browser's own: no machine in it.
    expect(forms[2]!.actor).toEqual({ user: { uid: 'user_staff1', type_id: 2 } })
  })
})
