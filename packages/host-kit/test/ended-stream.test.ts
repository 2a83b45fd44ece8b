// followEnds reads ActAs's push of ends as a browser would (fetch, streamed body, Bearer token),
// here from a real HTTP server on loopback that speaks the contract of `GET /v1/sessions/ended`
// (packages/guard/README.md): `open`, pings, then one `ended` event; a closed stream is opened
// again with a fresh token.
import { createServer } from 'node:http'
import type { Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { followEnds } from '../src/index.ts'
import type { EndedNews } from '../src/index.ts'

let server: Server
let url: string
const auths: string[] = []
let streams: ServerResponse[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    auths.push(req.headers.authorization ?? '')
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('retry: 1000\n\nevent: open\ndata: {}\n\n: ping\n\n')
    streams.push(res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/sessions/ended`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('followEnds', () => {
  it('tells the end with who ended it and why, after a reconnection with a fresh token', async () => {
    streams = []
    let n = 0
    const told: EndedNews[] = []
    const controller = new AbortController()
    const done = followEnds({
      url,
      getToken: () => Promise.resolve(`token-${++n}`),
      onEnded: (news) => told.push(news),
      signal: controller.signal,
      retryMs: 20,
    })
    await expect.poll(() => streams.length).toBe(1)
    streams[0]!.end() // the token expired: the stream closes
    await expect.poll(() => streams.length).toBe(2)
    const event = {
      impersonationId: 'imp-1',
      sessionId: 'sess_1',
      revokedAt: new Date().toISOString(),
      impersonationEnded: {
        impersonationId: 'imp-1',
        status: 'revoked',
        cause: 'revoked_by_staff',
        endedBy: { id: 'user_sam', email: 'sam@support.actas.test' },
        reason: 'Wrong customer',
        endedAt: new Date().toISOString(),
      },
    }
    // Split across two writes, as a network may deliver it.
    const text = `event: ended\ndata: ${JSON.stringify(event)}\n\n`
    streams[1]!.write(text.slice(0, 20))
    streams[1]!.write(text.slice(20))
    await done
    expect(told).toEqual([
      {
        impersonationId: 'imp-1',
        endedBy: { id: 'user_sam', email: 'sam@support.actas.test' },
        reason: 'Wrong customer',
      },
    ])
    expect(auths.slice(-2)).toEqual(['Bearer token-1', 'Bearer token-2'])
    for (const s of streams) s.end()
  })

  it('stops when aborted, telling nothing', async () => {
    streams = []
    const told: EndedNews[] = []
    const controller = new AbortController()
    const done = followEnds({
      url,
      getToken: () => Promise.resolve('token'),
      onEnded: (news) => told.push(news),
      signal: controller.signal,
      retryMs: 20,
    })
    await expect.poll(() => streams.length).toBe(1)
    controller.abort()
    await done
    expect(told).toEqual([])
    for (const s of streams) s.end()
  })
})
