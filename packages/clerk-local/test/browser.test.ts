import { backendSdk } from './support/local.js'
import { type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './support/chromium.js'
import { startPageServer, type PageServer } from './support/page-server.js'
import { startTestServer, type TestServer } from './support/local-server.js'

// The real clerk-js (the browser build from node_modules) in headless Chromium against the local
// server: load, password sign-in, setActive, getToken (verified by the real @clerk/backend),
// ticket sign-in with an actor token and with a sign-in token, signOut. No request may leave loopback.

process.env.CLERK_TELEMETRY_DISABLED = '1'

let server: TestServer
let pages: PageServer
let browser: Browser
let page: Page
const requests: string[] = []
const fapiCalls: string[] = []

beforeAll(async () => {
  server = await startTestServer()
  pages = await startPageServer({
    frontendApiUrl: server.frontendApiUrl,
    publishableKey: server.publishableKey,
  })
  browser = await launchChromium()
  page = await browser.newPage()
  page.on('request', (req) => {
    requests.push(req.url())
    const url = new URL(req.url())
    if (url.pathname.startsWith('/__clerk/'))
      fapiCalls.push(
        `${req.method()} ${url.pathname.slice('/__clerk'.length)}${url.searchParams.get('_method') ? `?_method=${url.searchParams.get('_method')}` : ''}`,
      )
  })
  await page.goto(pages.url)
  await page.evaluate(() =>
    (globalThis as unknown as { Clerk: { load(o: object): Promise<void> } }).Clerk.load({
      telemetry: false,
    }),
  )
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await pages?.close()
  await server?.stop()
})

async function verify(token: string) {
  const state = await server.authenticate(token, pages.url)
  expect(state.status, state.reason ?? '').toBe('signed-in')
  return state.toAuth()!
}

interface PageResult {
  userId: string | null
  sessionId: string | null
  actor: Record<string, unknown> | null
  orgId: string | null
  token: string
  freshToken: string
  errors: string[]
  sessions: string[]
}

/** In the page, clerk-js signs in (`signIn.create(params)`, `setActive`) and reports the session. */
function signInInPage(params: Record<string, string>): Promise<PageResult> {
  return page.evaluate(async (p) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const Clerk = (globalThis as any).Clerk
    const signIn = await Clerk.client.signIn.create(p)
    await Clerk.setActive({ session: signIn.createdSessionId })
    return {
      userId: Clerk.user?.id ?? null,
      sessionId: Clerk.session?.id ?? null,
      actor: Clerk.session?.actor ?? null,
      orgId: Clerk.organization?.id ?? null,
      token: await Clerk.session.getToken(),
      freshToken: await Clerk.session.getToken({ skipCache: true }),
      errors: (globalThis as unknown as { __errors: string[] }).__errors,
      sessions: Clerk.client.sessions.map((s: { id: string }) => s.id),
    }
  }, params) as Promise<PageResult>
}

