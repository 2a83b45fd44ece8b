// Reads from Clerk's Backend API over keep-alive node:http(s), answering plain JSON.
//
// Why not @clerk/backend for reads: each of its calls goes through undici `fetch` (a `Request`,
// web streams, an AbortSignal), parses into class instances (`User.fromJSON`) and, for lists,
// always adds a `/count` request. A search reads a 20-user page (≈39 KB of JSON) per keystroke;
// on the bench that path cost ≈0.7 ms of CPU per page against ≈0.35 ms here. Side by side in
// one run (api bench `pairs`, 2026-11-29, three runs): @clerk/backend 3095–3172 µs of API CPU
// per page, this reader 878–1186 µs: 63–72 % less, kept (docs/benchmarks.md). Writes (actor
// tokens) stay on the SDK. Failures are thrown as the SDK's own `ClerkAPIResponseError`, so
// `mapClerkError` treats both paths alike.
import http from 'node:http'
import https from 'node:https'
import { ClerkAPIResponseError } from '@clerk/backend/errors'
import { ClerkTimeoutError } from './clerk-errors.js'

/** The Backend API version ActAs is written against (packages/clerk-local/openapi/bapi-2026-05-12.yml). */
export const CLERK_API_VERSION = '2026-05-12'

/** Answers larger than this are refused: a page of 100 users is well under 1 MB. */
const MAX_BODY_BYTES = 8 * 1024 * 1024

export type QueryValue = string | number | boolean | undefined

export interface BapiReaderOptions {
  apiUrl: string
  secretKey: string
  timeoutMs: number
}

export class BapiReader {
  private readonly base: URL
  private readonly client: typeof http | typeof https
  private readonly agent: http.Agent
  private readonly headers: Record<string, string>

  constructor(private readonly options: BapiReaderOptions) {
    this.base = new URL(options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`)
    const secure = this.base.protocol === 'https:'
    this.client = secure ? https : http
    this.agent = new (secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 64 })
    this.headers = {
      authorization: `Bearer ${options.secretKey}`,
      accept: 'application/json',
      'clerk-api-version': CLERK_API_VERSION,
      'user-agent': '@actas/api',
    }
  }

  /** `GET /v1/{path}?{query}`; undefined query values are left out, arrays repeat the parameter. */
  get<T>(path: string, query: Record<string, QueryValue | readonly QueryValue[]> = {}): Promise<T> {
    const url = new URL(`v1/${path}`, this.base)
    for (const [key, value] of Object.entries(query)) {
      if (Array.isArray(value)) {
        for (const v of value as readonly QueryValue[])
          if (v !== undefined) url.searchParams.append(key, String(v))
      } else if (value !== undefined) url.searchParams.set(key, String(value))
    }
    return new Promise<T>((resolve, reject) => {
      const req = this.client.request(
        url,
        { method: 'GET', agent: this.agent, headers: this.headers },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > MAX_BODY_BYTES) {
              req.destroy(
                new Error(`Clerk's answer to GET ${path} exceeded ${MAX_BODY_BYTES} bytes`),
              )
            } else chunks.push(chunk)
          })
          res.on('end', () => {
            clearTimeout(timer)
            const status = res.statusCode ?? 0
            let body: unknown
            try {
              body = JSON.parse(Buffer.concat(chunks, size).toString('utf8'))
            } catch {
              body = undefined
            }
            if (status >= 200 && status < 300 && body !== undefined) return resolve(body as T)
            reject(responseError(status, res.statusMessage ?? '', body, res.headers['retry-after']))
          })
          res.on('error', fail)
        },
      )
      const fail = (error: Error) => {
        clearTimeout(timer)
        reject(error)
      }
      const timer = setTimeout(
        () =>
          req.destroy(
            new ClerkTimeoutError(`Clerk did not answer within ${this.options.timeoutMs} ms`),
          ),
        this.options.timeoutMs,
      )
      req.on('error', fail)
      req.end()
    })
  }

  close(): void {
    this.agent.destroy()
  }
}

function responseError(
  status: number,
  statusText: string,
  body: unknown,
  retryAfterHeader: string | undefined,
): ClerkAPIResponseError {
  const errors =
    body !== null &&
    typeof body === 'object' &&
    Array.isArray((body as { errors?: unknown }).errors)
      ? (body as { errors: ConstructorParameters<typeof ClerkAPIResponseError>[1]['data'] }).errors
      : []
  const retryAfter = retryAfterHeader === undefined ? NaN : Number.parseInt(retryAfterHeader, 10)
  return new ClerkAPIResponseError(statusText || `HTTP ${status}`, {
    data: errors,
    status,
    ...(Number.isNaN(retryAfter) ? {} : { retryAfter }),
  })
}
