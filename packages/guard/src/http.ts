// Helpers for services without Fastify: a plain Node `http` handler, or a fetch-style handler
// (`(Request) => Response`, as in Hono, Bun, Deno or Node's own `Request`). Node's built-ins only.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { bearerToken } from './guard.js'
import type { Guard } from './guard.js'
import type { GuardRefusal, GuardRouteOptions, GuardVerdict } from './types.js'

export interface HandlerGuardOptions extends GuardRouteOptions {
  /** The route pattern this handler serves (`/orders/:id`): what the trail records. */
  route: string
  /** Refuse requests without a valid session token with 401 (default false: the verdict is null). */
  requireSession?: boolean
  /** Where the token is (default: `Authorization: Bearer …`). */
  getToken?: (headers: { get(name: string): string | null }) => string | null
}

function defaultToken(headers: { get(name: string): string | null }): string | null {
  return bearerToken(headers.get('authorization'))
}

async function judge(
  guard: Guard,
  method: string,
  headers: { get(name: string): string | null },
  options: HandlerGuardOptions,
): Promise<{ verdict: GuardVerdict | null; refusal: GuardRefusal | null }> {
  const checked = await guard.check((options.getToken ?? defaultToken)(headers))
  if (!checked.ok)
    return {
      verdict: null,
      refusal: options.requireSession ? guard.unauthenticated(checked.reason) : null,
    }
  return { verdict: checked.verdict, refusal: guard.decide(checked.verdict, method, options) }
}

function refusalResponse(refusal: GuardRefusal): Response {
  return Response.json(refusal.body, {
    status: refusal.status,
    headers: refusal.retryAfterSeconds ? { 'retry-after': String(refusal.retryAfterSeconds) } : {},
  })
}

/**
 * Wraps a fetch-style handler: refuses what the guard refuses, hands the verdict to the handler,
 * and records the answer of an impersonated session in the trail.
 */
export function guardFetch(
  guard: Guard,
  options: HandlerGuardOptions,
  handler: (request: Request, verdict: GuardVerdict | null) => Response | Promise<Response>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const { verdict, refusal } = await judge(guard, request.method, request.headers, options)
    const response = refusal ? refusalResponse(refusal) : await handler(request, verdict)
    guard.record(verdict, { method: request.method, route: options.route, status: response.status })
    return response
  }
}

/**
 * For a plain Node `http` handler: answers the refusal itself and returns null, or returns the
 * verdict (null when there is no valid session and none is required). The answer of an
 * impersonated session is recorded in the trail when the response finishes.
 */
export async function guardNodeRequest(
  guard: Guard,
  req: IncomingMessage,
  res: ServerResponse,
  options: HandlerGuardOptions,
): Promise<{ verdict: GuardVerdict | null } | null> {
  const method = req.method ?? 'GET'
  const headers = {
    get: (name: string) => {
      const value = req.headers[name.toLowerCase()]
      return Array.isArray(value) ? (value[0] ?? null) : (value ?? null)
    },
  }
  const { verdict, refusal } = await judge(guard, method, headers, options)
  if (verdict?.impersonated)
    res.once('finish', () =>
      guard.record(verdict, { method, route: options.route, status: res.statusCode }),
    )
  if (refusal) {
    res.statusCode = refusal.status
    res.setHeader('content-type', 'application/json; charset=utf-8')
    if (refusal.retryAfterSeconds) res.setHeader('retry-after', String(refusal.retryAfterSeconds))
    res.end(JSON.stringify(refusal.body))
    return null
  }
  return { verdict }
}