describe('clerk-js 6.40 in Chromium', () => {
  it('loads against the local FAPI in dev-browser mode', async () => {
    const loaded = await page.evaluate(() => {
      // The callbacks run in the page (this package's tsconfig has no DOM lib, hence globalThis).
      const w = globalThis as unknown as {
        Clerk: { loaded: boolean; user: unknown; version: string }
        document: { cookie: string }
      }
      return {
        loaded: w.Clerk.loaded,
        user: w.Clerk.user ?? null,
        version: w.Clerk.version,
        cookies: w.document.cookie,
      }
    })
    expect(loaded).toMatchObject({ loaded: true, user: null, version: '6.40.0' })
    expect(loaded.cookies).toMatch(/__clerk_db_jwt=dvb_/)
    expect(fapiCalls).toContain('POST /v1/dev_browser')
    expect(fapiCalls).toContain('GET /v1/client')
  })

  it('signs in with a password, sets the session active and mints a token the server accepts', async () => {
    const admin = server.account('admin')
    const result = await signInInPage({
      strategy: 'password',
      identifier: admin.identifier,
      password: admin.password,
    })
    expect(result.userId).toBe(admin.userId)
    expect(result.orgId).toBe(server.supportOrgId)
    expect(result.actor).toBeNull()
    for (const token of [result.token, result.freshToken]) {
      const auth = await verify(token)
      expect(auth.userId).toBe(admin.userId)
      expect(auth.sessionId).toBe(result.sessionId)
      expect(auth.has({ permission: 'org:admin:impersonate' })).toBe(true)
    }
    expect(fapiCalls).toContain('POST /v1/client/sign_ins')
    expect(fapiCalls).toContain(`POST /v1/client/sessions/${result.sessionId}/touch`)
    expect(fapiCalls).toContain(`POST /v1/client/sessions/${result.sessionId}/tokens`)
    expect(result.errors).toEqual([])
  })

  it('after a reload, the token restored from GET /v1/client still carries the app origin (azp)', async () => {
    await page.reload()
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const Clerk = (globalThis as any).Clerk
      await Clerk.load({ telemetry: false })
      return {
        userId: Clerk.user?.id ?? null,
        token: await Clerk.session.getToken(),
        errors: (globalThis as unknown as { __errors: string[] }).__errors,
      }
    })
    expect(result.userId).toBe(server.account('admin').userId)
    const auth = await verify(result.token)
    expect(auth.has({ permission: 'org:admin:impersonate' })).toBe(true)
    expect(result.errors).toEqual([])
  })

  it('reverifies with a password (startVerification, attemptFirstFactorVerification): the next token’s fva is [0,-1]', async () => {
    const admin = server.account('admin')
    // The admin signed in 30 minutes ago, as far as the server knows.
    const sessionId = await page.evaluate(
      () => (globalThis as unknown as { Clerk: { session: { id: string } } }).Clerk.session.id,
    )
    server.state.sessions.get(sessionId)!.firstFactorVerifiedAt -= 30 * 60_000
    const result = await page.evaluate(async (password) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const Clerk = (globalThis as any).Clerk
      const claims = (jwt: string) =>
        JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))
      const before = claims(await Clerk.session.getToken({ skipCache: true })).fva
      const started = await Clerk.session.startVerification({ level: 'first_factor' })
      const attempted = await Clerk.session.attemptFirstFactorVerification({
        strategy: 'password',
        password,
      })
      const after = claims(await Clerk.session.getToken({ skipCache: true })).fva
      return {
        before,
        after,
        started: started.status,
        factors: started.supportedFirstFactors.map((f: { strategy: string }) => f.strategy),
        attempted: attempted.status,
        age: Clerk.session.factorVerificationAge,
        errors: (globalThis as unknown as { __errors: string[] }).__errors,
      }
    }, admin.password)
    expect(result).toMatchObject({
      before: [30, -1],
      after: [0, -1],
      started: 'needs_first_factor',
      factors: ['password'],
      attempted: 'complete',
      errors: [],
    })
    expect(fapiCalls).toContain(`POST /v1/client/sessions/${sessionId}/verify`)
    expect(fapiCalls).toContain(`POST /v1/client/sessions/${sessionId}/verify/attempt_first_factor`)
  })

  it('signs in with an actor-token ticket; the token carries act', async () => {
    const admin = server.account('admin')
    const agent = server.account('agent')
    const { ticket } = await server.createActorToken(agent.userId, { sub: admin.userId })
    const result = await signInInPage({ strategy: 'ticket', ticket })
    expect(result.userId).toBe(agent.userId)
    expect(result.actor).toEqual({ sub: admin.userId })
    expect(result.sessions).toEqual([result.sessionId])
    for (const token of [result.token, result.freshToken]) {
      const auth = await verify(token)
      expect(auth.userId).toBe(agent.userId)
      expect(auth.actor).toEqual({ sub: admin.userId })
      expect(auth.has({ permission: 'org:admin:impersonate' })).toBe(false)
    }
    expect(result.errors).toEqual([])
  })

  it('signs in with a sign-in token ticket: an ordinary session, no act', async () => {
    const agent = server.account('agent')
    const bapi = backendSdk(server)
    const { token } = await bapi.signInTokens.createSignInToken({
      userId: agent.userId,
      expiresInSeconds: 300,
    })
    const result = await signInInPage({ strategy: 'ticket', ticket: token })
    expect(result.userId).toBe(agent.userId)
    expect(result.actor).toBeNull()
    expect(result.sessions).toEqual([result.sessionId])
    for (const jwt of [result.token, result.freshToken]) {
      const auth = await verify(jwt)
      expect(auth.userId).toBe(agent.userId)
      expect(auth.actor ?? null).toBeNull()
    }
    expect(result.errors).toEqual([])
    // The ticket was single use: clerk-js gets Clerk's error for a second attempt.
    const again = await page.evaluate(async (ticket) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const Clerk = (globalThis as any).Clerk
      try {
        await Clerk.client.signIn.create({ strategy: 'ticket', ticket })
        return null
      } catch (e) {
        return (e as { errors?: Array<{ code: string }> }).errors?.[0]?.code ?? String(e)
      }
    }, token)
    expect(again).toBe('ticket_invalid_code')
  })

  it('signs out', async () => {
    // Not awaited inside the page: signOut ends by navigating away, which destroys the context
    // the evaluation runs in (and clerk-js may navigate more than once, aborting the first).
    await page.evaluate(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      void (globalThis as any).Clerk.signOut({ redirectUrl: '/done' })
    })
    await expect.poll(() => page.url(), { timeout: 15_000 }).toBe(`${pages.url}/done`)
    await page.waitForLoadState('load')
    await page.evaluate(() =>
      (globalThis as unknown as { Clerk: { load(o: object): Promise<void> } }).Clerk.load({
        telemetry: false,
      }),
    )
    const after = await page.evaluate(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const Clerk = (globalThis as any).Clerk
      return {
        user: Clerk.user ?? null,
        sessions: Clerk.client?.sessions?.length ?? 0,
        errors: (globalThis as unknown as { __errors: string[] }).__errors,
      }
    })
    expect(after).toEqual({ user: null, sessions: 0, errors: [] })
    expect(fapiCalls).toContain('POST /v1/client/sessions?_method=DELETE')
  })

  it('made no request outside loopback', () => {
    expect(requests.length).toBeGreaterThan(5)
    // blob: URLs (clerk-js's token-poller worker) are in-page objects of the page's own origin.
    const host = (u: string) =>
      u.startsWith('blob:') ? new URL(u.slice('blob:'.length)).hostname : new URL(u).hostname
    const foreign = requests.filter((u) => !['127.0.0.1', 'localhost'].includes(host(u)))
    expect(foreign).toEqual([])
    if (process.env.CLERK_LOCAL_TRACE) console.log(fapiCalls.join('\n'))
  })
})
