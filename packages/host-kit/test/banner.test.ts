// @vitest-environment happy-dom
// The banner as a staff member sees it in the host application: who acts as whom, why, the mode
// and the countdown from the session token's `act` claim; Stop leads to the console's return
// page; an end ActAs decided (the host route answers the guard's 401 IMPERSONATION_ENDED) turns
// it into an alert by itself; a session without an actor shows nothing. The status route is a
// real HTTP server on loopback.
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { flushPromises, mount } from '@vue/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ActAsBanner, consoleReturnUrl, readSessionToken } from '../src/index.ts'
import type { HostSession } from '../src/index.ts'

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')
const token = (claims: object) => `${b64({ alg: 'RS256' })}.${b64(claims)}.sig`
const act = {
  sub: 'user_staff',
  reason: 'Ticket 4412: refund',
  impersonation_id: 'imp-1',
  mode: 'read_only',
}

let server: Server
let statusUrl: string
let ended = false
const seen: string[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '')
    res.setHeader('content-type', 'application/json')
    res.setHeader('access-control-allow-origin', '*')
    res.setHeader('access-control-allow-headers', 'authorization')
    if (req.method === 'OPTIONS') return res.end()
    if (ended) {
      res.statusCode = 401
      return res.end(JSON.stringify({ error: { code: 'IMPERSONATION_ENDED', message: 'ended' } }))
    }
    res.end(JSON.stringify({ impersonated: true, actor: { email: 'ada@support.actas.test' } }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  statusUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/actas/session`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

function session(jwt: string | null, expireAt: Date | null): HostSession {
  return {
    getToken: () => Promise.resolve(jwt),
    expireAt: () => expireAt,
    userName: () => 'Mia Chen',
  }
}

describe('ActAsBanner', () => {
  it('says who acts as whom, why, the mode and the time left; Stop leads to the console', async () => {
    ended = false
    const jwt = token({ sub: 'user_mia', sid: 'sess_1', act })
    const wrapper = mount(ActAsBanner, {
      props: {
        consoleUrl: 'http://localhost:5173',
        statusUrl,
        session: session(jwt, new Date(Date.now() + 29 * 60_000 + 30_000)),
      },
      attachTo: document.body,
    })
    await vi.waitFor(() => expect(wrapper.text()).toContain('ada@support.actas.test'), {
      timeout: 5000,
    })
    const text = wrapper.text()
    expect(text).toContain('ada@support.actas.test is acting as Mia Chen')
    expect(text).toContain('Read-only')
    expect(text).toContain('Reason: Ticket 4412: refund')
    expect(text).toMatch(/Ends in 29:[0-5]\d/)
    expect(wrapper.get('[role="region"]').attributes('aria-label')).toBe('Impersonation')
    expect(wrapper.get('a').attributes('href')).toBe(
      'http://localhost:5173/return?impersonation=imp-1',
    )
    expect(seen.at(-1)).toBe(`Bearer ${jwt}`)
    wrapper.unmount()
  })

  it('turns into an alert by itself once ActAs ended the impersonation', async () => {
    ended = false
    const jwt = token({ sub: 'user_mia', act: { ...act, mode: 'full' } })
    const wrapper = mount(ActAsBanner, {
      props: {
        consoleUrl: 'http://localhost:5173',
        statusUrl,
        intervalMs: 50,
        session: session(jwt, null),
      },
      attachTo: document.body,
    })
    await vi.waitFor(() => expect(wrapper.text()).toContain('Full access'), { timeout: 5000 })
    ended = true
    await vi.waitFor(() => expect(wrapper.find('[role="alert"]').exists()).toBe(true), {
      timeout: 5000,
    })
    expect(wrapper.text()).toContain('ActAs ended this impersonation')
    expect(wrapper.get('a').text()).toBe('Back to the console')
    expect(wrapper.emitted('ended')).toEqual([['imp-1']])
    wrapper.unmount()
  })

  it('shows nothing for a session that is not an impersonation, and asks nothing', async () => {
    const before = seen.length
    const wrapper = mount(ActAsBanner, {
      props: {
        consoleUrl: 'http://localhost:5173',
        statusUrl,
        session: session(token({ sub: 'user_mia' }), null),
      },
    })
    await flushPromises()
    await new Promise((r) => setTimeout(r, 100))
    expect(wrapper.text()).toBe('')
    expect(wrapper.find('a').exists()).toBe(false)
    expect(seen.length).toBe(before)
    wrapper.unmount()
  })
})

describe('readSessionToken and consoleReturnUrl', () => {
  it('reads act through contracts (no mode: full; an unknown mode: read-only) and refuses non-JWTs', () => {
    expect(readSessionToken(token({ sub: 'u', act: { sub: 's' } }))?.actor?.mode).toBe('full')
    expect(readSessionToken(token({ sub: 'u', act: { sub: 's', mode: 'x' } }))?.actor?.mode).toBe(
      'read_only',
    )
    expect(readSessionToken('not-a-jwt')).toBeNull()
    expect(readSessionToken(token({ act }))).toBeNull()
  })
  it('goes to the console origin only, whatever path the setting carries', () => {
    expect(consoleReturnUrl('https://support.example.com/some/page?x=1', 'imp 1')).toBe(
      'https://support.example.com/return?impersonation=imp+1',
    )
  })
})
