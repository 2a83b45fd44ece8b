// The OpenAPI 3.1 document of the procedures other services call (issue 23), generated from the
// router's own zod schemas with zod's JSON Schema conversion (`z.toJSONSchema`, draft 2020-12:
// OpenAPI 3.1's dialect). The call shape is REST-style over the same procedures (routes.ts):
// `POST /api/v1/<procedure>` with the input as the JSON body, the output as the JSON answer.
import { z } from 'zod'
import type { AnyTRPCRouter } from '@trpc/server'
import type { ActAsMeta } from '@actas/contracts/server'

/** The procedures services call, in the document's order. */
export const OPENAPI_PROCEDURES = [
  'users.search',
  'impersonation.start',
  'impersonation.get',
  'impersonation.active',
  'impersonation.end',
  'impersonation.list',
  'audit.export',
  'audit.verify',
  'sessions.inspect',
  'sessions.revoked',
] as const
export type OpenApiProcedure = (typeof OPENAPI_PROCEDURES)[number]

export const REST_PREFIX = '/api/v1'

/** The document's version: that of the REST surface (`/api/v1`), moved when an operation changes. */
export const OPENAPI_VERSION = '1.0.0'

/** What each procedure is for, as the document says it (who may call it is the router's). */
const SUMMARIES: Record<OpenApiProcedure, string> = {
  'users.search': 'Search the customers a staff member may impersonate.',
  'impersonation.start':
    'Start an impersonation: a one-time sign-in ticket. A staff session token, or an M2M token of a machine granted it explicitly, on behalf of the staff member it names (onBehalfOf): judged as if that person started it (their permission and staff organization read from Clerk, the policy, grants, quota; no step-up: the machine has no session, its grant lets it act), recorded with the person as actor and the machine as via.',
  'impersonation.get': 'An impersonation with its event timeline and action trail.',
  'impersonation.active': 'The live impersonations. Staff session tokens only.',
  'impersonation.end':
    'The kill switch: end a live impersonation, saying why. A staff session token, or an M2M token of a machine granted it explicitly: only an impersonation it started, on behalf of the staff member it started it for (onBehalfOf); recorded with the machine as via.',
  'impersonation.list': 'Impersonation records, newest first, filtered, paged by cursor.',
  'audit.export': 'The audit chain in chain order, as ActAs events or OCSF 1.8.0 events.',
  'audit.verify': 'Walk the audit hash chain and report its first broken link.',
  'sessions.inspect': 'Verify a session token a service received: is it impersonated, by whom?',
  'sessions.revoked': 'Impersonated sessions ActAs ended, after a cursor (what a guard polls).',
}

type JsonSchema = Record<string, unknown>

interface ProcedureDef {
  type: 'query' | 'mutation' | 'subscription'
  inputs: z.ZodType[]
  output?: z.ZodType
  meta?: ActAsMeta
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as JsonSchema
  if ('$defs' in rest) throw new Error('OpenAPI: a schema with $defs cannot be inlined')
  return rest
}

/** `users.search` → `usersSearch`. */
export const operationId = (procedure: string) =>
  procedure.replace(/\.([a-z])/g, (_m, c: string) => c.toUpperCase())

/** An error answer: the ActAs error code, the message, and what a caller acts on. */
const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    code: {
      type: 'string',
      description: 'The ActAs error code (UNAUTHENTICATED, FORBIDDEN, INVALID_INPUT, …).',
    },
    message: { type: 'string' },
    httpStatus: { type: 'integer' },
    retryAfter: { type: ['integer', 'null'], description: 'Seconds to wait (429, 503).' },
    rule: { type: ['string', 'null'], description: 'POLICY_DENIED: the rule that refused.' },
  },
  required: ['code', 'message', 'httpStatus'],
}

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'Invalid input (INVALID_INPUT), or a refusal of what the input asks.',
  '401': 'No valid token (UNAUTHENTICATED).',
  '403': 'Not allowed (FORBIDDEN, POLICY_DENIED).',
  '404': 'Not found (USER_NOT_FOUND, IMPERSONATION_NOT_FOUND).',
  '429': 'Rate limited (RATE_LIMITED); see Retry-After.',
  '503': 'Clerk or the database is unavailable (SERVICE_UNAVAILABLE); see Retry-After.',
}

export function openApiDocument(router: AnyTRPCRouter, options: { version: string }) {
  const procedures = router._def.procedures as Record<string, { _def: ProcedureDef }>
  const paths: Record<string, unknown> = {}
  for (const name of OPENAPI_PROCEDURES) {
    const def = procedures[name]?._def
    if (!def?.output) throw new Error(`OpenAPI: ${name} has no output schema`)
    const input = def.inputs[0]
    // A procedure without input (z.undefined) takes no body; an optional input, an optional one.
    const takesInput = input !== undefined && !input.safeParse(undefined).success
    const optionalInput =
      input !== undefined && takesInput === false && !(input instanceof z.ZodUndefined)
    paths[`${REST_PREFIX}/${name}`] = {
      post: {
        operationId: operationId(name),
        summary: SUMMARIES[name],
        tags: [name.split('.')[0]],
        'x-trpc-procedure': { path: name, type: def.type },
        // Whether machines may call it (when MACHINE_PERMISSIONS grants it), from the router's
        // meta: `read`, `write`, `on_behalf` (for a named staff member: onBehalfOf) or `never`.
        'x-actas-machines': def.meta?.machines ?? 'never',
        ...(input && (takesInput || optionalInput)
          ? {
              requestBody: {
                required: takesInput,
                content: { 'application/json': { schema: jsonSchema(input, 'input') } },
              },
            }
          : {}),
        responses: {
          '200': {
            description: 'The answer.',
            content: { 'application/json': { schema: jsonSchema(def.output, 'output') } },
          },
          ...Object.fromEntries(
            Object.entries(ERROR_RESPONSES).map(([status, description]) => [
              status,
              {
                description,
                content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
              },
            ]),
          ),
        },
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ActAs API',
      version: options.version,
      description:
        "The procedures services call, REST-style: POST /api/v1/<procedure> with the input as a JSON body (none for procedures without input) and a bearer token: a Clerk M2M token (mt_…) of a machine the API grants the procedure, or a staff member's Clerk session token (impersonation.active is for people only; a machine calls impersonation.start and .end only on behalf of a named staff member, onBehalfOf, when MACHINE_PERMISSIONS grants them). The answer is the output as JSON; an error is { code, message, httpStatus, retryAfter, rule } with its HTTP status (and Retry-After on 429/503). The same procedures are served by tRPC at /trpc.",
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: "A Clerk M2M token (mt_…) or a staff member's Clerk session token.",
        },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
  }
}
