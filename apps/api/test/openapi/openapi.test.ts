// Issue 23, item 5: the OpenAPI 3.1 document of the procedures services call, served by the API,
// driven by a client that is not TypeScript: Python's standard library (client.py, run as a
// child process) searches, starts, reads, lists, ends and exports an impersonation over the
// REST-style routes with a Clerk M2M token — starting and ending on behalf of a named staff
// member (onBehalfOf), as MACHINE_PERMISSIONS grants the machine — and lists the live ones with
// the staff member's session token (people only); every answer it got is validated here against
// the document's schemas (Ajv, JSON Schema 2020-12).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultMachinePermissions, MACHINE_ON_BEHALF_PROCEDURES } from '@actas/contracts'
import { OPENAPI_PROCEDURES, operationId, REST_PREFIX } from '../../src/openapi/document.js'
import { ocsfErrors } from '../ocsf/validate.js'
import { startAdminStack } from '../support/stack.js'
import type { AdminStack } from '../support/stack.js'

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020
const client = fileURLToPath(new URL('./client.py', import.meta.url))
let s: AdminStack
let base = ''

interface Document {
  openapi: string
  paths: Record<
    string,
    {
      post: {
        operationId: string
        responses: Record<string, unknown>
        'x-actas-machines': string
      }
    }
  >
}
interface Answer {
  operationId: string
  path: string
  status: number
  body: unknown
}

beforeAll(async () => {
  s = await startAdminStack({
    env: (clerk) => {
      const id = (name: string) => clerk.machines.find((m) => m.name === name)!.id
      return {
        // The reads by default (machines scoped to ActAs), start and end granted to helpdesk by
        // its id. Step-up stays on (as in production): it asks a staff session for a recent
        // password, and a machine has none to give.
        MACHINE_PERMISSIONS: JSON.stringify({
          ...defaultMachinePermissions(id('actas-api')),
          [id('helpdesk')]: [...MACHINE_ON_BEHALF_PROCEDURES],
        }),
      }
    },
  })
  base = (await s.stack.listen()).replace(/\/trpc$/, '')
}, 60_000)

afterAll(async () => {
  await s?.stack.close()
})

async function getDocument(): Promise<Document> {
  const res = await fetch(`${base}/openapi.json`)
  expect(res.status).toBe(200)
  return (await res.json()) as Document
}

