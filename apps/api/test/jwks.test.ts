// Without CLERK_JWT_KEY the API verifies session tokens against the JWKS at CLERK_API_URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack } from './support/stack.js'
import type { Stack } from './support/stack.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack({ env: { CLERK_JWT_KEY: '' } })
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('JWKS verification', () => {
  it('accepts a real session token with the key fetched from the local server', async () => {
    expect(stack.deps.config.clerk.jwtKey).toBeUndefined()
    const admin = await stack.signIn('admin')
    const me = await stack.client(() => admin.token()).me.query()
    expect(me).toMatchObject({ userId: admin.userId, canImpersonate: true })
  })

  it('still refuses a token signed by another key', async () => {
    const admin = await stack.signIn('admin')
    const [header, payload] = (await admin.token()).split('.')
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`
    const res = await stack.app.inject({
      method: 'GET',
      url: '/trpc/me',
      headers: { authorization: `Bearer ${forged}` },
    })
    expect(res.statusCode).toBe(401)
  })
})
