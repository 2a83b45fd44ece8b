// What the Backend API tests share: a raw call checked against the vendored spec, the SDK's
// typed error, the seeded accounts by role, a session token's claims, and a file's server on a
// clock of its own.
import { createClerkClient, type ClerkClient } from '@clerk/backend'
import { isClerkAPIResponseError } from '@clerk/shared/error'
import { afterAll, beforeAll, expect } from 'vitest'
import { startClerkLocal } from '../../src/index.js'
import { createFapiClient } from '../../src/testing.js'
import type { FapiClient } from '../../src/testing.js'
import type { ClerkLocal, ClerkLocalOptions, SeededAccount } from '../../src/index.js'
import { assertBapi } from '../openapi.js'
import { send, type Reply } from './http.js'

/**
 * One raw Backend API call with the instance secret key; the answer must be JSON and match
 * `template`'s response in the spec. `paginated`: the answer is `{ data, total_count }` (as
 * @clerk/backend asks with `paginated=true`) around the spec's plain list.
 */
export async function checkedBapi(
  local: Pick<ClerkLocal, 'url' | 'secretKey'>,
  method: string,
  path: string,
  template: string,
  options: { body?: unknown; paginated?: boolean } = {},
): Promise<Reply> {
  const reply = await send(`${local.url}${path}`, method, {
    key: local.secretKey,
    ...(options.body === undefined ? {} : { body: options.body }),
  })
  expect(reply.headers.get('content-type')).toBe('application/json')
  if (options.paginated && reply.status === 200 && !Array.isArray(reply.body)) {
    const page = reply.body as { data: unknown[]; total_count: number }
    expect(Object.keys(page).sort()).toEqual(['data', 'total_count'])
    assertBapi(method, template, 200, page.data)
  } else assertBapi(method, template, reply.status, reply.body)
  return reply
}

/** The ClerkAPIResponseError `promise` rejects with (fails the test if it resolves). */
export async function apiError(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isClerkAPIResponseError(error))
    throw new Error(`expected a ClerkAPIResponseError: ${String(error)}`)
  return error
}

export type SeededRole = SeededAccount['role']

/** The seeded account with `role`. */
export const accountOf = (local: Pick<ClerkLocal, 'accounts'>, role: SeededRole) =>
  local.accounts.find((a) => a.role === role)!

/** The real Backend SDK (@clerk/backend) pointed at `local` with its keys. */
export function backendSdk(
  local: Pick<ClerkLocal, 'url' | 'secretKey'> & Partial<Pick<ClerkLocal, 'publishableKey'>>,
  options: Omit<Parameters<typeof createClerkClient>[0], 'apiUrl' | 'secretKey'> = {},
): ClerkClient {
  return createClerkClient({
    ...(local.publishableKey ? { publishableKey: local.publishableKey } : {}),
    ...options,
    secretKey: local.secretKey,
    apiUrl: local.url,
  })
}

/** A local server on a free port, and the Backend SDK pointed at it. */
export async function startWithSdk(
  options: ClerkLocalOptions = {},
): Promise<{ local: ClerkLocal; clerk: ClerkClient }> {
  const local = await startClerkLocal(options)
  return { local, clerk: backendSdk(local) }
}

/** A JWT's claims (its payload, not verified: the tests that verify do so with the SDK). */
export function jwtClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >
}

export interface ServerOnClock {
  /** The server's time (ms): its `now`. Move it with `advance` or set it. */
  now: number
  advance(ms: number): void
  readonly local: ClerkLocal
  /** The Backend SDK pointed at it. */
  readonly clerk: ClerkClient
  account(role: SeededRole): SeededAccount
  /** A Frontend API client as a browser at `origin` (the console's by default). */
  fapiClient(origin?: string): FapiClient
}

/**
 * The file's local server on a clock of its own (`now`, moved by the test), started before its
 * tests and stopped after them, with the Backend SDK pointed at it.
 */
export function useServerOnClock(options: Omit<ClerkLocalOptions, 'now'> = {}): ServerOnClock {
  let started: { local: ClerkLocal; clerk: ClerkClient } | undefined
  const ready = () => {
    if (!started) throw new Error('the local server is not started (use it inside tests)')
    return started
  }
  const server: ServerOnClock = {
    now: Date.now(),
    advance(ms) {
      server.now += ms
    },
    get local() {
      return ready().local
    },
    get clerk() {
      return ready().clerk
    },
    account: (role) => accountOf(server.local, role),
    fapiClient: (origin = 'http://localhost:5173') =>
      createFapiClient({ frontendApiUrl: server.local.frontendApiUrl, origin }),
  }
  beforeAll(async () => {
    process.env['CLERK_TELEMETRY_DISABLED'] = '1'
    started = await startWithSdk({ ...options, now: () => server.now })
  })
  afterAll(async () => {
    await started?.local.stop()
  })
  return server
}
