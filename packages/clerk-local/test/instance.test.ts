import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startClerkLocal, type ClerkLocal } from '../src/index.js'
import { send } from './support/http.js'
import { apiError, backendSdk, checkedBapi } from './support/local.js'

// `PATCH /v1/instance` (instance.update): `allowed_origins`, the origins that may call the FAPI
// cross-origin, with credentials. Answers checked against the vendored spec. The browser side is
// test/cross-origin.test.ts.

let local: ClerkLocal
beforeAll(async () => {
  local = await startClerkLocal({ users: 5, allowedOrigins: ['http://localhost:5174'] })
}, 30_000)
afterAll(async () => {
  await local?.stop()
})

/** The CORS headers FAPI answers a request from `origin` with (a preflight, then a GET). */
async function cors(origin: string) {
  const preflight = await fetch(`${local.frontendApiUrl}/v1/client`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST' },
  })
  const get = await fetch(`${local.frontendApiUrl}/v1/environment`, { headers: { origin } })
  return [preflight, get].map((r) => ({
    allowOrigin: r.headers.get('access-control-allow-origin'),
    credentials: r.headers.get('access-control-allow-credentials'),
  }))
}

describe('allowed origins (FAPI CORS)', () => {
  it('start with the allowedOrigins option; PATCH /v1/instance replaces them (204)', async () => {
    const allowed = { allowOrigin: 'http://localhost:5174', credentials: 'true' }
    const none = { allowOrigin: null, credentials: null }
    expect(await cors('http://localhost:5174')).toEqual([allowed, allowed])
    expect(await cors('http://127.0.0.1:5174')).toEqual([none, none])

    const replaced = await checkedBapi(local, 'PATCH', '/v1/instance', '/instance', {
      body: { allowed_origins: ['http://127.0.0.1:5174'] },
    })
    expect(replaced.status).toBe(204)
    expect(await cors('http://127.0.0.1:5174')).toEqual([
      { allowOrigin: 'http://127.0.0.1:5174', credentials: 'true' },
      { allowOrigin: 'http://127.0.0.1:5174', credentials: 'true' },
    ])
    expect(await cors('http://localhost:5174')).toEqual([none, none])
    // Other settings are accepted and change nothing here.
    const other = await checkedBapi(local, 'PATCH', '/v1/instance', '/instance', {
      body: { test_mode: true },
    })
    expect(other.status).toBe(204)
    expect((await cors('http://127.0.0.1:5174'))[1]).toMatchObject({ credentials: 'true' })
  })

  it('through @clerk/backend: instance.update({ allowedOrigins })', async () => {
    const clerk = backendSdk(local)
    await clerk.instance.update({ allowedOrigins: ['https://app.example.test'] })
    expect((await cors('https://app.example.test'))[1]).toMatchObject({ credentials: 'true' })
  })

  it('refuses what is not an origin (422) and unknown settings (422), changing nothing', async () => {
    for (const body of [
      { allowed_origins: ['http://localhost:5174/path'] },
      { allowed_origins: ['localhost:5174'] },
      { allowed_origins: 'http://localhost:5174' },
      { allowed_origins: ['ftp://localhost'] },
      { allowed_ip: '1' },
    ]) {
      const reply = await checkedBapi(local, 'PATCH', '/v1/instance', '/instance', { body })
      expect(reply.status).toBe(422)
    }
    const clerk = backendSdk(local)
    const error = await apiError(clerk.instance.update({ allowedOrigins: ['nope'] }))
    expect(error.errors[0]?.code).toBe('form_param_value_invalid')
    expect((await cors('https://app.example.test'))[1]).toMatchObject({ credentials: 'true' })
    // Without the secret key: 401, as every BAPI route.
    const anonymous = await send(`${local.url}/v1/instance`, 'PATCH', {
      body: { allowed_origins: [] },
    })
    expect(anonymous.status).toBe(401)
  })

  it('refuses a malformed allowedOrigins option at start', async () => {
    await expect(startClerkLocal({ users: 0, allowedOrigins: ['http://x/y'] })).rejects.toThrow(
      /scheme:\/\/host/,
    )
  })
})
