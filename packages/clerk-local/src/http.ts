import type { IncomingHttpHeaders } from 'node:http'

// A tiny router over node:http. No framework: Clerk's SDKs are strict about the exact
// `Content-Type: application/json` (no charset), and the hot path (`GET /v1/users`) stays cheap.

export interface LocalRequest {
  method: string
  /** Path below the API's mount point, e.g. `/v1/users/user_123`. */
  path: string
  params: Record<string, string>
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** Parsed JSON or form body (`application/x-www-form-urlencoded`), `{}` when empty. */
  body: Record<string, unknown>
  /** Cookies sent by the browser, by name. */
  cookies: Record<string, string>
}

export interface LocalResponse {
  status: number
  body?: unknown
  headers?: Record<string, string | string[]>
  /** Sent as is instead of JSON (set `Content-Type` in `headers`), e.g. an SVG avatar. */
  raw?: string | Buffer
}

export type Handler = (req: LocalRequest) => LocalResponse | Promise<LocalResponse>

interface Route {
  method: string
  segments: string[]
  handler: Handler
  name: string
}

/** A malformed escape (`%E0%A4%A`) stays as sent: the id then matches nothing (404), never a 500. */
function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}

export class Router {
  readonly #routes: Route[] = []

  /** `pattern` uses `:name` segments, e.g. `/v1/users/:id`. `name` identifies the route for fault injection. */
  add(method: string, pattern: string, handler: Handler, name = `${method} ${pattern}`): this {
    this.#routes.push({ method, segments: pattern.split('/').filter(Boolean), handler, name })
    return this
  }

  match(
    method: string,
    path: string,
  ):
    | { handler: Handler; params: Record<string, string>; name: string }
    | 'method-not-allowed'
    | undefined {
    const parts = path.split('/').filter(Boolean)
    let pathMatched = false
    for (const route of this.#routes) {
      if (route.segments.length !== parts.length) continue
      const params: Record<string, string> = {}
      let ok = true
      for (let i = 0; i < parts.length; i++) {
        const seg = route.segments[i]!
        const part = parts[i]!
        if (seg.startsWith(':')) params[seg.slice(1)] = safeDecode(part)
        else if (seg !== part) {
          ok = false
          break
        }
      }
      if (!ok) continue
      pathMatched = true
      if (route.method === method) return { handler: route.handler, params, name: route.name }
    }
    return pathMatched ? 'method-not-allowed' : undefined
  }
}

export interface ClerkErrorBody {
  code: string
  message: string
  long_message?: string
  meta?: Record<string, unknown>
}

/** Clerk's error envelope: `{"errors":[{code,message,long_message,meta}]}`. */
export function clerkError(
  status: number,
  code: string,
  message: string,
  longMessage?: string,
  meta?: Record<string, unknown>,
  headers?: Record<string, string>,
): LocalResponse {
  const error: ClerkErrorBody = {
    code,
    message,
    long_message: longMessage ?? message,
    meta: meta ?? {},
  }
  return { status, body: { errors: [error] }, ...(headers ? { headers } : {}) }
}

export const json = (body: unknown, status = 200): LocalResponse => ({ status, body })
