// The console on the API's origin (issue 24):
// - `GET /config.json`: the console's settings from this process's validated configuration, so
//   one build of the console runs in every environment (never cached: a redeploy with other
//   settings applies at the next load);
// - with CONSOLE_DIR, the built console itself (`@fastify/static`): hashed assets (`/assets/`,
//   `/clerk-js/<version>/`) cached for a year as immutable, `index.html` never cached, compressed
//   (`@fastify/compress`), every console route falling back to `index.html` (never an API path);
// - the security headers of those responses (`@fastify/helmet`): a CSP that allows exactly this
//   origin, the Clerk Frontend API and what clerk-js needs, `frame-ancestors 'none'`, and HSTS
//   when the request came over https (directly, or per a proxy TRUST_PROXY trusts).
// Everything here lives in its own encapsulated scope: the API's routes (tRPC, the SSE stream of
// ends, webhooks) keep their headers and are never compressed or buffered.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import fastifyCompress from '@fastify/compress'
import fastifyHelmet from '@fastify/helmet'
import fastifyStatic from '@fastify/static'
import { CONSOLE_CONFIG_PATH, ConsoleConfigSchema } from '@actas/contracts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { publishableKeyHost } from '../config.js'
import type { AppDeps } from '../deps.js'

/** Paths that belong to the API (or are files): a miss there is a 404, never the console. */
const NOT_CONSOLE = /^\/(trpc|v1|webhooks|healthz|readyz|metrics|assets|clerk-js)(\/|$)/
/** Content-hashed, never changed in place (Vite's assets, clerk-js by version). */
const IMMUTABLE = /^\/(assets|clerk-js)\//
const ONE_YEAR_SECONDS = 31_536_000
const HSTS = `max-age=${ONE_YEAR_SECONDS}; includeSubDomains`
/** Cloudflare's bot protection (Clerk's sign-up/sign-in challenge), per Clerk's CSP guide. */
const CLOUDFLARE_CHALLENGES = 'https://challenges.cloudflare.com'
/** Where Clerk serves user avatars. */
const CLERK_IMAGES = 'https://img.clerk.com'

const originOf = (url: string | null) =>
  url && /^https?:\/\//.test(url) ? new URL(url).origin : null

/**
 * The Content-Security-Policy of the console, from the configuration: the Frontend API named by
 * the publishable key (or the proxy, when clerk-js is told to use one on another origin), and an
 * API on another origin when CONSOLE_API_URL names one. clerk-js itself comes from this origin.
 */
export function consoleCsp(config: AppDeps['config']): Record<string, string[]> {
  const host = publishableKeyHost(config.console.publishableKey)
  const fapi = [
    // Reached through a same-origin path (the local server's /__clerk) needs nothing more.
    ...(config.console.proxyUrl === null && host ? [`https://${host}`] : []),
    ...[originOf(config.console.proxyUrl)].filter((o): o is string => o !== null),
  ]
  const api = [originOf(config.console.apiUrl)].filter((o): o is string => o !== null)
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", ...fapi, CLOUDFLARE_CHALLENGES],
    connectSrc: ["'self'", ...fapi, ...api],
    // Avatars: Clerk's image host (a Frontend API that serves its own, like the local server's).
    imgSrc: ["'self'", 'data:', CLERK_IMAGES, ...fapi],
    // clerk-js styles its components at run time (CSS-in-JS).
    styleSrc: ["'self'", "'unsafe-inline'"],
    workerSrc: ["'self'", 'blob:'],
    frameSrc: ["'self'", CLOUDFLARE_CHALLENGES],
    fontSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  }
}

/** The built console's directory (CONSOLE_DIR, relative to the working directory), or null. */
function consoleRoot(dir: string | null): string | null {
  if (!dir) return null
  const root = resolve(dir)
  if (!existsSync(join(root, 'index.html')))
    throw new Error(
      `CONSOLE_DIR (${root}) has no index.html: build the console first (npx -y pnpm@12.4.2 build)`,
    )
  return root
}

export async function registerConsole(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { config } = deps
  // Validated once at start: a bad document never reaches a browser.
  const document = JSON.stringify(ConsoleConfigSchema.parse(config.console))
  const root = consoleRoot(config.consoleDir)

  await app.register(async (scope) => {
    await scope.register(fastifyHelmet, {
      contentSecurityPolicy: { useDefaults: false, directives: consoleCsp(config) },
      // Set below, and only over https (a plain-http answer must not pin https for a year).
      strictTransportSecurity: false,
      crossOriginEmbedderPolicy: false,
      referrerPolicy: { policy: 'no-referrer' },
    })
    scope.addHook('onSend', async (req, reply) => {
      if (req.protocol === 'https') reply.header('strict-transport-security', HSTS)
    })

    scope.get(CONSOLE_CONFIG_PATH, async (_req, reply) =>
      reply
        .header('cache-control', 'no-store')
        .header('content-type', 'application/json; charset=utf-8')
        .send(document),
    )

    if (!root) return
    await scope.register(fastifyCompress, { global: true, threshold: 1024 })
    await scope.register(fastifyStatic, {
      root,
      wildcard: true,
      index: ['index.html'],
      cacheControl: false,
      setHeaders: (reply, path) => {
        const rel = path.slice(root.length).split('\\').join('/')
        reply.header(
          'cache-control',
          IMMUTABLE.test(rel)
            ? `public, max-age=${ONE_YEAR_SECONDS}, immutable`
            : rel === '/index.html'
              ? 'no-store'
              : 'no-cache',
        )
      },
    })
    // A console route (`/users`, `/audit/…`) is the app's index.html; anything else is a 404.
    scope.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
      const path = req.url.split('?')[0] ?? '/'
      const lastSegment = path.slice(path.lastIndexOf('/') + 1)
      if (
        (req.method === 'GET' || req.method === 'HEAD') &&
        !NOT_CONSOLE.test(path) &&
        !lastSegment.includes('.')
      )
        return reply.header('cache-control', 'no-store').sendFile('index.html')
      return reply.code(404).send({
        error: 'Not Found',
        message: `Route ${req.method}:${path} not found`,
        statusCode: 404,
      })
    })
  })
}
