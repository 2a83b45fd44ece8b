// A loopback HTTP proxy in front of the local Clerk server that counts the requests it forwards,
// by method and path: how many calls the API really makes to Clerk.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface CountingProxy {
  url: string
  /** Requests forwarded so far whose `METHOD /path` (no query) equals `route`. */
  count(route: string): number
  close(): Promise<void>
}

/** `target()` is read per request (it may be known only after the proxy started). */
export async function startCountingProxy(target: () => string): Promise<CountingProxy> {
  const counts = new Map<string, number>()
  const server = http.createServer((req, res) => {
    const upstream = new URL(target())
    const route = `${req.method} ${(req.url ?? '/').split('?')[0]}`
    counts.set(route, (counts.get(route) ?? 0) + 1)
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', () => {
      res.writeHead(502).end()
    })
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    count: (route) => counts.get(route) ?? 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
