// @vitest-environment node
// Across two origins, in real Chromium: the console (127.0.0.1) and the example customer
// application (localhost, examples/customer-app, with @actas/host-kit's <actas-banner>). Sign in
// to the console → search → impersonate (read-only) → land in the customer application with its
// banner, the Clerk session carried by clerk-js's buildUrlWithAuth (dev browser token) → its
// guarded routes answer (orders read; a write and the password change refused) → Stop in the
// application → back in the console, signed in, on the same search. And a colleague (the seeded
// second staff member) ends an impersonation from Active now: the application's banner says so
// by itself (the delay is printed). At 1280 and 390 px, axe clean.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations, impersonationIdOf, signIn } from './browser.ts'
import { planCustomerApp, startCustomerApp } from './customer-app.ts'
import type { CustomerApp } from './customer-app.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH, startStack } from './stack.ts'
import type { Stack } from './stack.ts'

const ARTIFACTS = fileURLToPath(new URL('../../test-results/e2e/host-app/', import.meta.url))

let stack: Stack
let app: CustomerApp
let browser: Browser
const contexts: BrowserContext[] = []
const pageErrors: string[] = []
const figures: string[] = []

async function newPage(width: number): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width, height: width < 600 ? 844 : 800 },
    reducedMotion: 'reduce',
  })
  contexts.push(context)
  const page = await context.newPage()
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`))

  return page
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true })
}

/** No horizontal scrolling at this width. */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const d = (
      globalThis as unknown as {
        document: { documentElement: { scrollWidth: number; clientWidth: number } }
      }
    ).document.documentElement
    return d.scrollWidth - d.clientWidth
  })
}

/** Impersonates the first impersonable row of `/users?q=…`; returns the customer's name. */
async function impersonate(
  page: Page,
  search: string,
  reason: string,
  mode: 'Read-only' | 'Full access',
): Promise<string> {
  await page.goto(`${stack.url}${search}`)
  await page.locator('#users-results[aria-busy="false"]').waitFor()
  const row = page
    .locator('tbody tr')
    .filter({ has: page.getByRole('button', { name: 'Impersonate' }) })
    .first()
  const name = (await row.locator('.user-cell__name').textContent())!.trim()
  await row.getByRole('button', { name: 'Impersonate' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel(/Reason/).fill(reason)
  // The console preselects no mode where the policy allows both: the staff member chooses.
  await dialog.getByRole('radio', { name: new RegExp(`^${mode}`) }).check()
  await dialog.getByRole('button', { name: 'Confirm' }).click()
  return name
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  const plan = await planCustomerApp()
  stack = await startStack({ users: 300, apiEnv: plan.apiEnv })
  app = await startCustomerApp(plan, stack)
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
}, 180_000)

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined)
  await browser?.close()
  await app?.stop()
  await stack?.stop()
  if (figures.length) console.log(`host-app e2e figures:\n${figures.join('\n')}`)
}, 60_000)

describe('landing in the customer application, across origins', { timeout: 180_000 }, () => {
  it('impersonate → the application with its banner → guarded routes → Stop there → back in the console on the same search (1280 px)', async () => {
    const page = await newPage(1280)
    const admin = stack.account('admin')
    await signIn(page, stack.url, admin)
    const navigations: string[] = []
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations.push(f.url())
    })
    const search = '/users?q=gmail.com'
    const confirmedAt = Date.now()
    const name = await impersonate(
      page,
      search,
      'Customer cannot see her orders (host e2e)',
      'Read-only',
    )

    // The customer application's origin, with the banner of the host kit.
    await page.waitForURL(`${app.url}/**`)
    const banner = page.getByRole('region', { name: 'Impersonation' })
    await banner.getByText(`is acting as ${name}`).waitFor()
    figures.push(`Confirm → the application's banner: ${Date.now() - confirmedAt} ms`)
    // Who is acting: the staff id from the token at once, the email once ActAs's webhook came.
    await banner.getByText(`${admin.identifier} is acting as ${name}`).waitFor()
    const text = (await banner.textContent()) ?? ''
    expect(text).toContain(`${admin.identifier} is acting as ${name}`)
    expect(text).toContain('Read-only')
    expect(text).toContain('Reason: Customer cannot see her orders (host e2e)')
    expect(text).toMatch(/Ends in \d+:\d\d/)
    // clerk-js took the dev browser token out of the address.
    expect(page.url()).not.toContain('__clerk_db_jwt')
    expect(navigations.some((u) => u.startsWith(stack.url) && u.includes('/sign-in'))).toBe(false)

    // Guarded routes: the orders read; a write is refused to a read-only impersonation.
    await page.getByText('No orders yet.').waitFor()
    await page.getByLabel('Item').fill('Invoice reprint')
    await page.getByRole('button', { name: 'Place order' }).click()
    await expect
      .poll(() => page.locator('#order-result').textContent())
      .toMatch(/read-only impersonation: POST is refused/)
    expect(await page.locator('#orders li').count()).toBe(0)
    expect(await axeViolations(page)).toEqual([])
    expect(await overflow(page)).toBeLessThanOrEqual(0)
    await shot(page, '01-orders-read-only-1280')

    // The password change: refused to any impersonation.
    await page.getByRole('link', { name: 'Account' }).click()
    await page.waitForURL(`${app.url}/account.html`)
    await banner.getByText(`is acting as ${name}`).waitFor()
    await page.getByLabel('New password').fill('a-new-password-123')
    await page.getByRole('button', { name: 'Change password' }).click()
    await expect.poll(() => page.locator('#password-result').textContent()).toMatch(/./)
    expect(await page.locator('#password-result').textContent()).not.toBe('Password changed.')
    expect(await axeViolations(page)).toEqual([])

    const id = await impersonationIdOf(page)

    // Stop in the application: the same tab goes back to the console, which ends the
    // impersonation with the return secret it kept and signs the staff member back in.
    const stoppedAt = Date.now()
    await banner.getByRole('link', { name: 'Stop' }).click()
    await page.waitForURL(`${stack.url}${search}`)
    await page
      .getByTestId('acting-notice')
      .getByText(new RegExp(`Stopped acting as ${name}`))
      .waitFor()
    figures.push(`Stop in the application → the console's users page: ${Date.now() - stoppedAt} ms`)
    expect(await page.getByLabel('Search users').inputValue()).toBe('gmail.com')
    expect(await page.getByTestId('impersonation-banner').count()).toBe(0)
    expect(navigations.filter((u) => u.includes('/sign-in'))).toEqual([])
    expect(await stack.deps.audit.get(id)).toMatchObject({
      status: 'ended',
      endCause: 'stopped_by_actor',
      endedBy: admin.userId,
      mode: 'read_only',
    })
    expect(await axeViolations(page)).toEqual([])
    await shot(page, '02-back-in-the-console-1280')
    expect(pageErrors).toEqual([])
  })

  it("a colleague ends it from Active now: the application's banner says so by itself (390 px)", async () => {
    const page = await newPage(390)
    await signIn(page, stack.url, stack.account('admin'))
    const name = await impersonate(
      page,
      '/users?q=yahoo',
      'Checking the end from a colleague (host e2e)',
      'Full access',
    )
    await page.waitForURL(`${app.url}/**`)
    const banner = page.getByRole('region', { name: 'Impersonation' })
    await banner.getByText(`is acting as ${name}`).waitFor()
    expect(await axeViolations(page)).toEqual([])
    expect(await overflow(page)).toBeLessThanOrEqual(0)
    await shot(page, '03-banner-390')

    // The colleague, in another browser, ends it from Active now.
    const colleague = await newPage(1280)
    await signIn(colleague, stack.url, stack.account('colleague'))
    await colleague.goto(`${stack.url}/active`)
    const email = await page.evaluate(
      () =>
        (
          globalThis as unknown as {
            Clerk: { user: { primaryEmailAddress: { emailAddress: string } } }
          }
        ).Clerk.user.primaryEmailAddress.emailAddress,
    )
    await colleague
      .getByRole('button', { name: `End ada@support.actas.test acting as ${email}` })
      .click()
    const dialog = colleague.getByRole('dialog')
    await dialog.getByLabel(/Reason/).fill('Ended by a colleague (host e2e)')
    const endedAt = Date.now()
    await dialog.getByRole('button', { name: 'End impersonation' }).click()

    // A bounded wait: the bound (2 s) plus the machine's load margin; the delay is printed.
    const alert = page.getByRole('alert').filter({ hasText: 'ActAs ended this impersonation' })
    await alert.waitFor({ timeout: 10_000 })
    const delay = Date.now() - endedAt
    figures.push(`colleague's End (click) → the application's banner: ${delay} ms (bound 2,000 ms)`)
    const told = (await alert.textContent()) ?? ''
    expect(told).toContain(`no longer acting as ${name}`)
    // ActAs's push names who ended it; the poll (the backstop) cannot: which one came first.
    figures.push(
      `  told by ${told.includes('ended by grace@support.actas.test: Ended by a colleague') ? "ActAs's push" : 'the poll of the status route'}`,
    )
    // The application refuses the session now (the guard), whatever the page tries.
    await page.getByLabel('Item').fill('Gift card')
    await page.getByRole('button', { name: 'Place order' }).click()
    await expect.poll(() => page.locator('#order-result').textContent()).toMatch(/./)
    expect(await page.locator('#order-result').textContent()).not.toBe('Order placed.')
    expect(await page.locator('#orders li').count()).toBe(0)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, '04-ended-390')

    // Back to the console: the sign-in page, saying how it ended.
    await alert.getByRole('link', { name: 'Back to the console' }).click()
    await page.waitForURL(/\/sign-in/)
    expect(pageErrors).toEqual([])
  })
})
