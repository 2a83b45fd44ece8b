import { backendSdk } from './support/local.js'
import { type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_BROWSER_PARAM } from '../src/fapi/index.js'
import { startTestServer, type TestServer } from './support/local-server.js'
import { launchChromium } from './support/chromium.js'
import { startPageServer, type PageServer } from './support/page-server.js'

// One Clerk session on two origins, in a development instance, through the real clerk-js in
// Chromium: app A (the console, `http://localhost:A`) signs in with an actor-token ticket and sends
// the browser to app B (`http://127.0.0.1:B`) with `Clerk.buildUrlWithAuth(url)`, which carries the
// dev browser id as `__clerk_db_jwt`. B's clerk-js, loaded fresh, adopts that dev browser and finds
// the same client, user and session, `actor` included. Two host names, because cookies ignore
// ports: on one host name the dev browser cookie alone would carry the session and prove nothing.
// B reaches the FAPI through its own `/__clerk` proxy (as the console does) or directly,
// cross-origin, when clerk-local allows its origin (CORS with credentials). See docs/cross-origin.md.

process.env.CLERK_TELEMETRY_DISABLED = '1'

let server: TestServer
let appA: PageServer
let appB: PageServer
/** An app without a proxy: its clerk-js calls clerk-local's FAPI directly (`proxyUrl` absolute). */
let appDirect: PageServer | undefined
let browser: Browser

beforeAll(async () => {
  server = await startTestServer()
  appA = await startPageServer({
    frontendApiUrl: server.frontendApiUrl,
    publishableKey: server.publishableKey,
    hostname: 'localhost',
  })
  appB = await startPageServer({
    frontendApiUrl: server.frontendApiUrl,
    publishableKey: server.publishableKey,
    hostname: '127.0.0.1',
  })
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await appA?.close()
  await appB?.close()
  await appDirect?.close()
  await server?.stop()
})

interface Seen {
  href: string
  userId: string | null
  sessionId: string | null
  actor: Record<string, unknown> | null
  cookies: string
  token: string | null
  errors: string[]
}

/** Loads clerk-js in the page (fresh) and reports who it finds. */
function loadAndSee(page: Page): Promise<Seen> {
  return page.evaluate(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const w = globalThis as any
    await w.Clerk.load({ telemetry: false })
    return {
      href: String(w.location.href),
      userId: w.Clerk.user?.id ?? null,
      sessionId: w.Clerk.session?.id ?? null,
      actor: w.Clerk.session?.actor ?? null,
      cookies: String(w.document.cookie),
      token: w.Clerk.session ? await w.Clerk.session.getToken() : null,
      errors: w.__errors as string[],
    }
  })
}

/** FAPI paths (below `/__clerk` or `/fapi`) a page called, with their origin's host. */
function recordFapi(page: Page): string[] {
  const calls: string[] = []
  page.on('request', (req) => {
    const url = new URL(req.url())
    const path = /^\/(__clerk|fapi)(\/.*)$/.exec(url.pathname)?.[2]
    if (path) calls.push(`${req.method()} ${path}`)
  })
  return calls
}

function customer() {
  const user = [...server.state.users.values()].find(
    (u) => u.passwordDigest === null && !u.banned && !u.locked,
  )
  if (!user) throw new Error('no customer')
  return user
}

async function verifyFor(token: string, origin: string) {
  const state = await server.authenticate(token, origin)
  expect(state.status, state.reason ?? '').toBe('signed-in')
  return state.toAuth()!
}

/** On app A: clerk-js signs in with an impersonation ticket; returns the session and B's URL. */
async function impersonateOnA(page: Page, target: string) {
  const admin = server.account('admin')
  const { ticket } = await server.createActorToken(customer().id, { sub: admin.userId })
  await page.goto(appA.url)
  return page.evaluate(
    async ({ ticket, target }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const w = globalThis as any
      await w.Clerk.load({ telemetry: false })
      const signIn = await w.Clerk.client.signIn.create({ strategy: 'ticket', ticket })
      await w.Clerk.setActive({ session: signIn.createdSessionId })
      return {
        sessionId: w.Clerk.session.id as string,
        userId: w.Clerk.user.id as string,
        devBrowser: /(?:^|; )__clerk_db_jwt=([^;]+)/.exec(String(w.document.cookie))?.[1] ?? null,
        url: w.Clerk.buildUrlWithAuth(target) as string,
        sameOrigin: w.Clerk.buildUrlWithAuth(`${w.location.origin}/x`) as string,
      }
    },
    { ticket, target },
  )
}

