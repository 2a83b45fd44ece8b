// What the Backend API tests share: a raw call checked against the vendored spec, the SDK's
// typed error, the seeded accounts by role, and a session token's claims.
import { createClerkClient, type ClerkClient } from '@clerk/backend'
import { isClerkAPIResponseError } from '@clerk/shared/error'
import { expect } from 'vitest'
import { startClerkLocal } from '../../src/index.js'
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
