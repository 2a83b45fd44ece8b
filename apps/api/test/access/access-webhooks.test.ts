// The access model's webhooks to the host (WEBHOOK_ENDPOINTS), as the host receives them: a real
// HTTP receiver on loopback that verifies each message with the `standardwebhooks` library and
// parses it with contracts' AccessWebhookSchema. A request, its replacement by a narrower one
// (the first withdrawn, cause `superseded`), the customer's approval, the grant and the revoke
// each reach the host once, in order; refusals stay in the audit chain and are not sent.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { passwordDigest } from '@actas/clerk-local'
import { AccessWebhookSchema } from '@actas/contracts'
import type { AccessWebhook } from '@actas/contracts'
import type { ActAsClient } from '@actas/contracts/client'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { failure, startAdminStack } from '../support/stack.js'
import type { Stack } from '../support/stack.js'

const SECRET = `whsec_${randomBytes(32).toString('base64')}`
const PASSWORD = 'customer-pw-webhooks-1'

let stack: Stack
let api: ActAsClient
let server: Server
/** Verified messages, once each (by webhook-id); anything unverifiable is answered 400. */
const received = new Map<string, AccessWebhook>()
const unverified: string[] = []

beforeAll(async () => {
  const verifier = new Webhook(SECRET)
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    req.on('end', () => {
      try {
        const payload = verifier.verify(body, req.headers as Record<string, string>)
        received.set(String(req.headers['webhook-id']), AccessWebhookSchema.parse(payload))
        res.writeHead(204).end()
      } catch (error) {
        unverified.push(String(error))
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/actas`
  ;({ stack, api } = await startAdminStack({
    env: {
      ACCESS_CONSENT_REQUIRED: 'all',
      WEBHOOK_ENDPOINTS: JSON.stringify([{ url, secret: SECRET }]),
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_RETRY_MAX_MS: '200',
    },
  }))
}, 90_000)

afterAll(async () => {
  await stack?.close()
  await new Promise<void>((r) => server?.close(() => r()))
})

const messagesOf = (accessId: string) =>
  [...received.values()]
    .filter((m) => m.data.accessId === accessId)
    .sort((a, b) => a.data.seq - b.data.seq)
    .map((m) => [m.type, m.data.cause, m.data.status] as const)

describe("the access model's webhooks", () => {
  it('tell the host of each step once, with its cause; refusals are not sent', async () => {
    const user = stack.customers()[0]!
    user.passwordDigest = passwordDigest(PASSWORD)
    const full = await api.access.request.mutate({
      userId: user.id,
      reason: 'Customer reports a broken invoice page',
      mode: 'full',
    })
    const readOnly = await api.access.request.mutate({
      userId: user.id,
      reason: 'Only need to look at the invoice page',
      mode: 'read_only',
    })
    const session = await stack.signIn(
      { identifier: user.emailAddresses[0]!.emailAddress, password: PASSWORD },
      { organizationId: null },
    )
    const me = stack.client(() => session.token())
    // A refusal (the withdrawn request cannot be decided): recorded, not the host's news.
    expect(
      await failure(me.customer.decide.mutate({ accessId: full.id, decision: 'approve' })),
    ).toMatchObject({ code: 'ACCESS_SETTLED' })
    await me.customer.decide.mutate({ accessId: readOnly.id, decision: 'approve' })
    await me.customer.revoke.mutate({ accessId: readOnly.id })

    await vi.waitFor(() => expect(messagesOf(readOnly.id)).toHaveLength(4), {
      timeout: 20_000,
      interval: 50,
    })
    expect(messagesOf(full.id)).toEqual([
      ['access.requested', null, 'pending'],
      ['access.revoked', 'superseded', 'revoked'],
    ])
    expect(messagesOf(readOnly.id)).toEqual([
      ['access.requested', null, 'pending'],
      // The consent completes the grant: both in one write, so both say `granted`.
      ['access.approved', null, 'granted'],
      ['access.granted', null, 'granted'],
      ['access.revoked', 'customer', 'revoked'],
    ])
    const approved = [...received.values()].find(
      (m) => m.data.accessId === readOnly.id && m.type === 'access.approved',
    )!
    expect(approved.data).toMatchObject({
      approver: 'customer',
      by: user.id,
      user: { id: user.id },
      mode: 'read_only',
    })
    expect([...received.values()].some((m) => (m.type as string) === 'access.refused')).toBe(false)
    expect(unverified).toEqual([])
  })
})
