// @vitest-environment node
// ActAs in production shape (issue 24): the production build (the console's `vite build`, the
// API's `tsc` build) started by the API package's `start` script, twice, on one Postgres server
// and one Redis (an empty schema: both instances migrate at once), each on its own origin and
// differently configured. In the run's Chromium, through the console each instance serves:
// sign in, search, impersonate, home as the user, Stop. The security headers, the caching, the
// SPA fallback, the settings each instance hands the same build, and the metrics moving.
//
// The local Clerk server is only accepted outside production (NODE_ENV=test here): the API
// refuses its keys in production, by design. It is reached cross-origin (CLERK_PROXY_URL, its
// CORS allowed origins), as a real Frontend API is.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { localClerkEnvironment } from '@actas/api'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startApiProcess } from '../../../api/test/support/api-process.ts'
import type { ApiProcess } from '../../../api/test/support/api-process.ts'
import { startPostgres, startRedis } from '../../../api/test/support/servers.ts'
import type { PostgresServer, RedisServer } from '../../../api/test/support/servers.ts'
import { apiRelay } from '../support/relay.ts'
import { submitSignIn } from './browser.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH, ensureBuilt } from './stack.ts'

const API_DIR = fileURLToPath(new URL('../../../api/', import.meta.url))
const START = (
  JSON.parse(readFileSync(`${API_DIR}package.json`, 'utf8')) as {
    scripts: { start: string }
  }
).scripts.start

interface Instance {
  /** The origin the browser and the tests use (its relay's). */
  url: string
  metricsUrl: string
  process: ApiProcess
}

let clerk: ClerkLocal
let postgres: PostgresServer
let redis: RedisServer
let browser: Browser
let a: Instance
let b: Instance
const relays: { close(): Promise<void> }[] = []

