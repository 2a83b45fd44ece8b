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

describe('the refusal of an ended impersonation', () => {
  it('carries how it ended in data.impersonationEnded (401), and only when the host set it', async () => {
    const ended = {
      impersonationId: '00000000-0000-4000-8000-000000000001',
      status: 'ended' as const,
      cause: 'ended_by_staff' as const,
      endedBy: { id: 'user_boss', email: 'boss@support.example' },
      reason: 'Wrong customer',
      endedAt: '2026-11-29T12:00:00.000Z',
    }
    const call = async (impersonationEnded: typeof ended | null) => {
      const res = await fetchRequestHandler({
        endpoint: '/trpc',
        req: new Request('http://api.test/trpc/me'),
        router: createAppRouter({ isDev: false }),
        createContext: () => ({
          ...contextWith(null, () => Promise.reject(new Error('not reached'))),
          unauthenticatedReason: 'This impersonation was ended by user_boss: Wrong customer.',
          impersonationEnded,
        }),
      })
      return {
        status: res.status,
        body: JSON.parse(await res.text()) as {
          error: { message: string; data: Record<string, unknown> }
        },
      }
    }
    const refused = await call(ended)
    expect(refused.status).toBe(401)
    expect(refused.body.error.message).toContain('ended by user_boss: Wrong customer')
    expect(refused.body.error.data).toMatchObject({
      actasCode: 'UNAUTHENTICATED',
      impersonationEnded: ended,
    })
    const plain = await call(null)
    expect(plain.status).toBe(401)
    expect(plain.body.error.data['impersonationEnded']).toBeNull()
  })
})
