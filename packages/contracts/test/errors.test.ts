import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import { describe, expect, it } from 'vitest'
import { ActAsError, readReverificationHint } from '../src/index.js'
import type { ActAsContext } from '../src/index.js'
import { createAppRouter } from '../src/server.js'
import { contextWith, staff } from './context.js'

// `search` fails on purpose, with the error under test.
function context(failure: Error): ActAsContext {
  return contextWith(staff, () => Promise.reject(failure))
}

async function search(isDev: boolean, failure: Error, input: unknown = {}) {
  const res = await fetchRequestHandler({
    endpoint: '/trpc',
    req: new Request(
      `http://api.test/trpc/users.search?input=${encodeURIComponent(JSON.stringify(input))}`,
    ),
    router: createAppRouter({ isDev }),
    createContext: () => context(failure),
  })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

describe('error responses', () => {
  it('hide an unexpected failure outside development: no message, no stack', async () => {
    const res = await search(false, new Error('connect ECONNREFUSED /var/run/secret.sock'))
    expect(res.status).toBe(500)
    const body = JSON.parse(res.text) as {
      error: { message: string; data: Record<string, unknown> }
    }
    expect(body.error.message).toBe('Internal server error')
    expect(body.error.data['actasCode']).toBe('INTERNAL')
    expect(res.text).not.toContain('secret.sock')
    expect(res.text).not.toMatch(/"stack"|\n\s+at /)
  })

  it('show the stack in development', async () => {
    const res = await search(true, new Error('boom'))
    const body = JSON.parse(res.text) as { error: { data: Record<string, unknown> } }
    expect(body.error.data['stack']).toEqual(expect.stringContaining('boom'))
  })

  it('carry the ActAs code, the status and Retry-After data of a typed error', async () => {
    const res = await search(false, new ActAsError('QUOTA_EXCEEDED', 'Quota used up.'))
    expect(res.status).toBe(402)
    const body = JSON.parse(res.text) as {
      error: { message: string; data: Record<string, unknown> }
    }
    expect(body.error).toMatchObject({
      message: 'Quota used up.',
      data: { actasCode: 'QUOTA_EXCEEDED', httpStatus: 402 },
    })
  })

  it("carry Clerk's reverification hint on REVERIFICATION_REQUIRED (403), and only there", async () => {
    const res = await search(
      false,
      new ActAsError('REVERIFICATION_REQUIRED', 'Confirm your password first.', {
        reverification: { level: 'first_factor', afterMinutes: 10 },
      }),
    )
    expect(res.status).toBe(403)
    const body = JSON.parse(res.text) as { error: { data: Record<string, unknown> } }
    expect(body.error.data).toMatchObject({
      actasCode: 'REVERIFICATION_REQUIRED',
      clerk_error: {
        type: 'forbidden',
        reason: 'reverification-error',
        metadata: { reverification: { level: 'first_factor', afterMinutes: 10 } },
      },
    })
    expect(readReverificationHint(body.error.data)).toEqual({
      level: 'first_factor',
      afterMinutes: 10,
    })
    const other = await search(false, new ActAsError('FORBIDDEN', 'No.'))
    const data = (JSON.parse(other.text) as { error: { data: Record<string, unknown> } }).error.data
    expect(data).not.toHaveProperty('clerk_error')
    expect(readReverificationHint(data)).toBeNull()
  })

  it('name the invalid fields of a bad input', async () => {
    const res = await search(false, new Error('not reached'), { limit: 0, orderBy: 'x' })
    expect(res.status).toBe(400)
    const body = JSON.parse(res.text) as {
      error: { data: { actasCode: string; zodError: { fieldErrors: object } } }
    }
    expect(body.error.data.actasCode).toBe('INVALID_INPUT')
    expect(Object.keys(body.error.data.zodError.fieldErrors).sort()).toEqual(['limit', 'orderBy'])
  })
})
