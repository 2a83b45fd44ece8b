// The API: the typed client from @actas/contracts (`createActAsClient`) sending the Clerk
// session token as `Authorization: Bearer`. The client and tRPC load with the first call
// (lib/api-client.ts); callers see the same typed surface. Failures are rethrown as ApiError
// carrying the contracts' reading of the error (code, retry-after, policy rule).
import type { ActAsClient, ActAsClientErrorInfo } from '@actas/contracts/client'
import type { InjectionKey } from 'vue'
import { inject } from 'vue'
import { REQUEST_TIMEOUT_MS, withDeadline } from './deadline'

export type { ActAsClient }

export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(readonly info: ActAsClientErrorInfo) {
    super(info.message)
  }
}

export interface ApiOptions {
  url: string
  getToken: () => Promise<string | null>
  fetch?: typeof fetch
  /** Give up on a request after this many ms (default REQUEST_TIMEOUT_MS). */
  timeoutMs?: number
}

/** The request timeout the app runs with (tests provide a shorter one). */
export const RequestTimeoutKey: InjectionKey<number> = Symbol('actas.requestTimeout')

export function useRequestTimeout(): number {
  return inject(RequestTimeoutKey, REQUEST_TIMEOUT_MS)
}

/** Thrown when the session token itself did not come in time (Clerk unreachable). */
class TokenTimeoutError extends Error {
  override readonly name = 'TokenTimeoutError'
}

// The Proxy below keeps tRPC's client out of the first route. Measured (vite build of both,
// 2026-11-29): initial JS 57.1 KB gzip with it, 64.1 KB with a static createActAsClient
// (7.0 KB, 11 %). It touches no tRPC internals: it records a property path and walks the same
// path on the real client, tRPC's documented call shape that `ActAsClient` pins at compile
// time. Kept because without it the console misses its 60 KB initial-JS target
// (docs/benchmarks.md).
type Callable = (...args: unknown[]) => unknown

/** Each client's options and the last session token it sent (see `lastTokenClient`). */
export const sent = new WeakMap<object, { options: ApiOptions; last: () => string | null }>()

export function createApi(options: ApiOptions): ActAsClient {
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS
  let lastToken: string | null = null
  // The client's timeout covers the HTTP request; the session token before it gets its own.
  const getToken = () =>
    withDeadline(
      options.getToken(),
      timeoutMs,
      () => new TokenTimeoutError('The session token did not come in time.'),
    ).then((token) => {
      if (token) lastToken = token
      return token
    })
  let loading: Promise<{ client: ActAsClient; read: (e: unknown) => ActAsClientErrorInfo }> | null =
    null
  const load = () =>
    (loading ??= import('./api-client').then((m) => ({
      client: m.createActAsClient({
        url: options.url,
        getToken,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        timeoutMs,
        // People see errors with their own "Try again" (and its Retry-After); no silent retries.
        retries: 0,
      }),
      read: m.getActAsError,
    })))

  const at = (path: string[]): unknown =>
    new Proxy(() => undefined, {
      get: (_target, key) =>
        typeof key === 'string' && key !== 'then' ? at([...path, key]) : undefined,
      apply: async (_target, _this, args: unknown[]) => {
        const { client, read } = await load()
        let node: unknown = client
        for (const key of path.slice(0, -1)) node = (node as Record<string, unknown>)[key]
        const method = (node as Record<string, Callable>)[path[path.length - 1]!]!
        try {
          return await method(...args)
        } catch (error) {
          const info = read(error)
          const tokenLate = error instanceof Error && error.cause instanceof TokenTimeoutError
          throw new ApiError(tokenLate ? { ...info, transport: 'timeout' } : info)
        }
      },
    })
  const client = at([]) as ActAsClient
  sent.set(client, { options, last: () => lastToken })
  return client
}

/**
 * A client that sends the session token `client` sent last, or null when it sent none. For one
 * question only: how did this tab's impersonation end, once Clerk no longer gives its session a
 * token (the API still verifies the last one until its `exp`, ≤ 60 s, and answers how it ended).
 * The token is the one clerk-js held in memory anyway; it is never stored.
 */
export function lastTokenClient(client: ActAsClient): ActAsClient | null {
  const entry = sent.get(client)
  const token = entry?.last()
  return entry && token
    ? createApi({ ...entry.options, getToken: () => Promise.resolve(token) })
    : null
}

export const ApiKey: InjectionKey<ActAsClient> = Symbol('actas.api')

export function useApi(): ActAsClient {
  const api = inject(ApiKey, null)
  if (!api) throw new Error('useApi() needs the API client: app.provide(ApiKey, …) in main.ts')
  return api
}
