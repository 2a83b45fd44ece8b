// @vitest-environment node
// End to end in real Chromium over the whole local stack (clerk-local + API + built console).
import { fileURLToPath } from 'node:url'
import { createFapiClient } from '@actas/clerk-local'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { useE2e } from '../support/e2e.ts'

const ARTIFACTS = fileURLToPath(new URL('../../test-results/e2e/', import.meta.url))
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

const e2e = useE2e({ users: 1000, artifacts: ARTIFACTS })
/** Every URL any page requested during the run. */
const requested: string[] = []
/** Every console message and page error of every page. */
const consoleLines: string[] = []
/** Every ticket the API handed to the browser. */
const tickets: string[] = []

async function newPage(): Promise<Page> {
  const context = await e2e.context({ viewport: { width: 1280, height: 800 } })
  context.on('request', (req) => requested.push(req.url()))
  const page = await context.newPage()
  page.on('console', (m) => consoleLines.push(m.text()))
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`))
  page.on('response', async (res) => {
    if (!res.url().includes('/trpc/impersonation.start')) return
    try {
      const body = (await res.json()) as { result?: { data?: { ticket?: string } } }[]
      for (const item of body) if (item.result?.data?.ticket) tickets.push(item.result.data.ticket)
    } catch {
      // not JSON
    }
  })
  return page
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true })
}

async function openImpersonateFor(page: Page, query: string, reason: string): Promise<void> {
  await page.goto(`${e2e.stack.url}/users?q=${encodeURIComponent(query)}`)
  const row = page.locator('tbody tr', { hasText: query }).first()
  await row.getByRole('button', { name: 'Impersonate' }).click()
  await page.getByLabel(/Reason/).fill(reason)
  // Where the policy allows both modes nothing is preselected: the staff member picks.
  await page
    .getByRole('dialog')
    .getByRole('radio', { name: /Full access/ })
    .check()
}

describe('the console in Chromium over the local stack', { timeout: 90_000 }, () => {
  it('admin: sign in → search part of an email → page 2 → impersonate → home as the user with the banner → Stop', async () => {
    const page = await newPage()
    await page.goto(`${e2e.stack.url}/`)
    await page.waitForURL(/\/sign-in/)
    await expect
      .poll(() => page.getByRole('heading', { name: 'Sign in to ActAs' }).isVisible())
      .toBe(true)
    await shot(page, '01-sign-in')

    await e2e.signIn(page, 'admin')
    await page.waitForURL(/\/users/)
    await page.getByTestId('quota-meter').getByText('Impersonations this month').waitFor()

    await page.getByLabel('Search users').fill('example.c')
    await page.waitForURL(/q=example\.c/)
    const count = page.getByTestId('result-count')
    await expect.poll(() => count.textContent()).toMatch(/^1–20 of \d+ users$/)
    await page.getByRole('button', { name: 'Next' }).click()
    await page.waitForURL(/page=2/)
    await expect.poll(() => count.textContent()).toMatch(/^21–40 of \d+ users$/)
    const rows = page.locator('tbody tr')
    expect(await rows.count()).toBe(20)
    // (a match can be on any of a user's emails; the table shows the primary one)
    await shot(page, '02-users-page-2')

    // back button returns to page 1 of the same search
    await page.goBack()
    await expect.poll(() => count.textContent()).toMatch(/^1–20 of/)
    await page.goForward()
    await expect.poll(() => count.textContent()).toMatch(/^21–40 of/)
    await page.locator('#users-results[aria-busy="false"]').waitFor()

    const row = rows.filter({ has: page.locator('button:has-text("Impersonate")') }).first()
    const name = (await row.locator('.user-cell__name').textContent())!.trim()
    const email = (await row.locator('.user-cell__email').textContent())!.trim()
    await row.getByRole('button', { name: 'Impersonate' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel(/Reason/).fill('Customer reports missing invoices (e2e)')
    await dialog.getByRole('radio', { name: /Full access/ }).check()
    await shot(page, '03-impersonate-dialog')
    await dialog.getByRole('button', { name: 'Confirm' }).click()

    await page.waitForURL(`${e2e.stack.url}/`)
    const banner = page.getByTestId('impersonation-banner')
    const startedBy = `started by ${e2e.stack.account('admin').identifier}`
    // Who started it comes from the API's me(): wait for it (a bounded wait on the event, not a
    // poll of vitest's 1 s default), then read the whole banner once.
    await banner.filter({ hasText: startedBy }).waitFor({ timeout: 30_000 })
    expect(await banner.textContent()).toMatch(
      new RegExp(
        `You are acting as ${name} · full access · started by ${e2e.stack.account('admin').identifier} · Customer reports missing invoices \\(e2e\\) · ends in (30:00|29:\\d\\d)`,
      ),
    )
    await expect.poll(() => page.getByTestId('home-name').textContent()).toBe(name)
    await expect.poll(() => page.getByTestId('home-email').textContent()).toBe(email)
    // the API sees the impersonated session, with the admin as actor
    await expect
      .poll(() => page.getByTestId('home-api-actor').textContent())
      .toBe(`impersonated by ${e2e.stack.account('admin').identifier}`)
    expect(await page.title()).toBe(`Acting as ${name} · Home · ActAs`)
    await shot(page, '04-home-impersonating')

    // another tab (it did not start the impersonation) says the same, from the API's me()
    const tab = await page.context().newPage()
    tab.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`))
    await tab.goto(`${e2e.stack.url}/`)
    const tabBanner = tab.getByTestId('impersonation-banner')
    await tabBanner.filter({ hasText: startedBy }).waitFor({ timeout: 30_000 })
    expect(await tabBanner.textContent()).toMatch(
      new RegExp(
        `You are acting as ${name} · full access · started by ${e2e.stack.account('admin').identifier} · Customer reports missing invoices \\(e2e\\) · ends in (30:00|29:\\d\\d)`,
      ),
    )
    await tab.close()

    // the banner stays on every page; the console says to stop first
    await page.goto(`${e2e.stack.url}/users`)
    await page.waitForURL(/\/no-access/)
    await banner.waitFor()
    await page.getByRole('heading', { name: `You are acting as ${name}: stop first` }).waitFor()

    // Stop in the tab that started it: back where the dialog was opened, as the admin, no password
    await banner.getByRole('button', { name: 'Stop' }).click()
    await page.waitForURL(/\/users\?q=example\.c&page=2$/)
    await expect
      .poll(() => page.getByTestId('acting-notice').textContent())
      .toMatch(new RegExp(`^\\s*Stopped acting as ${name} after \\d+ s\\s*$`))
    expect(await banner.count()).toBe(0)
    await shot(page, '05-users-after-stop')

    // the audit log shows it; the issued ticket was used, so it cannot be revoked
    await page.getByRole('link', { name: 'Audit log' }).click()
    const auditRow = page.locator('tbody tr', {
      hasText: 'Customer reports missing invoices (e2e)',
    })
    await auditRow.waitFor()
    expect(await auditRow.textContent()).toContain(email)
    await shot(page, '06-audit')
  })

  it('agent without the permission sees "you don\'t have access", never the user list', async () => {
    const page = await newPage()
    await e2e.signIn(page, 'agent')
    await page.waitForURL(/\/no-access/)
    await page.getByRole('heading', { name: "You don't have access" }).waitFor()
    await page.goto(`${e2e.stack.url}/users`)
    await page.waitForURL(/\/no-access/)
    expect(await page.locator('table').count()).toBe(0)
    await shot(page, '07-no-access')
  })

  it('a banned user cannot be impersonated: the button is off with the reason, and the API refuses when forced', async () => {
    const banned = e2e.stack.account('banned')
    const page = await newPage()
    await e2e.signIn(page, 'admin')
    await page.waitForURL(/\/users/)
    await page.getByLabel('Search users').fill(banned.identifier)
    const row = page.locator('tbody tr', { hasText: banned.identifier })
    await row.waitFor()
    expect(await row.getByRole('button', { name: 'Impersonate' }).count()).toBe(0)
    expect(await row.locator('.why-not__label').textContent()).toBe('Banned')
    // the full sentence shows when the row has keyboard focus
    await row.focus()
    expect(await row.locator('.why-not__full').isVisible()).toBe(true)
    expect(await row.locator('.why-not__full').textContent()).toMatch(/banned/i)

    const api = await e2e.stack.apiAs('admin')
    const forced = await api.impersonation.start
      .mutate({ userId: banned.userId, reason: 'Forcing the API on purpose' })
      .then(
        () => null,
        (error: unknown) => error as { data?: { actasCode?: string } },
      )
    expect(forced?.data?.actasCode).toBe('POLICY_DENIED')
  })

  it('says the monthly quota is used up when the Clerk plan refuses more actor tokens', async () => {
    const page = await newPage()
    await e2e.signIn(page, 'admin')
    await page.waitForURL(/\/users/)
    e2e.stack.clerk.faults.setQuota(true, 0)
    try {
      await openImpersonateFor(page, 'example.com', 'Checking the quota message (e2e)')
      await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click()
      const error = page.getByTestId('impersonate-error')
      await expect.poll(() => error.textContent()).toContain('Monthly quota used up')
      expect(page.url()).toContain('/users')
      await shot(page, '08-quota-exhausted')
    } finally {
      e2e.stack.clerk.faults.setQuota(false)
    }
  })

  it('says Clerk is unavailable when the sign-in service does not answer in time, and comes back by itself', async () => {
    const faults = e2e.stack.clerk.faults
    // clerk-js loads its environment with a PATCH (tunnelled as POST ?_method=PATCH).
    const ENVIRONMENT = 'PATCH /v1/environment'
    const environment = (page: Page) =>
      page.waitForRequest((req) => req.url().includes('/v1/environment'))
    const notice = (page: Page) => page.getByTestId('clerk-unavailable')
    const signInHeading = (page: Page) => page.getByRole('heading', { name: 'Sign in to ActAs' })
    try {
      // (a) Frozen a moment: the notice past the load timeout (the page's clock), then gone by
      // itself when the held answer arrives — no click, no reload.
      const frozen = await newPage()
      await frozen.clock.install()
      faults.add({ route: ENVIRONMENT, latencyMs: 2_500, times: 1 })
      const asked = environment(frozen)
      await frozen.goto(`${e2e.stack.url}/`)
      await asked
      await frozen.clock.runFor(10_500)
      await notice(frozen).getByRole('alert').getByText('Clerk unavailable').waitFor()
      let loads = 0
      frozen.on('load', () => loads++)
      await signInHeading(frozen).waitFor()
      expect(await notice(frozen).count()).toBe(0)
      expect(loads).toBe(0)

      // (b) Still no answer when the countdown ends (clerk-js keeps waiting on the held request):
      // the notice loads the page again by itself, and that load, answered, shows the sign-in.
      faults.add({ route: ENVIRONMENT, latencyMs: 30_000, times: 1 })
      const failing = await newPage()
      await failing.clock.install()
      const first = environment(failing)
      await failing.goto(`${e2e.stack.url}/`)
      await first
      await failing.clock.runFor(10_500)
      await notice(failing).getByRole('alert').getByText('Clerk unavailable').waitFor()
      expect(await notice(failing).textContent()).toMatch(/tries again by itself in \d+\s*s/)
      await shot(failing, '10-clerk-unavailable')
      const reloaded = failing.waitForEvent('load')
      await failing.clock.runFor(15_000)
      await reloaded
      await signInHeading(failing).waitFor()
      expect(await notice(failing).count()).toBe(0)
    } finally {
      faults.clear()
    }
  })

  it('says the ticket expired when it expires before Clerk accepts it', async () => {
    const page = await newPage()
    await e2e.signIn(page, 'admin')
    await page.waitForURL(/\/users/)
    // Expire every pending ticket on the local server just before the browser redeems it.
    await page.route('**/__clerk/v1/client/sign_ins**', async (route) => {
      const res = await fetch(`${e2e.stack.clerk.url}/__local/actor_tokens/expire`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${e2e.stack.clerk.secretKey}`,
          'content-type': 'application/json',
        },
        body: '{}',
      })
      expect(res.ok).toBe(true)
      await route.continue()
    })
    await openImpersonateFor(page, 'example.com', 'Checking the expired ticket message (e2e)')
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click()
    const error = page.getByTestId('impersonate-error')
    await expect.poll(() => error.textContent()).toContain('Ticket expired')
    expect(page.url()).toContain('/users')
    await shot(page, '09-ticket-expired')
  })

  it('audit: filters by status and revokes a ticket that was not used; Clerk then refuses it', async () => {
    const api = await e2e.stack.apiAs('admin')
    const customer = (await api.users.search.query({ query: 'example.com', limit: 1 })).items[0]!
    const issued = await api.impersonation.start.mutate({
      userId: customer.id,
      reason: 'Ticket to revoke from the audit log (e2e)',
    })
    tickets.push(issued.ticket)

    const page = await newPage()
    await e2e.signIn(page, 'admin')
    await page.waitForURL(/\/users/)
    await page.getByRole('link', { name: 'Audit log' }).click()
    await page.getByLabel('Status').selectOption('issued')
    const row = page.locator('tbody tr', { hasText: 'Ticket to revoke from the audit log (e2e)' })
    await row.waitFor()
    await row.getByRole('button', { name: 'Revoke' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke ticket' }).click()
    await expect.poll(() => row.locator('.badge').first().textContent()).toBe('Revoked')
    expect(await row.getByTestId('status-sentence').textContent()).toBe(
      `Ticket revoked by ${e2e.stack.account('admin').identifier}`,
    )
    expect(await row.getByRole('button', { name: 'Revoke' }).count()).toBe(0)

    const fapi = createFapiClient({
      frontendApiUrl: e2e.stack.clerk.frontendApiUrl,
      origin: e2e.stack.url,
    })
    const redeemed = await fapi.signInWithTicket(issued.ticket).then(
      () => null,
      (error: unknown) => error as { code?: string },
    )
    expect(redeemed?.code).toBe('actor_token_revoked_code')
  })

  it('kept every ticket out of URLs, storage and console output', async () => {
    expect(tickets.length).toBeGreaterThanOrEqual(2)
    for (const context of e2e.contexts) {
      for (const page of context.pages()) {
        // (runs in the page; this tsconfig has no DOM lib, hence globalThis)
        const storage = await page.evaluate(() => {
          const w = globalThis as unknown as {
            sessionStorage: object
            localStorage: object
            document: { cookie: string }
          }
          return (
            JSON.stringify({ ...w.sessionStorage }) +
            JSON.stringify({ ...w.localStorage }) +
            w.document.cookie
          )
        })
        for (const ticket of tickets) expect(storage).not.toContain(ticket)
      }
    }
    for (const ticket of tickets) {
      expect(requested.filter((u) => u.includes(ticket))).toEqual([])
      expect(consoleLines.filter((l) => l.includes(ticket))).toEqual([])
      expect(e2e.stack.apiLogs.filter((l) => l.includes(ticket))).toEqual([])
    }
  })

  it('raised no uncaught error or unhandled rejection in any page (Clerk UI stub included)', () => {
    expect(consoleLines.filter((line) => line.startsWith('pageerror'))).toEqual([])
  })

  it('made no request outside loopback', () => {
    expect(requested.length).toBeGreaterThan(20)
    const host = (u: string) => new URL(u.startsWith('blob:') ? u.slice(5) : u).hostname
    const foreign = requested.filter((u) => !u.startsWith('data:') && !LOOPBACK.has(host(u)))
    expect(foreign).toEqual([])
  })
})
