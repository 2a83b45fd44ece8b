// @actas/contracts/client: the typed client other services (and the console) use.
// Runtime imports: @trpc/client and this package's browser-safe code only.
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client'
import type { TRPCClient } from '@trpc/client'
import { isActAsErrorCode } from './errors.js'
import type { ActAsErrorCode, PolicyRule } from './errors.js'
import type { AppRouter } from './router/types.js'

/** The server refuses batches above this size (`maxBatchSize`); the client never sends more. */
export const MAX_BATCH_SIZE = 20
/** Longer GET batches are split rather than risking a 414/431. */
export const MAX_URL_LENGTH = 6000

export interface ActAsClientOptions {
  /** The API's tRPC endpoint, e.g. `http://localhost:4000/trpc`. */
  url: string
  /** Returns the Clerk session token (or null when signed out); sent as `Authorization: Bearer`. */
  getToken: () => string | null | undefined | Promise<string | null | undefined>
  fetch?: typeof globalThis.fetch
  /** Extra headers for every request (e.g. a request id). */
  headers?: Record<string, string>
}

export type ActAsClient = TRPCClient<AppRouter>

export function createActAsClient(options: ActAsClientOptions): ActAsClient {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: options.url,
        maxItems: MAX_BATCH_SIZE,
        maxURLLength: MAX_URL_LENGTH,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        async headers() {
          const token = await options.getToken()
          return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) }
        },
      }),
    ],
  })
}

/** A failed call, reduced to what a UI or service needs to decide what to do. */
export interface ActAsClientErrorInfo {
  code: ActAsErrorCode
  message: string
  httpStatus: number | null
  retryAfterSeconds: number | null
  rule: PolicyRule | null
  fieldErrors: Record<string, string[] | undefined>
}

export function isActAsClientError(error: unknown): error is TRPCClientError<AppRouter> {
  return error instanceof TRPCClientError
}

/**
 * The ActAs view of any error a client call threw; network failures become
 * SERVICE_UNAVAILABLE, anything unknown INTERNAL.
 */
export function getActAsError(error: unknown): ActAsClientErrorInfo {
  if (error instanceof TRPCClientError) {
    const data: unknown = error.data
    const d = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {}
    const zod = d['zodError'] as
      { fieldErrors?: Record<string, string[] | undefined> } | null | undefined
    const httpStatus = typeof d['httpStatus'] === 'number' ? d['httpStatus'] : null
    return {
      code: isActAsErrorCode(d['actasCode'])
        ? d['actasCode']
        : httpStatus === null
          ? 'SERVICE_UNAVAILABLE'
          : 'INTERNAL',
      message: error.message,
      httpStatus,
      retryAfterSeconds: typeof d['retryAfter'] === 'number' ? d['retryAfter'] : null,
      rule: typeof d['rule'] === 'string' ? (d['rule'] as PolicyRule) : null,
      fieldErrors: zod?.fieldErrors ?? {},
    }
  }
  return {
    code: 'INTERNAL',
    message: error instanceof Error ? error.message : 'Unknown error',
    httpStatus: null,
    retryAfterSeconds: null,
    rule: null,
    fieldErrors: {},
  }
}

export type { AppRouter, RouterInputs, RouterOutputs } from './router/types.js'
export * from './index.js'
