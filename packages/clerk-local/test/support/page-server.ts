import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { basename, dirname, join } from 'node:path'

// A tiny loopback "app" for the browser contract test: an HTML page, clerk-js's browser build
// from node_modules (and its lazy chunks, from the same folder), and `/__clerk/*` proxied to the
// local server's FAPI, so the page and FAPI share an origin (clerk-js `proxyUrl: '/__clerk'`),
// as the web app's dev-server proxy does.

const require = createRequire(import.meta.url)
// The package exports no package.json; its CommonJS entry is dist/clerk.js.
const CLERK_DIST = dirname(require.resolve('@clerk/clerk-js'))

export interface PageServerOptions {
  /** e.g. `http://127.0.0.1:4010/fapi` */
  frontendApiUrl: string
  publishableKey: string
  /**
   * The host name in `url` (default `127.0.0.1`; the server listens on 127.0.0.1 either way).
   * Cookies ignore ports: two apps on one machine are two sites only under two host names.
   */
  hostname?: 'localhost' | '127.0.0.1'
  /** clerk-js `proxyUrl` (default `/__clerk`, this server's own proxy); absolute: FAPI directly. */
  proxyUrl?: string
}

export interface PageServer {
  url: string
  close(): Promise<void>
}

const page = (publishableKey: string, proxyUrl: string) => `<!doctype html>
<html>
<head><meta charset="utf-8"><title>clerk-local contract</title></head>
<body>
<script>
  window.__errors = []
  window.addEventListener('error', (e) => window.__errors.push(String(e.message)))
  window.addEventListener('unhandledrejection', (e) => window.__errors.push('unhandledrejection: ' + String(e.reason && e.reason.message || e.reason)))
</script>
<script src="/clerk/clerk.browser.js" data-clerk-publishable-key="${publishableKey}" data-clerk-proxy-url="${proxyUrl}"></script>
</body>
</html>`

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const fapi = options.frontendApiUrl.replace(/\/+$/, '')

  async function proxy(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const target = `${fapi}${url.pathname.slice('/__clerk'.length)}${url.search}`
    const headers: Record<string, string> = {}
    // What a dev-server proxy (e.g. Vite's) passes on; `referer` included.
    for (const name of ['content-type', 'cookie', 'origin', 'referer', 'authorization']) {
      const value = req.headers[name]
      if (typeof value === 'string') headers[name] = value
    }
    const method = req.method ?? 'GET'
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req)
    const upstream = await fetch(target, {
      method,
      headers,
      ...(body ? { body } : {}),
      redirect: 'manual',
    })
    const out: Record<string, string | string[]> = {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
    }
    const cookies = upstream.headers.getSetCookie()
    if (cookies.length > 0) out['set-cookie'] = cookies
    const location = upstream.headers.get('location')
    if (location) out.location = location
    res.writeHead(upstream.status, out)
    res.end(Buffer.from(await upstream.arrayBuffer()))
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page.local')
    const handle = async () => {
      if (url.pathname === '/__clerk' || url.pathname.startsWith('/__clerk/'))
        return proxy(req, res, url)
      if (url.pathname.startsWith('/clerk/')) {
        const file = basename(url.pathname)
        if (!file.endsWith('.js')) return notFound(res)
        const js = await readFile(join(CLERK_DIST, file)).catch(() => undefined)
        if (!js) return notFound(res)
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
        res.end(js)
        return
      }
      if (url.pathname === '/favicon.ico') return notFound(res)
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(page(options.publishableKey, options.proxyUrl ?? '/__clerk'))
    }
    handle().catch((error: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${options.hostname ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' })
  res.end('not found')
}