/** `start` of @actas/api as a process (the script's own command line, through the shell). */
async function start(env: Record<string, string>): Promise<Instance> {
  const started = await startApiProcess(env, {
    shell: START,
    alsoWaitFor: /metrics listening at (http:\/\/[^"\s]+)/,
  })
  return { url: started.url, metricsUrl: started.printed, process: started }
}

/** One sample of a metric (labels as written by prom-client), 0 when absent. */
async function metric(instance: Instance, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(instance.metricsUrl)).text()
  const line = text
    .split('\n')
    .find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `))
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0
}

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  ensureBuilt()
  // Each instance binds port 0 itself and says where it listens; its origin (which it must know
  // before it starts: its authorized party, Clerk's allowed origins) is a loopback relay's, bound
  // here to port 0 and forwarding to wherever the instance said it listens.
  const listening: { a?: URL; b?: URL } = {}
  const relayTo = (name: 'a' | 'b') =>
    apiRelay(() => {
      const url = listening[name]
      if (!url) throw new Error(`instance ${name} is not listening yet`)
      return url
    })
  const [relayA, relayB] = await Promise.all([relayTo('a'), relayTo('b')])
  relays.push(relayA, relayB)
  // Two host names: cookies ignore ports, so the two consoles keep their own Clerk state.
  const originA = relayA.url
  const originB = relayB.url.replace('127.0.0.1', 'localhost')
  const endpoint = inject('chromiumEndpoint')
  ;[clerk, postgres, redis, browser] = await Promise.all([
    startClerkLocal({ port: 0, users: 300, seed: 5, allowedOrigins: [originA, originB] }),
    startPostgres(),
    startRedis(),
    endpoint
      ? chromium.connect(endpoint)
      : chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS }),
  ])
  const shared = {
    ...localClerkEnvironment(clerk, `${originA},${originB}`),
    DATABASE_URL: postgres.url,
    DATABASE_SCHEMA: 'production_e2e',
    REDIS_URL: redis.url,
    CLERK_PROXY_URL: clerk.frontendApiUrl,
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  }
  const staff = clerk.accounts
    .filter((x) => (x.kind ?? 'staff') === 'staff')
    .map(({ role, identifier, password }) => ({ role, identifier, password }))
  // Started together on an empty schema: both must come up (one migrates, the other waits).
  ;[a, b] = await Promise.all([
    start({
      ...shared,
      // A: behind a proxy it trusts (HSTS when the proxy says https); the sign-in picker.
      TRUST_PROXY: 'true',
      CONSOLE_LOCAL_ACCOUNTS: JSON.stringify(staff),
    }),
    start(shared),
  ])
  listening.a = new URL(a.url)
  listening.b = new URL(b.url)
  a.url = originA
  b.url = originB
}, 120_000)

afterAll(async () => {
  // (either may be missing when the set-up failed)
  await Promise.allSettled(([a, b] as (Instance | undefined)[]).map(async (i) => i?.process.stop()))
  await Promise.allSettled(relays.map((r) => r.close()))
  await browser?.close()
  await Promise.allSettled([clerk?.stop(), postgres?.stop(), redis?.stop()])
}, 60_000)

describe('the production build, started with `start`, two instances on Postgres + Redis', () => {
  it('serves the console with its security headers, caching and SPA fallback', async () => {
    const html = await fetch(`${a.url}/`)
    expect(html.status).toBe(200)
    expect(html.headers.get('content-type')).toMatch(/^text\/html/)
    expect(html.headers.get('cache-control')).toBe('no-store')
    const csp = html.headers.get('content-security-policy') ?? ''
    const directives: Record<string, string[]> = Object.fromEntries(
      csp.split(';').map((d): [string, string[]] => {
        const [name = '', ...values] = d.trim().split(/\s+/)
        return [name, values]
      }),
    )
    const fapi = new URL(clerk.frontendApiUrl).origin
    expect(directives['frame-ancestors']).toEqual(["'none'"])
    expect(directives['default-src']).toEqual(["'self'"])
    expect(directives['script-src']).toEqual(["'self'", fapi, 'https://challenges.cloudflare.com'])
    expect(directives['connect-src']).toEqual(["'self'", fapi])
    expect(directives['object-src']).toEqual(["'none'"])
    expect(html.headers.get('x-content-type-options')).toBe('nosniff')
    // Over plain http, no HSTS; behind the trusted proxy saying https, HSTS.
    expect(html.headers.get('strict-transport-security')).toBeNull()
    const viaProxy = await fetch(`${a.url}/`, { headers: { 'x-forwarded-proto': 'https' } })
    expect(viaProxy.headers.get('strict-transport-security')).toMatch(/^max-age=31536000/)
    // B trusts no proxy: the same header from a client is not believed.
    const spoofed = await fetch(`${b.url}/`, { headers: { 'x-forwarded-proto': 'https' } })
    expect(spoofed.headers.get('strict-transport-security')).toBeNull()

    // Hashed assets: immutable for a year, compressed.
    const entry = /<script type="module" crossorigin src="([^"]+)"/.exec(await html.text())?.[1]
    expect(entry).toMatch(/^\/assets\/index-[\w-]+\.js$/)
    const asset = await fetch(`${a.url}${entry}`, { headers: { 'accept-encoding': 'gzip' } })
    expect(asset.status).toBe(200)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(asset.headers.get('content-encoding')).toBe('gzip')

    // Console routes fall back to index.html; API paths and missing files do not.
    const route = await fetch(`${a.url}/users?q=x`)
    expect(route.status).toBe(200)
    expect(route.headers.get('content-type')).toMatch(/^text\/html/)
    expect(route.headers.get('cache-control')).toBe('no-store')
    for (const path of ['/trpc/no.such', '/v1/nothing', '/assets/missing-abc.js']) {
      const res = await fetch(`${a.url}${path}`)
      expect(res.status, path).toBe(404)
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/)
    }
    // The metrics are not on the public port (no METRICS_TOKEN), only on their own listener.
    expect((await fetch(`${a.url}/metrics`)).status).toBe(404)
  })

  it('hands the same build each instance’s own settings', async () => {
    const [configA, configB] = await Promise.all(
      [a, b].map(async (i) => (await fetch(`${i.url}/config.json`)).json()),
    )
    expect(configA).toMatchObject({ proxyUrl: clerk.frontendApiUrl })
    expect((configA as { localAccounts: unknown[] }).localAccounts.length).toBeGreaterThan(0)
    expect(configB).toMatchObject({ proxyUrl: clerk.frontendApiUrl, localAccounts: [] })
    // The same files…
    const [htmlA, htmlB] = await Promise.all(
      [a, b].map(async (i) => (await fetch(`${i.url}/`)).text()),
    )
    expect(htmlA).toBe(htmlB)
    // …and what the console shows differs: A lists its staff accounts, B none.
    const pageB = await (await browser.newContext()).newPage()
    await pageB.goto(`${b.url}/sign-in`)
    await pageB.getByRole('heading', { name: 'Sign in to ActAs' }).waitFor()
    const pageA = await (await browser.newContext()).newPage()
    await pageA.goto(`${a.url}/sign-in`)
    await pageA.getByRole('heading', { name: 'Local staff accounts' }).waitFor()
    expect(await pageB.getByRole('heading', { name: 'Local staff accounts' }).count()).toBe(0)
    await pageA.context().close()
    await pageB.context().close()
  })

  it('signs in, searches, impersonates and stops through the served console; the metrics move', async () => {
    const issuedBefore = await metric(
      a,
      'actas_impersonation_starts_total',
      'outcome="issued",rule=""',
    )
    const clerkBefore = await metric(
      a,
      'actas_clerk_requests_total',
      'route="create-actor-token",outcome="ok"',
    )
    const headBefore = await metric(a, 'actas_audit_head_seq')

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const errors: string[] = []
    const page: Page = await context.newPage()
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) errors.push(m.text())
    })
    const admin = clerk.accounts.find((x) => x.role === 'admin')!
    await submitSignIn(page, a.url, admin)
    await page.waitForURL(/\/users/)
    await page.getByLabel('Search users').fill('example.c')
    await page.waitForURL(/q=example\.c/)
    await expect.poll(() => page.getByTestId('result-count').textContent()).toMatch(/of \d+ users$/)
    await page.locator('#users-results[aria-busy="false"]').waitFor()
    const row = page
      .locator('tbody tr')
      .filter({ has: page.locator('button:has-text("Impersonate")') })
      .first()
    const name = (await row.locator('.user-cell__name').textContent())!.trim()
    await row.getByRole('button', { name: 'Impersonate' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel(/Reason/).fill('Production build check (e2e)')
    await dialog.getByRole('radio', { name: /Full access/ }).check()
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await page.waitForURL(`${a.url}/`)
    const banner = page.getByTestId('impersonation-banner')
    await expect.poll(() => banner.textContent()).toMatch(new RegExp(`You are acting as ${name}`))
    await expect
      .poll(() => page.getByTestId('home-api-actor').textContent())
      .toBe(`impersonated by ${admin.identifier}`)
    // Live on both instances (one database).
    await expect.poll(() => metric(b, 'actas_impersonations_live', 'status="signed_in"')).toBe(1)

    await banner.getByRole('button', { name: 'Stop' }).click()
    await page.waitForURL(/\/users\?q=example\.c/)
    await expect
      .poll(() => page.getByTestId('acting-notice').textContent())
      .toMatch(/Stopped acting as/)
    expect(errors).toEqual([])
    await context.close()

    expect(await metric(a, 'actas_impersonation_starts_total', 'outcome="issued",rule=""')).toBe(
      issuedBefore + 1,
    )
    expect(
      await metric(a, 'actas_clerk_requests_total', 'route="create-actor-token",outcome="ok"'),
    ).toBe(clerkBefore + 1)
    expect(await metric(a, 'actas_impersonation_session_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(await metric(a, 'actas_audit_head_seq')).toBeGreaterThan(headBefore)
    await expect.poll(() => metric(a, 'actas_impersonations_live', 'status="signed_in"')).toBe(0)
    // B learnt the end from A (NOTIFY or its periodic read): its revocation lag was observed.
    await expect
      .poll(() => metric(b, 'actas_revocation_lag_seconds_count'))
      .toBeGreaterThanOrEqual(1)
  })
})