describe('one Clerk session across origins (development instance, clerk-js 6.40 in Chromium)', () => {
  let context: BrowserContext
  beforeAll(async () => {
    context = await browser.newContext()
  })
  afterAll(async () => {
    await context?.close()
  })

  it('A signs in with a ticket; buildUrlWithAuth carries the dev browser to B, whose clerk-js finds the same session with its actor', async () => {
    const page = await context.newPage()
    const a = await impersonateOnA(page, `${appB.url}/landing?tab=orders#top`)
    expect(a.devBrowser).toMatch(/^dvb_/)
    // Another origin: the dev browser id goes in the URL (before the hash); the same origin: not.
    const url = new URL(a.url)
    expect(url.origin).toBe(appB.url)
    expect(url.pathname).toBe('/landing')
    expect(url.searchParams.get('tab')).toBe('orders')
    expect(url.searchParams.get(DEV_BROWSER_PARAM)).toBe(a.devBrowser)
    expect(url.hash).toBe('#top')
    expect(a.sameOrigin).toBe(`${appA.url}/x`)

    const callsOnB = recordFapi(page)
    // The console's move: the same tab goes to the URL clerk-js built.
    await page.evaluate((to) => {
      ;(globalThis as unknown as { location: { assign(u: string): void } }).location.assign(to)
    }, a.url)
    await page.waitForURL((u) => u.origin === appB.url)
    const b = await loadAndSee(page)
    expect(b).toMatchObject({ userId: a.userId, sessionId: a.sessionId, errors: [] })
    expect(b.actor).toEqual({ sub: server.account('admin').userId })
    // clerk-js took the dev browser from the URL, removed it from the address bar, kept it as
    // B's own cookie, and created none.
    expect(new URL(b.href).searchParams.has(DEV_BROWSER_PARAM)).toBe(false)
    expect(b.href).toBe(`${appB.url}/landing?tab=orders#top`)
    expect(b.cookies).toContain(`__clerk_db_jwt=${a.devBrowser}`)
    expect(callsOnB).not.toContain('POST /v1/dev_browser')
    expect(callsOnB).toContain('GET /v1/client')
    // B's token is B's: azp is B's origin, the act claim names the staff member.
    const auth = await verifyFor(b.token!, appB.url)
    expect(auth.userId).toBe(a.userId)
    expect(auth.sessionId).toBe(a.sessionId)
    expect(auth.actor).toEqual({ sub: server.account('admin').userId })
    expect((auth.sessionClaims as { azp?: string }).azp).toBe(appB.url)

    // A reload of B keeps the session: the dev browser is now B's cookie.
    await page.reload()
    expect(await loadAndSee(page)).toMatchObject({ userId: a.userId, sessionId: a.sessionId })
    await page.close()
  })

  it('without the dev browser in the URL, B (another host name) is signed out: the cookie of A does not reach it', async () => {
    const page = await context.newPage()
    const calls = recordFapi(page)
    // The context's cookie for B from the test above holds A's dev browser: clear it, keep A's.
    await context.clearCookies({ domain: '127.0.0.1' })
    expect((await context.cookies(appA.url)).map((c) => c.name)).toContain('__clerk_db_jwt')
    await page.goto(`${appB.url}/`)
    const seen = await loadAndSee(page)
    expect(seen).toMatchObject({ userId: null, sessionId: null, errors: [] })
    expect(calls).toContain('POST /v1/dev_browser')
    await page.close()
  })

  it('one client on both origins: signing out on B signs A out too', async () => {
    const page = await context.newPage()
    const a = await impersonateOnA(page, `${appB.url}/`)
    await page.goto(a.url)
    expect(await loadAndSee(page)).toMatchObject({ sessionId: a.sessionId })
    await page.evaluate(async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      await (globalThis as any).Clerk.signOut()
    })
    expect(server.state.sessions.get(a.sessionId)!.status).toBe('ended')
    // A page of its own for A: clerk-js's own navigation after signOut (to B's afterSignOutUrl)
    // may still be under way in `page`, and would interrupt a goto there.
    const onA = await context.newPage()
    await onA.goto(appA.url)
    expect(await loadAndSee(onA)).toMatchObject({ userId: null, sessionId: null })
    await onA.close()
    await page.close()
  })
})

describe('an app that calls the local FAPI directly, cross-origin', () => {
  it('gets CORS with credentials once its origin is allowed (instance.update allowedOrigins), and the same session', async () => {
    appDirect = await startPageServer({
      frontendApiUrl: server.frontendApiUrl,
      publishableKey: server.publishableKey,
      hostname: '127.0.0.1',
      proxyUrl: server.frontendApiUrl,
    })
    const origin = appDirect.url
    const preflight = () =>
      fetch(`${server.frontendApiUrl}/v1/environment`, { headers: { origin } }).then((r) => ({
        allowOrigin: r.headers.get('access-control-allow-origin'),
        credentials: r.headers.get('access-control-allow-credentials'),
      }))
    // Not allowed yet: no CORS headers, so the browser would hide every answer from the app.
    expect(await preflight()).toEqual({ allowOrigin: null, credentials: null })
    const bapi = backendSdk(server)
    await bapi.instance.update({ allowedOrigins: [origin] })
    expect(await preflight()).toEqual({ allowOrigin: origin, credentials: 'true' })

    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const a = await impersonateOnA(page, `${origin}/`)
      const calls: string[] = []
      page.on('request', (req) => {
        if (req.url().startsWith(`${server.frontendApiUrl}/`)) calls.push(req.url())
      })
      await page.goto(a.url)
      const seen = await loadAndSee(page)
      expect(seen).toMatchObject({ userId: a.userId, sessionId: a.sessionId, errors: [] })
      expect(seen.actor).toEqual({ sub: server.account('admin').userId })
      // Its FAPI calls went straight to clerk-local, each with the dev browser id.
      expect(calls.length).toBeGreaterThan(0)
      for (const url of calls)
        expect(new URL(url).searchParams.get(DEV_BROWSER_PARAM)).toBe(a.devBrowser)
      const auth = await verifyFor(seen.token!, origin)
      expect(auth.sessionId).toBe(a.sessionId)
    } finally {
      await context.close()
      await bapi.instance.update({ allowedOrigins: [] })
    }
    expect(await preflight()).toEqual({ allowOrigin: null, credentials: null })
  })
})
