// The action trail: what an impersonated session did in the host application, as the guard
// (`@actas/guard`) reports it. Method, route pattern, status and time only: never a query string,
// a body, or a value taken from the path.
import { z } from 'zod'
import { ImpersonationIdSchema, InstantSchema } from './common.js'
import { MAX_ACTIONS_PER_BATCH } from '../facts.js'

export const ACTION_METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
export const ActionMethodSchema = z.enum(ACTION_METHODS)
export type ActionMethod = z.infer<typeof ActionMethodSchema>

/** The methods that change nothing (RFC 9110 "safe"): all that a read-only session may use. */
export const SAFE_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS']

export const ROUTE_PATTERN_MAX_LENGTH = 200

/** A parameter (`:id`, `{id}`), a wildcard (`*`), or a literal segment (checked below). */
const PARAMETER = /^(?::[A-Za-z_][A-Za-z0-9_]{0,63}\??|\{[A-Za-z_][A-Za-z0-9_]{0,63}\}|\*)$/
/** A literal segment: starts with a letter; letters, digits, `_`, `-`, `.`; at most 40 long. */
const LITERAL = /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/
/** An id with a type prefix (`user_2x…`, `ord_…`, `sess_…`): a value, not a route. */
const PREFIXED_ID = /^[A-Za-z]{1,12}_[A-Za-z0-9]{8,}$/

/**
 * Why `route` is not a route pattern (null when it is one). A route pattern is what a router
 * matched (`/orders/:id`), never the request's path with its values (`/orders/8812`,
 * `/users/user_2xQ…`, `/invite/ada@example.com`) nor its query string. Rules: starts with `/`;
 * no `?`, `#`, `%`, `=`, `&`, `@` or whitespace; each segment is a parameter (`:id`, `{id}`,
 * `*`) or a literal that starts with a letter, is at most 40 characters, has at most 3 digits
 * and is not a prefixed id (`abc_` + 8 or more letters/digits).
 */
export function routePatternProblem(route: string): string | null {
  if (route.length === 0 || route.length > ROUTE_PATTERN_MAX_LENGTH)
    return `must be 1 to ${ROUTE_PATTERN_MAX_LENGTH} characters`
  if (!route.startsWith('/')) return 'must start with /'
  if (/[?#]/.test(route)) return 'must not carry a query string or fragment'
  if (/[%=&@\s]/.test(route)) return 'must be a route pattern, not a path with values'
  const segments = route.slice(1).split('/')
  for (const [i, segment] of segments.entries()) {
    if (segment === '') {
      if (i === segments.length - 1) continue // `/` or a trailing slash
      return 'must not contain empty segments'
    }
    if (PARAMETER.test(segment)) continue
    if (
      !LITERAL.test(segment) ||
      (segment.match(/[0-9]/g)?.length ?? 0) > 3 ||
      PREFIXED_ID.test(segment)
    )
      return `segment ${JSON.stringify(segment.slice(0, 40))} looks like a value: use a parameter (e.g. /orders/:id)`
  }
  return null
}

export const RoutePatternSchema = z
  .string()
  .max(ROUTE_PATTERN_MAX_LENGTH)
  .superRefine((route, ctx) => {
    const problem = routePatternProblem(route)
    if (problem) ctx.addIssue({ code: 'custom', message: `route ${problem}` })
  })

/** One request an impersonated session made. */
export const ImpersonationActionSchema = z.strictObject({
  method: ActionMethodSchema,
  /** The route pattern the host matched (`/orders/:id`), never the path's values or query. */
  route: RoutePatternSchema,
  /** The HTTP status the host answered. */
  status: z.number().int().min(100).max(599),
  /** When the request was answered. */
  at: InstantSchema,
})
export type ImpersonationAction = z.infer<typeof ImpersonationActionSchema>

/** A Clerk session id (`sess_…`). */
export const SessionIdSchema = z
  .string()
  .min(6)
  .max(64)
  .regex(/^sess_[A-Za-z0-9]+$/, 'must be a Clerk session id (sess_…)')

export const ImpersonationActionsInputSchema = z.strictObject({
  /** The impersonated Clerk session (the session token's `sid`). */
  sessionId: SessionIdSchema,
  actions: z.array(ImpersonationActionSchema).min(1).max(MAX_ACTIONS_PER_BATCH),
})
export type ImpersonationActionsInput = z.infer<typeof ImpersonationActionsInputSchema>

export const ImpersonationActionsOutputSchema = z.object({
  /** The impersonation the session belongs to. */
  impersonationId: ImpersonationIdSchema,
  /** How many actions were stored (all of the batch). */
  recorded: z.number().int().min(0),
})
export type ImpersonationActionsOutput = z.infer<typeof ImpersonationActionsOutputSchema>
