// audit.verify through the API (issue 19, item 8): incremental from the last signed checkpoint by
// default, the full walk behind `{ full: true }` for staff only, rate-limited per caller, and for
// machines only by an explicit MACHINE_PERMISSIONS grant. And forged cursors outside the range
// Postgres can represent are a 400, never a 500 (item 7).
import type { ActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callRaw, failure, startAdminStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient

beforeAll(async () => {
  ;({ stack, admin, api } = await startAdminStack({
    env: (clerk) => {
      const id = (name: string) => clerk.machines.find((m) => m.name === name)!.id
      return {
        AUDIT_SIGNING_KEY: Buffer.alloc(32, 5).toString('base64url'),
        AUDIT_CHECKPOINT_EVERY: '4',
        RATE_LIMIT_VERIFY_PER_MINUTE: '5',
        RATE_LIMIT_START_PER_MINUTE: '100',
        // audit-export is granted audit.verify by name; helpdesk has the default map only.
        MACHINE_PERMISSIONS: JSON.stringify({
          [id('audit-export')]: ['audit.verify', 'impersonation.list'],
          [id('actas-api')]: ['impersonation.list', 'impersonation.get'],
        }),
        WEBHOOK_ENDPOINTS: JSON.stringify([
          {
            url: 'https://host.test/actas',
            secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}`,
          },
        ]),
      }
    },
  }))
  for (const user of stack.customers().slice(0, 5))
    await api.impersonation.start.mutate({ userId: user.id, reason: 'Verify walk, API test' })
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('audit.verify', () => {
  it('walks from the last signed checkpoint by default; staff may ask for the full walk', async () => {
    const { seq: head } = await stack.deps.audit.head()
    const [last] = (await stack.deps.audit.checkpoints()).slice(-1)
    const incremental = await api.audit.verify.query()
    expect(incremental).toMatchObject({ ok: true, full: false, from: last!.seq })
    expect(incremental.events).toBe(head - last!.seq)
    const full = await api.audit.verify.query({ full: true })
    expect(full).toMatchObject({ ok: true, full: true, from: 0, events: head })
    expect(full.rows).toBeGreaterThanOrEqual(5)
  })

  it('machines: only by an explicit grant, never the full walk, and each check is recorded', async () => {
    const helpdesk = await stack.m2mToken('helpdesk')
    expect(await failure(stack.client(() => helpdesk.token).audit.verify.query())).toMatchObject({
      code: 'FORBIDDEN',
    })
    const exporter = await stack.m2mToken('audit-export')
    const client = stack.client(() => exporter.token)
    expect(await client.audit.verify.query()).toMatchObject({ ok: true, full: false })
    expect(await failure(client.audit.verify.query({ full: true }))).toMatchObject({
      code: 'FORBIDDEN',
    })
    const reads = await stack.deps.audit.listAuditReads(stack.machine('audit-export').id)
    expect(reads.at(-1)).toMatchObject({ procedure: 'audit.verify' })
  })

  it('is rate-limited per caller (RATE_LIMIT_VERIFY_PER_MINUTE)', async () => {
    const staff = await stack.signIn('colleague')
    const client = stack.client(() => staff.token())
    const answers: number[] = []
    for (let i = 0; i < 6; i++) {
      const res = await callRaw(stack.app, 'audit.verify', {
        type: 'query',
        token: await staff.token(),
      })
      answers.push(res.status)
    }
    expect(answers).toEqual([200, 200, 200, 200, 200, 429])
    expect(await failure(client.audit.verify.query())).toMatchObject({
      code: 'RATE_LIMITED',
      rateLimitedBy: 'actas',
    })
  })
})

describe('cursors outside the representable range', () => {
  const forged = (createdAt: string) =>
    Buffer.from(JSON.stringify([createdAt, '00000000-0000-4000-8000-000000000000'])).toString(
      'base64url',
    )

  it('impersonation.list and webhooks.deliveries answer 400 for the year 0000', async () => {
    const token = await admin.token()
    for (const path of ['impersonation.list', 'webhooks.deliveries']) {
      const res = await callRaw(stack.app, path, {
        type: 'query',
        token,
        input: { cursor: forged('0000-01-01T00:00:00.000Z') },
      })
      expect({ path, status: res.status }).toEqual({ path, status: 400 })
    }
    expect(
      await failure(api.impersonation.list.query({ cursor: forged('0000-06-30T12:00:00.000Z') })),
    ).toMatchObject({ code: 'INVALID_INPUT' })
  })
})
