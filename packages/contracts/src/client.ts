// @actas/contracts/client: the typed client other services (and the console) use.
// Runtime imports: @trpc/client and this package's browser-safe code only.
import { createTRPCClient, httpBatchLink, httpLink, retryLink, TRPCClientError } from '@trpc/client'
import type { TRPCClient } from '@trpc/client'
import { isActAsErrorCode, readReverificationHint } from './errors.js'
import type {
  ActAsErrorCode,
  PolicyRule,
  RateLimiter,
  ReverificationRequirement,
} from './errors.js'
import type { AppRouter } from './router/types.js'
import { ImpersonationEndedSchema } from './schemas/impersonation.js'
import type { ImpersonationEnded } from './schemas/impersonation.js'

import { MAX_BATCH_SIZE } from './facts.js'

export { MAX_BATCH_SIZE }
/** Longer GET batches are split rather than risking a 414/431. */
export const MAX_URL_LENGTH = 6000

export interface ActAsClientOptions {
  /** The API's tRPC endpoint, e.g. `http://localhost:4000/trpc`. */
  url: string
  /**
   * Returns the bearer token (or null): a Clerk session token in the console, a Clerk M2M token
   * (`mt_…`) in another service. Called for every request (and every retry), so it may refresh.
   */
  getToken: () => string | null | undefined | Promise<string | null | undefined>
  fetch?: typeof globalThis.fetch
  /** Extra headers for every request (e.g. a request id). */
  headers?: Record<string, string>
  /** Batch calls made in the same tick into one request (default true; ≤ 20 calls). */
  batch?: boolean
  /** Abort a request (one batch) after this many ms (default 10,000; 0 = never). */
  timeoutMs?: number
  /**
   * Retries of a failed **query** (never a mutation: a retried `impersonation.start` could
   * start two impersonations): network errors, timeouts, 502/503/504 and 429. Default 2.
   */
  retries?: number
  /** First retry delay in ms, doubled each time, with jitter (default 250). */
  retryDelayMs?: number
  /** Longest wait before a retry, also for `Retry-After`; a longer `Retry-After` is not retried (default 5,000). */
  maxRetryDelayMs?: number
}

export type ActAsClient = TRPCClient<AppRouter>

const RETRYABLE_STATUS = new Set([429, 502, 503, 504])

/** Wraps `fetch` with a per-request timeout (an abort the caller sees as a `timeout` error). */
function withTimeout(base: typeof globalThis.fetch, timeoutMs: number): typeof globalThis.fetch {
  if (timeoutMs <= 0) return base
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout
    return base(input, { ...init, signal }).catch((error: unknown) => {
      if (timeout.aborted && !init?.signal?.aborted)
        throw new ActAsTimeoutError(`The ActAs API did not answer within ${timeoutMs} ms.`)
      throw error
    })
  }
}

/** The cause of a client error when a request ran out of time. */
export class ActAsTimeoutError extends Error {
  override readonly name = 'ActAsTimeoutError'
}

export function createActAsClient(options: ActAsClientOptions): ActAsClient {
  const timeoutMs = options.timeoutMs ?? 10_000
  const retries = Math.max(0, options.retries ?? 2)
  const baseDelay = options.retryDelayMs ?? 250
  const maxDelay = options.maxRetryDelayMs ?? 5_000
  const fetchImpl = withTimeout(options.fetch ?? globalThis.fetch.bind(globalThis), timeoutMs)
  // retryLink asks `retry` and then `retryDelayMs` synchronously: the delay chosen for the
  // error (Retry-After or backoff) is handed over in this variable.
  let nextDelay = 0
  const http = {
    url: options.url,
    fetch: fetchImpl,
    async headers() {
      const token = await options.getToken()
      return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) }
    },
  }
  return createTRPCClient<AppRouter>({
    links: [
      retryLink({
        retry({ op, error, attempts }) {
          if (op.type !== 'query' || attempts > retries) return false
          const info = getActAsError(error)
          const transient =
            info.httpStatus === null
              ? info.code === 'SERVICE_UNAVAILABLE' // network error or timeout
              : RETRYABLE_STATUS.has(info.httpStatus)
          if (!transient) return false
          const backoff = baseDelay * 2 ** (attempts - 1) * (0.75 + Math.random() / 2)
          const wanted = info.retryAfterSeconds !== null ? info.retryAfterSeconds * 1000 : backoff
          if (wanted > maxDelay) return false
          nextDelay = Math.round(wanted)
          return true
        },
        retryDelayMs: () => nextDelay,
      }),
      options.batch === false
        ? httpLink(http)
        : httpBatchLink({ ...http, maxItems: MAX_BATCH_SIZE, maxURLLength: MAX_URL_LENGTH }),
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
  /**
   * RATE_LIMITED only: `clerk` when Clerk is rate-limiting the API (then `retryAfterSeconds` is
   * Clerk's wait), `actas` for the API's own per-caller limit.
   */
  rateLimitedBy?: RateLimiter
  /** Set when no answer came: the request timed out, or the network failed. */
  transport?: 'timeout' | 'network'
  /**
   * REVERIFICATION_REQUIRED: what to verify again (Clerk's reverification hint in the data),
   * e.g. `{ level: 'first_factor', afterMinutes: 10 }`.
   */
  reverification?: ReverificationRequirement
  /**
   * UNAUTHENTICATED because ActAs ended the impersonation this session belongs to: how (who,
   * why, when). Absent otherwise.
   */
  impersonationEnded?: ImpersonationEnded
}

export function isActAsClientError(error: unknown): error is TRPCClientError<AppRouter> {
  return error instanceof TRPCClientError
}

/**
 * The ActAs view of any error a client call threw, with a `code` to `switch` on (see
 * ACTAS_ERROR_CODES); timeouts and network failures become SERVICE_UNAVAILABLE with
 * `transport` set, anything unknown INTERNAL.
 */
export function getActAsError(error: unknown): ActAsClientErrorInfo {
  if (error instanceof TRPCClientError) {
    const data: unknown = error.data
    const d = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {}
    const zod = d['zodError'] as
      { fieldErrors?: Record<string, string[] | undefined> } | null | undefined
    const httpStatus = typeof d['httpStatus'] === 'number' ? d['httpStatus'] : null
    const timedOut = error.cause instanceof ActAsTimeoutError
    const ended = ImpersonationEndedSchema.safeParse(d['impersonationEnded'])
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
      ...(readReverificationHint(d) ? { reverification: readReverificationHint(d)! } : {}),
      ...(d['rateLimitedBy'] === 'clerk' || d['rateLimitedBy'] === 'actas'
        ? { rateLimitedBy: d['rateLimitedBy'] }
        : {}),
      ...(ended.success ? { impersonationEnded: ended.data } : {}),
      ...(httpStatus === null && !isActAsErrorCode(d['actasCode'])
        ? { transport: timedOut ? ('timeout' as const) : ('network' as const) }
        : {}),
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
