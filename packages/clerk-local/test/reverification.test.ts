import { describe, expect, it } from 'vitest'
import { type FapiClient } from '../src/testing.js'
import { assertFapi } from './openapi.js'
import { backendSdk, useServerOnClock } from './support/local.js'

// Reverification (step-up) over FAPI, as clerk-js's session.startVerification /
// prepareFirstFactorVerification / attemptFirstFactorVerification send it: the session token's
// `fva` counts minutes since the first factor was verified, and a password reverification resets
// it. Every answer is checked against fapi-2026-05-12.yml. The server's clock is injected.

const ORIGIN = 'http://localhost:5173'
const server = useServerOnClock({ users: 0 })
const admin = () => server.account('admin')
const fva = (jwt: string) =>
  (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { fva: number[] }).fva

async function call(
  fapi: FapiClient,
  path: string,
  template: string,
  status: number,
  body: Record<string, string>,
) {
  const res = await fapi.request('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  assertFapi('POST', template, status, res.body)
  return res.body as {
    response: Record<string, unknown>
    client: Record<string, unknown>
    errors?: Array<{ code: string }>
  }
}

describe('reverification', () => {
  it('fva counts minutes since sign-in; a password reverification resets it in the next token', async () => {
    const fapi = server.fapiClient()
    const { sessionId, token } = await fapi.signInWithPassword(admin().identifier, admin().password)
    expect(fva(token)).toEqual([0, -1])
    server.now += 30 * 60_000
    const stale = await fapi.getToken()
    expect(fva(stale)).toEqual([30, -1])

    // @clerk/backend reads it: a 10-minute first-factor requirement fails now.
    const backend = backendSdk(server.local)
    const authOf = async (jwt: string) =>
      (
        await backend.authenticateRequest(
          new Request('http://localhost:3000/x', { headers: { authorization: `Bearer ${jwt}` } }),
          {
            jwtKey: server.local.jwtPublicKeyPem,
            authorizedParties: [ORIGIN],
            clockSkewInMs: 365 * 86_400_000,
          },
        )
      ).toAuth()!
    const step = { reverification: { level: 'first_factor', afterMinutes: 10 } } as const
    expect((await authOf(stale)).factorVerificationAge).toEqual([30, -1])
    expect((await authOf(stale)).has(step)).toBe(false)

    const base = `/v1/client/sessions/${sessionId}/verify`
    const template = '/v1/client/sessions/{session_id}/verify'
    const started = await call(fapi, base, template, 200, { level: 'first_factor' })
    expect(started.response).toMatchObject({
      object: 'session_reverification',
      level: 'first_factor',
      status: 'needs_first_factor',
      supported_first_factors: [{ strategy: 'password' }],
      first_factor_verification: null,
    })
    expect(started.response.session).toMatchObject({
      id: sessionId,
      factor_verification_age: [30, -1],
    })
    await call(fapi, `${base}/prepare_first_factor`, `${template}/prepare_first_factor`, 200, {
      strategy: 'password',
    })
    const wrong = await call(
      fapi,
      `${base}/attempt_first_factor`,
      `${template}/attempt_first_factor`,
      422,
      { strategy: 'password', password: 'not-the-password' },
    )
    expect(wrong.errors![0]!.code).toBe('form_password_incorrect')
    const done = await call(
      fapi,
      `${base}/attempt_first_factor`,
      `${template}/attempt_first_factor`,
      200,
      { strategy: 'password', password: admin().password },
    )
    expect(done.response).toMatchObject({
      status: 'complete',
      first_factor_verification: { status: 'verified', strategy: 'password', attempts: 2 },
    })
    expect(done.response.session).toMatchObject({ factor_verification_age: [0, -1] })

    const fresh = await fapi.getToken()
    expect(fva(fresh)).toEqual([0, -1])
    expect((await authOf(fresh)).has(step)).toBe(true)
    server.now += 12 * 60_000
    expect(fva(await fapi.getToken())).toEqual([12, -1])
    // The testing client's one-call step-up does the same.
    expect(fva(await fapi.reverifyWithPassword(admin().password))).toEqual([0, -1])
  })

  it('answers bad input with Clerk’s errors: missing/unknown level, no reverification started, other strategies, ended session', async () => {
    const fapi = server.fapiClient()
    const { sessionId } = await fapi.signInWithPassword(admin().identifier, admin().password)
    const base = `/v1/client/sessions/${sessionId}/verify`
    const template = '/v1/client/sessions/{session_id}/verify'
    // Nothing started yet.
    const early = await call(
      fapi,
      `${base}/attempt_first_factor`,
      `${template}/attempt_first_factor`,
      400,
      { strategy: 'password', password: admin().password },
    )
    expect(early.errors![0]!.code).toBe('session_reverification_missing')
    expect((await call(fapi, base, template, 422, {})).errors![0]!.code).toBe('form_param_missing')
    await call(fapi, base, template, 422, { level: 'highest' })
    await call(fapi, base, template, 200, { level: 'multi_factor' })
    const otp = await call(
      fapi,
      `${base}/prepare_first_factor`,
      `${template}/prepare_first_factor`,
      422,
      { strategy: 'email_code' },
    )
    expect(otp.errors![0]!.code).toBe('strategy_for_user_invalid')
    await call(fapi, `${base}/attempt_first_factor`, `${template}/attempt_first_factor`, 422, {
      strategy: 'password',
    })
    await fapi.signOut()
    const ended = await call(fapi, base, template, 401, { level: 'first_factor' })
    expect(ended.errors![0]!.code).toBe('signed_out')
  })
})
