// The OpenAPI surface: `GET /openapi.json` (the document) and `POST /api/v1/<procedure>` for the
// procedures it lists. Each REST call is the tRPC call of the same procedure, made in-process
// (`app.inject`) with the caller's headers and address: the same authentication, machine
// permissions, rate limits, audit and error mapping as /trpc, nothing of its own. Only the shape
// changes: the input is the body, the answer the bare output, an error `{ code, message, … }`.
import type { FastifyInstance } from 'fastify'
import { createAppRouter } from '@actas/contracts/server'
import { OPENAPI_PROCEDURES, openApiDocument, OPENAPI_VERSION, REST_PREFIX } from './document.js'

/** Headers handed on to the tRPC call (never cookies). */
const FORWARDED = ['authorization', 'user-agent', 'x-request-id', 'x-forwarded-for', 'origin']

interface TrpcAnswer {
  result?: { data?: unknown }
  error?: {
    message?: string
    data?: {
      actasCode?: string
      httpStatus?: number
      retryAfter?: number | null
      rule?: string | null
    }
  }
}

export function registerOpenApi(app: FastifyInstance): void {
  const router = createAppRouter({ isDev: false })
  const document = openApiDocument(router, { version: OPENAPI_VERSION })
  const types = new Map<string, string>(
    OPENAPI_PROCEDURES.map((name) => [
      name,
      (router._def.procedures as unknown as Record<string, { _def: { type: string } }>)[name]!._def
        .type,
    ]),
  )

  app.get('/openapi.json', (_req, reply) =>
    reply.header('cache-control', 'no-cache').send(document),
  )

  app.post<{ Params: { procedure: string } }>(`${REST_PREFIX}/:procedure`, async (req, reply) => {
    const name = req.params.procedure
    const type = types.get(name)
    if (!type)
      return reply.code(404).send({
        code: 'INVALID_INPUT',
        message: `No such operation: ${JSON.stringify(name.slice(0, 64))}.`,
        httpStatus: 404,
        retryAfter: null,
        rule: null,
      })
    const headers: Record<string, string> = {}
    for (const h of FORWARDED) {
      const value = req.headers[h]
      if (typeof value === 'string') headers[h] = value
    }
    const body = req.body
    const input = body === undefined || body === null || body === '' ? undefined : body
    const url =
      type === 'query'
        ? `/trpc/${name}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
        : `/trpc/${name}`
    const answer = await app.inject({
      method: type === 'query' ? 'GET' : 'POST',
      url,
      headers: {
        ...headers,
        'x-request-id': req.id,
        ...(type === 'query' ? {} : { 'content-type': 'application/json' }),
      },
      ...(type === 'query' ? {} : { payload: input === undefined ? '' : JSON.stringify(input) }),
      remoteAddress: req.ip,
    })
    const retryAfter = answer.headers['retry-after']
    if (typeof retryAfter === 'string') reply.header('retry-after', retryAfter)
    let parsed: TrpcAnswer
    try {
      parsed = JSON.parse(answer.body) as TrpcAnswer
    } catch {
      return reply.code(502).send({
        code: 'INTERNAL',
        message: 'The procedure gave no JSON answer.',
        httpStatus: 502,
        retryAfter: null,
        rule: null,
      })
    }
    if (parsed.error) {
      const data = parsed.error.data ?? {}
      const status = data.httpStatus ?? answer.statusCode
      return reply.code(status).send({
        code: data.actasCode ?? 'INTERNAL',
        message: parsed.error.message ?? 'Error',
        httpStatus: status,
        retryAfter: data.retryAfter ?? null,
        rule: data.rule ?? null,
      })
    }
    return reply.code(200).send(parsed.result?.data ?? null)
  })
}
