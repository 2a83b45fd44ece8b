// POST /webhooks/clerk with the local Clerk server's real Svix-signed deliveries: sign-ins and
// ends learnt without the console's report, a bad signature refused with nothing stored, and
// replays, duplicates, out-of-order and dropped deliveries handled once.
import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ActAsClient } from '@actas/contracts/client'
import { count, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditEvents, webhookDeliveries } from '../src/audit/schema.js'
import { startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient
let webhookUrl: string
let customerCursor = 0
/** A second endpoint that records what the local server delivers (headers and raw body). */
let recorder: Server
const recorded: { headers: IncomingHttpHeaders; body: string }[] = []

beforeAll(async () => {
  stack = await startStack({
    clerk: { webhookRetry: { delaysMs: [100, 200, 400], timeoutMs: 5000 } },
    env: (clerk) => ({
      RATE_LIMIT_START_PER_MINUTE: '1000',
      CLERK_WEBHOOK_SIGNING_SECRET: clerk.webhookSecret,
    }),
  })
  admin = await stack.signIn('admin')
  api = stack.client(() => admin.token())
  const trpc = await stack.listen()
  webhookUrl = trpc.replace(/\/trpc$/, '/webhooks/clerk')
  stack.clerk.webhooks.addEndpoint(webhookUrl)
  recorder = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString('utf8')))
    req.on('end', () => {
      recorded.push({ headers: req.headers, body })
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve))
  stack.clerk.webhooks.addEndpoint(`http://127.0.0.1:${(recorder.address() as AddressInfo).port}/`)
}, 60_000)

afterAll(async () => {
  await new Promise((resolve) => recorder?.close(resolve))
  await stack?.close()
})

function nextCustomer() {
  const user = stack.customers()[customerCursor++]
  if (!user) throw new Error('out of customers')
  return user
}

async function impersonate() {
  const started = await api.impersonation.start.mutate({
    userId: nextCustomer().id,
    reason: 'Learnt from webhooks only',
  })
  const session = await stack.signInWithTicket(started.ticket)
  return { id: started.impersonationId, session }
}

/** Sends a recorded delivery (its svix headers) to the API again, with `body` (default: as signed). */
const resend = (sample: (typeof recorded)[number], body = sample.body) =>
  fetch(webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'svix-id': String(sample.headers['svix-id']),
      'svix-timestamp': String(sample.headers['svix-timestamp']),
      'svix-signature': String(sample.headers['svix-signature']),
    },
    body,
  })

const get = (id: string) => api.impersonation.get.query({ impersonationId: id })

async function deliveriesStored(): Promise<number> {
  const [row] = await stack.deps.database.db.select({ n: count() }).from(webhookDeliveries)
  return row?.n ?? 0
}

async function revokeInClerk(sessionId: string) {
  const res = await fetch(`${stack.clerk.url}/v1/sessions/${sessionId}/revoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.clerk.secretKey}` },
  })
  expect(res.status).toBe(200)
}