describe('the OpenAPI surface', () => {
  it('is an OpenAPI 3.1 document of the procedures services call', async () => {
    const doc = await getDocument()
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(OPENAPI_PROCEDURES.map((p) => `${REST_PREFIX}/${p}`))
    for (const p of OPENAPI_PROCEDURES)
      expect(doc.paths[`${REST_PREFIX}/${p}`]?.post.operationId).toBe(operationId(p))
    // Which operations machines may be granted, and how: start and end only on behalf of a person.
    const machines = Object.fromEntries(
      OPENAPI_PROCEDURES.map((p) => [
        p,
        doc.paths[`${REST_PREFIX}/${p}`]?.post['x-actas-machines'],
      ]),
    )
    expect(machines).toMatchObject({
      'users.search': 'read',
      'impersonation.start': 'on_behalf',
      'impersonation.end': 'on_behalf',
      'impersonation.active': 'never',
    })
    // The document is valid JSON Schema 2020-12 wherever it holds schemas: Ajv compiles them all.
    const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }))
    ajv.addSchema(doc, 'openapi')
    for (const [path, item] of Object.entries(doc.paths))
      for (const status of Object.keys(item.post.responses))
        expect(() => ajv.getSchema(pointer(path, status)), `${path} ${status}`).not.toThrow()
  })

  it('a Python client searches, starts, reads, ends and exports with an M2M token (start and end on behalf of a staff member); every answer validates', async () => {
    const customer = s.nextCustomer()
    const machineToken = (await s.stack.m2mToken('helpdesk')).token
    const { stdout, stderr } = await promisify(execFile)('python3', [client], {
      env: {
        PATH: process.env['PATH'] ?? '',
        ACTAS_URL: base,
        MACHINE_TOKEN: machineToken,
        STAFF_TOKEN: await s.admin.token(),
        STAFF_USER_ID: s.admin.userId,
        TARGET_QUERY: customer.emailAddresses[0]!.emailAddress,
      },
      timeout: 60_000,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`client.py failed: ${error.stderr ?? ''}\n${error.stdout ?? ''}`)
    })
    expect(stderr).toBe('')
    const answers = JSON.parse(stdout) as Answer[]
    expect(answers.map((a) => [a.operationId, a.status])).toEqual([
      ['usersSearch', 200],
      ['impersonationStart', 200],
      ['impersonationGet', 200],
      ['impersonationList', 200],
      ['impersonationActive', 200],
      ['impersonationEnd', 200],
      ['impersonationGet', 200],
      ['auditExport', 200],
      ['sessionsRevoked', 200],
      ['impersonationGet', 400],
      ['impersonationStart', 400],
      ['impersonationStart', 403],
    ])
    const doc = await getDocument()
    const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }))
    ajv.addSchema(doc, 'openapi')
    for (const a of answers) {
      const validate = ajv.getSchema(pointer(a.path, String(a.status)))
      if (!validate) throw new Error(`no schema for ${a.path} ${a.status}`)
      expect(
        validate(a.body),
        `${a.operationId} ${a.status}: ${JSON.stringify(validate.errors)}`,
      ).toBe(true)
    }
    // The audit log: the staff member is the actor and who ended it, the machine is `via`.
    const helpdesk = s.stack.machine('helpdesk').id
    const started = answers[1]!.body as { impersonationId: string }
    const record = await s.stack.deps.audit.get(started.impersonationId)
    expect(record).toMatchObject({
      userId: customer.id,
      actorId: s.admin.userId,
      status: 'ended',
      endCause: 'ended_by_staff',
      endedBy: s.admin.userId,
    })
    const events = await s.stack.deps.audit.events(started.impersonationId)
    const via = (type: string) =>
      (JSON.parse(events.find((e) => e.type === type)!.data) as { via?: string }).via
    expect([via('requested'), via('issued'), via('ended')]).toEqual([helpdesk, helpdesk, helpdesk])
    // The timeline the API answers (impersonation.get after the end) shows the machine too.
    const timeline = answers[6]!.body as {
      events: Array<{ type: string; by: string | null; data: { via?: string } }>
    }
    expect(timeline.events.map((e) => [e.type, e.by, e.data.via])).toEqual([
      ['requested', s.admin.userId, helpdesk],
      ['issued', null, helpdesk],
      ['ended', s.admin.userId, helpdesk],
    ])
    // The OCSF events the export answered are valid OCSF (the vendored schema).
    const exported = answers[7]!.body as { ocsf: unknown[] }
    for (const e of exported.ocsf) expect(ocsfErrors(e)).toEqual([])
    expect(answers[10]!.body).toMatchObject({ code: 'INVALID_INPUT' })
    // On behalf of a customer: refused by the policy as that person would be (no permission).
    expect(answers[11]!.body).toMatchObject({ code: 'POLICY_DENIED', rule: 'machine' })
  })

  it('a machine is judged as the staff member it names, and ends only what it started', async () => {
    const helpdesk = (await s.stack.m2mToken('helpdesk')).token
    // Scoped to ActAs, so the default reads, but not granted start or end.
    const ungranted = (await s.stack.m2mToken('audit-export')).token
    const post = async (procedure: string, token: string, body: unknown) => {
      const res = await fetch(`${base}${REST_PREFIX}/${procedure}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    const admin = s.admin.userId
    const agent = s.stack.account('agent').userId
    const reason = 'A machine acts for a staff member'
    // Staff without the permission: refused by the policy as they would be, and recorded.
    const customer = s.nextCustomer().id
    const forAgent = await post('impersonation.start', helpdesk, {
      userId: customer,
      reason,
      onBehalfOf: agent,
    })
    expect(forAgent).toMatchObject({
      status: 403,
      body: { code: 'POLICY_DENIED', rule: 'machine' },
    })
    expect(forAgent.body['message']).toMatch(/org:admin:impersonate in a staff organization/)
    const denied = (await s.stack.deps.audit.list({ actorId: agent, limit: 5 })).rows[0]!
    expect(denied).toMatchObject({ userId: customer, status: 'denied' })
    const requested = (await s.stack.deps.audit.events(denied.id)).find(
      (e) => e.type === 'requested',
    )!
    expect(JSON.parse(requested.data)).toMatchObject({ via: s.stack.machine('helpdesk').id })
    // The policy's rules about the target hold for a machine too: staff cannot be impersonated.
    expect(
      await post('impersonation.start', helpdesk, { userId: agent, reason, onBehalfOf: admin }),
    ).toMatchObject({ status: 403, body: { code: 'POLICY_DENIED', rule: 'staff' } })
    // onBehalfOf is a machine's: a staff member acts in their own name.
    expect(
      await post('impersonation.start', await s.admin.token(), {
        userId: s.nextCustomer().id,
        reason,
        onBehalfOf: admin,
      }),
    ).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } })
    // A machine not granted start or end: refused before anything happens.
    expect(
      await post('impersonation.start', ungranted, {
        userId: s.nextCustomer().id,
        reason,
        onBehalfOf: admin,
      }),
    ).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    // End: only an impersonation the machine started, for the person it started it for.
    const byAdmin = await s.api.impersonation.start.mutate({ userId: s.nextCustomer().id, reason })
    const end = (token: string, impersonationId: string, onBehalfOf = admin) =>
      post('impersonation.end', token, { impersonationId, reason: 'Machine ends', onBehalfOf })
    expect(await end(helpdesk, byAdmin.impersonationId)).toMatchObject({
      status: 403,
      body: { code: 'FORBIDDEN' },
    })
    const byMachine = await post('impersonation.start', helpdesk, {
      userId: s.nextCustomer().id,
      reason,
      onBehalfOf: admin,
    })
    expect(byMachine.status).toBe(200)
    const id = byMachine.body['impersonationId'] as string
    expect(await end(ungranted, id)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect(await end(helpdesk, id, agent)).toMatchObject({
      status: 403,
      body: { code: 'FORBIDDEN' },
    })
    expect(await end(helpdesk, id)).toMatchObject({ status: 200, body: { status: 'ended' } })
    // The refused end left the admin's own impersonation as it was.
    expect((await s.stack.deps.audit.get(byAdmin.impersonationId))?.status).toBe('issued')
  })

  it('an unknown operation is a 404 in the error shape, not a 500', async () => {
    const res = await fetch(`${base}${REST_PREFIX}/impersonation.nothing`, { method: 'POST' })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 404 })
  })
})

/** The JSON pointer of a response schema in the document added as `openapi`. */
function pointer(path: string, status: string): string {
  const escaped = path.replaceAll('~', '~0').replaceAll('/', '~1')
  return `openapi#/paths/${escaped}/post/responses/${status}/content/application~1json/schema`
}
