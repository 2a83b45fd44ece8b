import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { clerkError, type LocalRequest, type LocalResponse, type Router } from './http.js'

/**
 * Serves two routers on one port: BAPI at `/v1/...` (secret key required) and FAPI below
 * `fapiPath` (`/fapi/v1/...`), which the web app's `proxyUrl` points at.
 */
export interface HttpServerOptions {
  host: string
  port: number
  fapiPath: string
  bapi: Router
  fapi: Router
  /** Called before routing; a response here short-circuits (fault injection, BAPI auth). */
  before?: (
    api: 'bapi' | 'fapi',
    routeName: string,
    req: LocalRequest,
  ) => LocalResponse | undefined | Promise<LocalResponse | undefined>
  /** CORS for FAPI when the browser calls it cross-origin. */
  corsOrigins?: (origin: string) => boolean
}

const MAX_BODY = 1024 * 1024

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!header) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    try {
      out[name] = decodeURIComponent(value)
    } catch {
      out[name] = value
    }
  }
  return out
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) return 'too-large'
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function parseBody(
  raw: Buffer,
  contentType: string | undefined,
): Record<string, unknown> | 'invalid' {
  if (raw.length === 0) return {}
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  const text = raw.toString('utf8')
  if (type === 'application/x-www-form-urlencoded') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of new URLSearchParams(text)) out[k] = v
    return out
  }
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'invalid'
    return parsed as Record<string, unknown>
  } catch {
    return 'invalid'
  }
}

function send(
  res: ServerResponse,
  response: LocalResponse,
  extraHeaders: Record<string, string> = {},
): void {
  const body = response.raw ?? (response.body === undefined ? '' : JSON.stringify(response.body))
  // Exactly `application/json`: @clerk/backend parses JSON only for this exact value.
  res.writeHead(response.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...extraHeaders,
    ...(response.headers ?? {}),
  })
  res.end(body)
}

export async function listen(
  options: HttpServerOptions,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('[clerk-local] unhandled error', error)
      if (!res.headersSent)
        send(res, clerkError(500, 'internal_clerk_error', 'Something went wrong'))
      else res.end()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local')
    const isFapi =
      url.pathname === options.fapiPath || url.pathname.startsWith(`${options.fapiPath}/`)
    const api = isFapi ? 'fapi' : 'bapi'
    const path = isFapi ? url.pathname.slice(options.fapiPath.length) || '/' : url.pathname
    const origin = req.headers.origin
    const cors: Record<string, string> =
      isFapi && origin && options.corsOrigins?.(origin)
        ? {
            'Access-Control-Allow-Origin': origin,
            'Access-Control-Allow-Credentials': 'true',
            Vary: 'Origin',
          }
        : {}

    let method = (req.method ?? 'GET').toUpperCase()
    if (method === 'OPTIONS' && isFapi) {
      res.writeHead(204, {
        ...cors,
        'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE',
        'Access-Control-Allow-Headers': 'content-type',
      })
      res.end()
      return
    }
    // clerk-js tunnels PATCH and DELETE as POST with `_method=`.
    const tunnelled = url.searchParams.get('_method')
    if (isFapi && method === 'POST' && tunnelled) method = tunnelled.toUpperCase()

    const raw = await readBody(req)
    if (raw === 'too-large')
      return send(res, clerkError(413, 'request_body_too_large', 'Request body too large'), cors)
    const body = parseBody(raw, req.headers['content-type'])
    if (body === 'invalid') {
      return send(
        res,
        clerkError(
          400,
          'request_body_invalid',
          'Request body is not valid JSON',
          'The request body must be a JSON object.',
        ),
        cors,
      )
    }

    const router = isFapi ? options.fapi : options.bapi
    const match = router.match(method, path)
    if (match === undefined)
      return send(
        res,
        clerkError(404, 'resource_not_found', 'Resource not found', `No route ${method} ${path}`),
        cors,
      )
    if (match === 'method-not-allowed')
      return send(res, clerkError(405, 'method_not_allowed', 'Method not allowed'), cors)

    const request: LocalRequest = {
      method,
      path,
      params: match.params,
      query: url.searchParams,
      headers: req.headers,
      body,
      cookies: parseCookies(req.headers.cookie),
    }
    const early = await options.before?.(api, match.name, request)
    const response = early ?? (await match.handler(request))
    send(res, response, cors)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  server.keepAliveTimeout = 65_000
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}
