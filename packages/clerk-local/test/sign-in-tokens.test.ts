import { isClerkAPIResponseError } from '@clerk/shared/error'
import { describe, expect, it } from 'vitest'
import { FapiError } from '../src/testing.js'
import { assertFapi } from './openapi.js'
import type { Reply } from './support/http.js'
import { checkedBapi, jwtClaims, useServerOnClock } from './support/local.js'

// Sign-in tokens: created and revoked through @clerk/backend's signInTokens, consumed by the FAPI
// ticket strategy as clerk-js sends it (single use, expiry), giving an ordinary session (no act).
// The browser test (test/browser.test.ts) runs the same sign-in with clerk-js in Chromium.

const ORIGIN = 'http://localhost:5173'
const server = useServerOnClock({ users: 20 })
const { account, fapiClient } = server

const bapi = (method: string, path: string, template: string, body?: unknown): Promise<Reply> =>
  checkedBapi(server.local, method, path, template, { body })

async function ticketError(ticket: string): Promise<FapiError> {
  const fapi = fapiClient()
  const res = await fapi.request('POST', '/v1/client/sign_ins', { strategy: 'ticket', ticket })
  assertFapi('POST', '/v1/client/sign_ins', res.status, res.body)
  const error = await fapi.signInWithTicket(ticket).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(FapiError)
  return error as FapiError
}

describe('POST /v1/sign_in_tokens', () => {
  it('createSignInToken gives a pending ticket that signs the user in once, as an ordinary session', async () => {
    const agent = account('agent')
    const created = await server.clerk.signInTokens.createSignInToken({
      userId: agent.userId,
      expiresInSeconds: 300,
    })
    expect(created).toMatchObject({ userId: agent.userId, status: 'pending' })
    expect(created.id).toMatch(/^sit_/)
    expect(created.url).toBe(
      `${server.local.frontendApiUrl}/v1/tickets/accept?ticket=${encodeURIComponent(created.token)}`,
    )

    const fapi = fapiClient()
    const session = await fapi.signInWithTicket(created.token)
    expect(session.userId).toBe(agent.userId)
    expect(session.actor).toBeNull()
    expect(jwtClaims(session.token)).not.toHaveProperty('act')
    const auth = await server.clerk.authenticateRequest(
      new Request('http://localhost:3000/x', {
        headers: { authorization: `Bearer ${session.token}` },
      }),
      { jwtKey: server.local.jwtPublicKeyPem, authorizedParties: [ORIGIN] },
    )
    const verified = auth.toAuth()!
    expect(verified.userId).toBe(agent.userId)
    expect(verified.actor ?? null).toBeNull()
    expect((await server.clerk.sessions.getSession(session.sessionId)).actor).toBeNull()

    // Single use.
    const reused = await ticketError(created.token)
    expect(reused.status).toBe(400)
    expect(reused.code).toBe('ticket_invalid_code')
  })

  it('expires after expires_in_seconds (server server.now)', async () => {
    const created = await server.clerk.signInTokens.createSignInToken({
      userId: account('agent').userId,
      expiresInSeconds: 60,
    })
    server.now += 60_000
    const expired = await ticketError(created.token)
    expect(expired.code).toBe('ticket_expired_code')
  })

  it('revokeSignInToken: a revoked ticket is refused; only pending tokens can be revoked', async () => {
    const created = await server.clerk.signInTokens.createSignInToken({
      userId: account('agent').userId,
      expiresInSeconds: 300,
    })
    const revoked = await server.clerk.signInTokens.revokeSignInToken(created.id)
    expect(revoked.status).toBe('revoked')
    expect(revoked.token).toBeUndefined()
    expect((await ticketError(created.token)).code).toBe('ticket_invalid_code')
    const again = await bapi(
      'POST',
      `/v1/sign_in_tokens/${created.id}/revoke`,
      '/sign_in_tokens/{sign_in_token_id}/revoke',
    )
    expect(again.status).toBe(400)
    const unknown = await bapi(
      'POST',
      '/v1/sign_in_tokens/sit_unknown/revoke',
      '/sign_in_tokens/{sign_in_token_id}/revoke',
    )
    expect(unknown.status).toBe(404)
  })

  it('org_id starts the session in that organization; the accept link forwards like an actor token’s', async () => {
    const admin = account('admin')
    const support = [...server.local.state.organizations.values()].find(
      (o) => o.slug === 'support',
    )!
    const reply = await bapi('POST', '/v1/sign_in_tokens', '/sign_in_tokens', {
      user_id: admin.userId,
      org_id: support.id,
    })
    expect(reply.status).toBe(200)
    const { token, url } = reply.body as { token: string; url: string }
    const accept = await fetch(`${url}&redirect_url=${encodeURIComponent(`${ORIGIN}/sign-in`)}`, {
      redirect: 'manual',
    })
    expect(accept.status).toBe(303)
    expect(accept.headers.get('location')).toContain(`__clerk_ticket=${encodeURIComponent(token)}`)
    const session = await fapiClient().signInWithTicket(token)
    expect(session.activeOrganizationId).toBe(support.id)
  })

  it('answers bad input with Clerk’s error shapes (404 unknown user, 422 otherwise), never 5xx', async () => {
    const agent = account('agent').userId
    for (const [body, status, param] of [
      [{}, 422, 'user_id'],
      [{ user_id: 42 }, 422, 'user_id'],
      [{ user_id: agent, expires_in_seconds: 0 }, 422, 'expires_in_seconds'],
      [{ user_id: agent, expires_in_seconds: 'soon' }, 422, 'expires_in_seconds'],
      [{ user_id: agent, color: 'red' }, 422, 'color'],
      [{ user_id: agent, org_id: [...server.local.state.organizations.keys()][1] }, 422, 'org_id'],
      [{ user_id: 'user_nobody' }, 404, undefined],
    ] as const) {
      const reply = await bapi('POST', '/v1/sign_in_tokens', '/sign_in_tokens', body)
      expect(reply.status, JSON.stringify(body)).toBe(status)
      if (param)
        expect(
          (reply.body as { errors: Array<{ meta: { param_name: string } }> }).errors[0]!.meta
            .param_name,
        ).toBe(param)
    }
    const error = await server.clerk.signInTokens
      .createSignInToken({ userId: 'user_nobody', expiresInSeconds: 60 })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(isClerkAPIResponseError(error) && error.status).toBe(404)
  })
})