describe('POST /webhooks/clerk', () => {
  it('learns the sign-in and the end from real deliveries', async () => {
    const { id, session } = await impersonate()
    await stack.clerk.webhooks.idle()
    expect(await get(id)).toMatchObject({ status: 'signed_in', clerkSessionId: session.sessionId })
    // Ended in Clerk without ActAs (signed out in the app): ended, refused at once.
    const token = await session.token()
    await session.fapi.signOut()
    await stack.clerk.webhooks.idle()
    const ended = await get(id)
    expect(ended).toMatchObject({ status: 'ended', endCause: 'signed_out', endedBy: 'system' })
    const me = await stack.app.inject({
      method: 'GET',
      url: '/trpc/me',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(me.statusCode).toBe(401)
  })

  it('refuses a bad signature or a changed body with 400 and stores nothing', async () => {
    const { id } = await impersonate()
    await stack.clerk.webhooks.idle()
    const sample = recorded.find((r) => r.body.includes(id) && r.body.includes('session.created'))
    expect(sample).toBeDefined()
    const before = { stored: await deliveriesStored(), events: (await get(id)).events.length }
    const headers = {
      'content-type': 'application/json',
      'svix-id': `${String(sample!.headers['svix-id'])}x`,
      'svix-timestamp': String(sample!.headers['svix-timestamp']),
    }
    const forged = await fetch(webhookUrl, {
      method: 'POST',
      headers: { ...headers, 'svix-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      body: sample!.body,
    })
    expect(forged.status).toBe(400)
    expect(await forged.json()).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' })
    const changed = await fetch(webhookUrl, {
      method: 'POST',
      headers: { ...headers, 'svix-signature': String(sample!.headers['svix-signature']) },
      body: sample!.body.replace('"session.created"', '"session.revoked"'),
    })
    expect(changed.status).toBe(400)
    const noHeaders = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(noHeaders.status).toBe(400)
    expect(await noHeaders.json()).toMatchObject({ code: 'WEBHOOK_MALFORMED' })
    expect(await deliveriesStored()).toBe(before.stored)
    expect((await get(id)).events).toHaveLength(before.events)
  })

  it("accepts a body in Clerk's escaping (\\u0026, \\u003c, \\u003e) and refuses one changed byte", async () => {
    // An organization "Smith & Co" and an avatar URL with a query string: Clerk's servers (Go's
    // JSON encoder) write `&`, `<`, `>` escaped, and so does the local server.
    const org = stack.clerk.state.createOrganization('Smith & Co', 'smith-and-co')
    const user = nextCustomer()
    user.imageUrl = 'https://img.example.test/avatar.png?a=1&b=<2>'
    stack.clerk.state.userChanged(user)
    const res = await fetch(`${stack.clerk.url}/v1/organizations/${org.id}/memberships`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.clerk.secretKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ user_id: user.id, role: 'org:member' }),
    })
    expect(res.status).toBe(200)
    await stack.clerk.webhooks.idle()
    const toApi = stack.clerk.webhooks.deliveries.filter(
      (d) => d.url === webhookUrl && d.body.includes(org.id),
    )
    expect(toApi.map((d) => d.type)).toEqual(['organizationMembership.created'])
    const [delivery] = toApi
    expect(delivery!.body).toContain('"name":"Smith \\u0026 Co"')
    expect(delivery!.body).toContain('avatar.png?a=1\\u0026b=\\u003c2\\u003e')
    // Accepted at the first attempt, and handled (stored once).
    expect(delivery!.status).toBe('delivered')
    expect(delivery!.attempts.map((a) => a.outcome)).toEqual([200])
    const [stored] = await stack.deps.database.db
      .select({ n: count() })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.svixId, delivery!.id))
    expect(stored?.n).toBe(1)

    // The recorder's copy (its own svix-id): accepted as sent, refused with one byte changed.
    const sample = recorded.find((r) => r.body.includes(org.id))!
    const post = (body: string) => resend(sample, body)
    const before = await deliveriesStored()
    const changed = await post(sample.body.replace('Smith \\u0026 Co', 'Smith \\u0026 Cp'))
    expect(changed.status).toBe(400)
    expect(await changed.json()).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' })
    // Unescaped, it is the same JSON value but other bytes: not what was signed.
    const unescaped = JSON.stringify(JSON.parse(sample.body))
    expect(unescaped).not.toBe(sample.body)
    expect((await post(unescaped)).status).toBe(400)
    expect(await deliveriesStored()).toBe(before)
    const accepted = await post(sample.body)
    expect(accepted.status).toBe(200)
    expect(await accepted.json()).toEqual({ ok: true })
    expect(await deliveriesStored()).toBe(before + 1)
  })

  it('ignores a replay of a handled delivery', async () => {
    const { id } = await impersonate()
    await stack.clerk.webhooks.idle()
    // The recorder's copy (its own svix-id, signed alike), sent to the API twice.
    const sample = recorded.find((r) => r.body.includes(id) && r.body.includes('session.created'))!
    const replay = () => resend(sample)
    const first = await replay()
    expect(first.status).toBe(200)
    expect(await first.json()).not.toHaveProperty('duplicate')
    const second = await replay()
    expect(second.status).toBe(200)
    expect(await second.json()).toMatchObject({ duplicate: true })
    expect((await get(id)).events.filter((e) => e.type === 'signed_in')).toHaveLength(1)
  })

  it("re-authorizes on a membership change: the demoted actor's live impersonation ends by itself", async () => {
    const { id } = await impersonate()
    await stack.clerk.webhooks.idle()
    expect((await get(id)).status).toBe('signed_in')
    const patch = (role: string) =>
      fetch(
        `${stack.clerk.url}/v1/organizations/${stack.supportOrgId}/memberships/${stack.account('admin').userId}`,
        {
          method: 'PATCH',
          headers: {
            authorization: `Bearer ${stack.clerk.secretKey}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ role }),
        },
      )
    expect((await patch('org:member')).status).toBe(200)
    try {
      await stack.clerk.webhooks.idle()
      // (Read from the store: the demoted admin may not call impersonation.get now.)
      expect(await stack.deps.audit.get(id)).toMatchObject({
        status: 'ended',
        endCause: 'actor_lost_permission',
        endedBy: 'system',
      })
    } finally {
      expect((await patch('org:admin')).status).toBe(200)
      await stack.clerk.webhooks.idle()
    }
  })

  it('handles duplicates, out-of-order and dropped deliveries once each', async () => {
    // Duplicate of the sign-in.
    stack.clerk.webhooks.addFault({ mode: 'duplicate', type: 'session.created', times: 2 })
    const dup = await impersonate()
    await stack.clerk.webhooks.idle()
    expect((await get(dup.id)).events.filter((e) => e.type === 'signed_in')).toHaveLength(1)

    // The sign-in held back until after the end: ended, and the late sign-in changes nothing.
    stack.clerk.webhooks.addFault({ mode: 'reorder', type: 'session.created', times: 2 })
    const late = await impersonate()
    await revokeInClerk(late.session.sessionId)
    await stack.clerk.webhooks.idle()
    const lateRow = await get(late.id)
    expect(lateRow).toMatchObject({ status: 'ended', endCause: 'signed_out' })
    expect(lateRow.events.map((e) => e.type)).toEqual(['requested', 'issued', 'ended'])

    // A dropped attempt: Svix's retry delivers it.
    stack.clerk.webhooks.addFault({ mode: 'drop', type: 'session.created', times: 2 })
    const dropped = await impersonate()
    await stack.clerk.webhooks.idle()
    expect((await get(dropped.id)).status).toBe('signed_in')

    // The chain still verifies after all of it.
    const [events] = await stack.deps.database.db.select({ n: count() }).from(auditEvents)
    expect((await api.audit.verify.query()).ok).toBe(true)
    expect(events?.n).toBeGreaterThan(0)
  })
})
