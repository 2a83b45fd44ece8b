// The typed client over real HTTP against the real router (hosted by tRPC's standalone adapter,
// with ports that this test brings, as any host does): batching, timeouts, retries for queries
// only, and errors a caller can switch on.
import type { AddressInfo } from 'node:net'
import { createHTTPServer } from '@trpc/server/adapters/standalone'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createActAsClient, getActAsError } from '../src/client.js'
import { ActAsError, defaultMachinePermissions } from '../src/index.js'
import type { ActAsContext, ImpersonationListOutput, UsersSearchOutput } from '../src/index.js'
import { createAppRouter } from '../src/server.js'

const ACTAS = 'mch_actas000000000000000000000'

/** What the next calls of each port do: an error to throw, or a delay before answering. */
let plan: { search: Array<ActAsError | 'hang'>; start: Array<ActAsError> } = {
  search: [],
  start: [],
}
let calls = { search: 0, list: 0, start: 0 }
let requests = 0

const emptySearch: UsersSearchOutput = { items: [], total: 0, next: null }
const emptyList: ImpersonationListOutput = { items: [], next: null, total: 0 }

const router = createAppRouter({
  isDev: false,
  machinePermissions: defaultMachinePermissions(ACTAS),
})
let server: ReturnType<typeof createHTTPServer>
let url = ''

