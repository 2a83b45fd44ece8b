// A loopback TCP relay in front of the API: the console reaches the API through it, so a test
// can stop the API (connections refused), hang it (accepted, never answered) and start it again
// on the same port; and the e2e stack can hand its URL to `vite preview` before the API (which
// needs the console's origin first) listens. It binds port 0 itself.
import { createConnection, createServer } from 'node:net'
import type { Socket } from 'node:net'

/** How the API answers the console: normally, not at all (stopped), or never (hung). */
export type ApiState = 'up' | 'stopped' | 'hung'

/**
 * The console reaches the API through this loopback TCP relay, so a test can stop the API
 * (connections refused, as when the process is down), hang it (connections accepted, never
 * answered) and start it again, on the same port.
 */
export async function apiRelay(target: URL | (() => URL)): Promise<{
  url: string
  set(state: ApiState): Promise<void>
  close(): Promise<void>
}> {
  const sockets = new Set<Socket>()
  let state: ApiState = 'up'
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    if (state === 'hung') return
    let to: URL
    try {
      to = typeof target === 'function' ? target() : target
    } catch {
      socket.destroy()
      return
    }
    const upstream = createConnection({ host: to.hostname, port: Number(to.port) })
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => socket.destroy())
    socket.pipe(upstream).pipe(socket)
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  await listen(0)
  const port = (server.address() as { port: number }).port
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      if (!server.listening) return resolve()
      server.close(() => resolve())
    })
  return {
    url: `http://127.0.0.1:${port}${typeof target === 'function' ? '' : target.pathname}`,
    async set(next) {
      if (next === 'stopped') await stop()
      else if (!server.listening) await listen(port)
      if (next === 'up') for (const socket of sockets) socket.destroy()
      state = next
    },
    close: stop,
  }
}