beforeAll(async () => {
  server = createHTTPServer({
    router,
    createContext: ({ req }): ActAsContext => {
      requests++
      const auth = req.headers.authorization
      return {
        principal:
          auth === 'Bearer mt_good'
            ? { kind: 'machine', machineId: 'mch_helpdesk', tokenId: 'mt_1', scopes: [ACTAS] }
            : auth === 'Bearer mt_noscope'
              ? { kind: 'machine', machineId: 'mch_other', tokenId: 'mt_2', scopes: [] }
              : null,
        request: { id: 'r', ip: null, userAgent: null },
        rateLimiter: { consume: () => ({ allowed: true }) },
        directory: {
          search: async () => {
            calls.search++
            const next = plan.search.shift()
            if (next === 'hang') await new Promise((resolve) => setTimeout(resolve, 2_000))
            else if (next) throw next
            return emptySearch
          },
        },
        impersonation: {
          list: () => {
            calls.list++
            return Promise.resolve(emptyList)
          },
          start: () => {
            calls.start++
            return Promise.reject(plan.start.shift() ?? new ActAsError('INTERNAL', 'unexpected'))
          },
          revoke: () => Promise.reject(new Error('unused')),
          get: () => Promise.reject(new Error('unused')),
          quota: () => Promise.reject(new Error('unused')),
          active: () => Promise.reject(new Error('unused')),
          end: () => Promise.reject(new Error('unused')),
          stop: () => Promise.reject(new Error('unused')),
          signInFailed: () => Promise.reject(new Error('unused')),
          signedIn: () => Promise.reject(new Error('unused')),
          revokedSessions: () => Promise.reject(new Error('unused')),
          recordActions: () => Promise.reject(new Error('unused')),
        },
        sessions: { inspect: () => Promise.reject(new Error('unused')) },
        audit: { verify: () => Promise.reject(new Error('unused')) },
      }
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})
beforeEach(() => {
  plan = { search: [], start: [] }
  calls = { search: 0, list: 0, start: 0 }
  requests = 0
})

const unavailable = () => new ActAsError('SERVICE_UNAVAILABLE', 'Clerk is down')
const client = (options: Partial<Parameters<typeof createActAsClient>[0]> = {}) =>
  createActAsClient({ url, getToken: () => 'mt_good', retryDelayMs: 1, ...options })

describe('createActAsClient', () => {
  it('batches calls made in the same tick into one request', async () => {
    const api = client()
    await Promise.all([api.users.search.query({}), api.impersonation.list.query({})])
    expect(calls).toMatchObject({ search: 1, list: 1 })
    expect(requests).toBe(1)
    await Promise.all([
      client({ batch: false }).users.search.query({}),
      client({ batch: false }).impersonation.list.query({}),
    ])
    expect(requests).toBe(3)
  })

  it('retries a query that failed with 503, then answers', async () => {
    plan.search = [unavailable(), unavailable()]
    await expect(client().users.search.query({})).resolves.toEqual(emptySearch)
    expect(calls.search).toBe(3)
  })

  it('gives up after `retries` and reports SERVICE_UNAVAILABLE', async () => {
    plan.search = [unavailable(), unavailable(), unavailable()]
    const error = await client({ retries: 1 })
      .users.search.query({})
      .catch((e: unknown) => e)
    expect(calls.search).toBe(2)
    expect(getActAsError(error)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', httpStatus: 503 })
  })

  it('never retries a mutation', async () => {
    plan.start = [unavailable()]
    const error = await client()
      .impersonation.start.mutate({ userId: 'user_123456', reason: 'Never twice, even on a 503' })
      .catch((e: unknown) => e)
    // A machine may not start at all: refused before the port, and not retried either.
    expect(getActAsError(error).code).toBe('FORBIDDEN')
    expect(calls.start).toBe(0)
    expect(requests).toBe(1)
  })

  it('does not retry refusals (403, 400) nor a Retry-After longer than it may wait', async () => {
    const refused = await client({ getToken: () => 'mt_noscope' })
      .users.search.query({})
      .catch((e: unknown) => e)
    expect(getActAsError(refused)).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 })
    expect(requests).toBe(1)

    requests = 0
    plan.search = [new ActAsError('RATE_LIMITED', 'slow down', { retryAfterSeconds: 60 })]
    const limited = await client()
      .users.search.query({})
      .catch((e: unknown) => e)
    expect(getActAsError(limited)).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 60 })
    expect(getActAsError(limited).rateLimitedBy).toBeUndefined()
    expect(calls.search).toBe(1)
  })

  it("tells Clerk's rate limit (with Clerk's wait) from ActAs's own", async () => {
    plan.search = [
      new ActAsError('RATE_LIMITED', 'Clerk is rate limiting requests; retry in 9 s.', {
        retryAfterSeconds: 9,
        rateLimitedBy: 'clerk',
      }),
    ]
    const limited = await client()
      .users.search.query({})
      .catch((e: unknown) => e)
    expect(getActAsError(limited)).toMatchObject({
      code: 'RATE_LIMITED',
      httpStatus: 429,
      retryAfterSeconds: 9,
      rateLimitedBy: 'clerk',
    })
  })

  it('a request that takes too long is a timeout error, retried for queries', async () => {
    plan.search = ['hang']
    await expect(client({ timeoutMs: 200 }).users.search.query({})).resolves.toEqual(emptySearch)
    expect(calls.search).toBe(2)

    plan.search = ['hang']
    const error = await client({ timeoutMs: 200, retries: 0 })
      .users.search.query({})
      .catch((e: unknown) => e)
    const info = getActAsError(error)
    expect(info).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      httpStatus: null,
      transport: 'timeout',
    })
    expect(info.message).toContain('200 ms')
  })

  it('a server that is not there is SERVICE_UNAVAILABLE over the network', async () => {
    const gone = createActAsClient({
      url: 'http://127.0.0.1:1/trpc',
      getToken: () => null,
      retries: 0,
    })
    const info = getActAsError(await gone.users.search.query({}).catch((e: unknown) => e))
    expect(info).toMatchObject({ code: 'SERVICE_UNAVAILABLE', transport: 'network' })
  })

  it('errors are typed: a switch over the code covers every case', async () => {
    const error = await client({ getToken: () => null })
      .users.search.query({})
      .catch((e: unknown) => e)
    const info = getActAsError(error)
    let handled: string
    switch (info.code) {
      case 'UNAUTHENTICATED':
        handled = 'get a new M2M token'
        break
      case 'FORBIDDEN':
      case 'POLICY_DENIED':
      case 'RATE_LIMITED':
      case 'QUOTA_EXCEEDED':
      case 'USER_NOT_FOUND':
      case 'IMPERSONATION_NOT_FOUND':
      case 'INVALID_INPUT':
      case 'CLERK_REJECTED':
      case 'TICKET_ALREADY_USED':
      case 'ACCESS_NOT_FOUND':
      case 'ACCESS_SETTLED':
      case 'REVERIFICATION_REQUIRED':
      case 'SERVICE_UNAVAILABLE':
      case 'INTERNAL':
        handled = 'other'
        break
      default: {
        const never: never = info.code
        handled = never
      }
    }
    expect(handled).toBe('get a new M2M token')
    expect(info.httpStatus).toBe(401)
  })
})
