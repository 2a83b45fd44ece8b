// @vitest-environment node
// Across two origins, in real Chromium: the console (127.0.0.1) and the example customer
// application (localhost, examples/customer-app, with @actas/host-kit's <actas-banner>). At 1280
// and 390 px each, axe clean on every console and application page visited:
// (a) sign in to the console → search → impersonate (read-only) → land in the customer
//     application with its banner, the Clerk session carried by clerk-js's buildUrlWithAuth (dev
//     browser token) → its guarded routes answer (orders read; a write and the password change
//     refused, visibly) → Stop in the application → back in the console, signed in, on the same
//     search;
// (b) a colleague (the seeded second staff member) ends an impersonation from Active now: the
//     application's banner says so by itself (a bounded wait; the delay is printed), its header
//     says signed out and clerk-js is → "Back to the console": the sign-in page says the
//     impersonation ended → signed in again, on the same search, told who ended it and why.
// One stack and one customer application for the file (useE2e + customer-app.ts), the run's
// Chromium, one browser context per test (and one more for the colleague).
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { confirmImpersonation, impersonationIdOf, signIn } from './browser.ts'
import { planCustomerApp, useCustomerApp } from './customer-app.ts'
import { pageOpener, shotIn, usable } from './page-checks.ts'
import { useE2e } from '../support/e2e.ts'

const ARTIFACTS = fileURLToPath(new URL('../../test-results/e2e/host-app/', import.meta.url))

const plan = await planCustomerApp()
const e2e = useE2e({ users: 300, apiEnv: plan.apiEnv, artifacts: ARTIFACTS })
const customerApp = useCustomerApp(plan, e2e)
const pageErrors: string[] = []
/** Figures measured on the way (printed at the end, never asserted). */
const figures: string[] = []
afterAll(() => {
  if (figures.length) console.log(`host-app e2e figures:\n${figures.join('\n')}`)
})

const newPage = pageOpener(e2e, pageErrors)
const shot = shotIn(ARTIFACTS)

/** The application's banner (the host kit's `<actas-banner>`). */
const bannerOf = (page: Page) => page.getByRole('region', { name: 'Impersonation' })

/** Each width with its own customers (a search each), so no run depends on another's end. */
const RUNS = [
  { width: 1280, stopSearch: 'gmail.com', colleagueSearch: 'yahoo' },
  { width: 390, stopSearch: 'hotmail', colleagueSearch: 'outlook' },
] as const

describe.each(RUNS)(
  'landing in the customer application, across origins, at $width px',
  { timeout: 240_000 },
  ({ width, stopSearch, colleagueSearch }) => {
    it('impersonate → the application with its banner → guarded routes → Stop there → back in the console on the same search', async () => {
      const page = await newPage(width)
      const admin = e2e.stack.account('admin')
      await signIn(page, e2e.stack.url, admin)
      const navigations: string[] = []
      page.on('framenavigated', (f) => {
        if (f === page.mainFrame()) navigations.push(f.url())
      })
      const reason = `Customer cannot see her orders (host e2e, ${width} px)`
      const confirmedAt = Date.now()
      const name = await confirmImpersonation(page, e2e.stack.url, stopSearch, reason, 'Read-only')

      // The customer application's origin, with the banner of the host kit.
      await page.waitForURL(`${customerApp().url}/**`)
      const banner = bannerOf(page)
      await banner.getByText(`is acting as ${name}`).waitFor()
      figures.push(
        `${width} px: Confirm → the application's banner: ${Date.now() - confirmedAt} ms`,
      )
      // Who is acting: the staff id from the token at once, the email once ActAs's webhook came.
      await banner.getByText(`${admin.identifier} is acting as ${name}`).waitFor()
      // The details on a line of their own, starting with the mode (never a stray separator).
      expect(await banner.locator('.actas-banner__meta').textContent()).toMatch(
        new RegExp(
          `^Read-only · Reason: ${reason.replace(/[()]/g, '\\$&')} · Ends in \\d+:\\d\\d$`,
        ),
      )
      await expect(banner.getByRole('link', { name: 'Stop' }).isVisible()).resolves.toBe(true)
      // clerk-js took the dev browser token out of the address; no sign-in page on the way.
      expect(page.url()).not.toContain('__clerk_db_jwt')
      expect(navigations.some((u) => u.includes('/sign-in'))).toBe(false)

      // Guarded routes: the orders read; a write is refused to a read-only impersonation, visibly.
      await page.getByText('No orders yet.').waitFor()
      await page.getByLabel('Item').fill('Invoice reprint')
      await page.getByRole('button', { name: 'Place order' }).click()
      await page
        .locator('#order-result')
        .filter({ hasText: /read-only impersonation: POST is refused/ })
        .waitFor()
      expect(await page.locator('#orders li').count()).toBe(0)
      await usable(page)
      await shot(page, `01-orders-read-only-${width}`)

      // The password change: refused to any impersonation, visibly.
      await page.getByRole('link', { name: 'Account' }).click()
      await page.waitForURL(`${customerApp().url}/account.html`)
      await banner.getByText(`is acting as ${name}`).waitFor()
      await page.getByLabel('New password').fill('a-new-password-123')
      await page.getByRole('button', { name: 'Change password' }).click()
      await page.locator('#password-result').filter({ hasText: /./ }).waitFor()
      expect(await page.locator('#password-result').textContent()).not.toBe('Password changed.')
      await usable(page)
      await shot(page, `02-account-refused-${width}`)

      const id = await impersonationIdOf(page)

      // Stop in the application: the same tab goes back to the console, which ends the
      // impersonation with the return secret it kept and signs the staff member back in.
      const stoppedAt = Date.now()
      await banner.getByRole('link', { name: 'Stop' }).click()
      await page.waitForURL(`${e2e.stack.url}/users?q=${encodeURIComponent(stopSearch)}`)
      await page
        .getByTestId('acting-notice')
        .getByText(new RegExp(`Stopped acting as ${name}`))
        .waitFor()
      figures.push(
        `${width} px: Stop in the application → the console's users page: ${Date.now() - stoppedAt} ms`,
      )
      expect(await page.getByLabel('Search users').inputValue()).toBe(stopSearch)
      expect(await page.getByTestId('impersonation-banner').count()).toBe(0)
      expect(navigations.filter((u) => u.includes('/sign-in'))).toEqual([])
      expect(await e2e.stack.deps.audit.get(id)).toMatchObject({
        status: 'ended',
        endCause: 'stopped_by_actor',
        endedBy: admin.userId,
        mode: 'read_only',
      })
      await page.locator('#users-results[aria-busy="false"]').waitFor()
      await usable(page)
      await shot(page, `03-back-in-the-console-${width}`)
      expect(pageErrors).toEqual([])
    })

    it("a colleague ends it from Active now: the application's banner says so by itself and the app signs out; the console says so before and after sign-in", async () => {
      const page = await newPage(width)
      const admin = e2e.stack.account('admin')
      await signIn(page, e2e.stack.url, admin)
      const name = await confirmImpersonation(
        page,
        e2e.stack.url,
        colleagueSearch,
        `Checking the end from a colleague (host e2e, ${width} px)`,
        'Full access',
      )
      await page.waitForURL(`${customerApp().url}/**`)
      await bannerOf(page).getByText(`is acting as ${name}`).waitFor()
      expect(await bannerOf(page).textContent()).toContain('Full access')
      await usable(page)
      await shot(page, `04-banner-full-${width}`)

      // The colleague, in a browser context of their own, ends it from Active now.
      const colleague = await newPage(width)
      await signIn(colleague, e2e.stack.url, e2e.stack.account('colleague'))
      await colleague.goto(`${e2e.stack.url}/active`)
      const email = await page.evaluate(
        () =>
          (
            globalThis as unknown as {
              Clerk: { user: { primaryEmailAddress: { emailAddress: string } } }
            }
          ).Clerk.user.primaryEmailAddress.emailAddress,
      )
      const end = colleague.getByRole('button', {
        name: `End ada@support.actas.test acting as ${email}`,
      })
      await end.waitFor()
      await usable(colleague)
      await end.click()
      const dialog = colleague.getByRole('dialog')
      await dialog.getByLabel(/Reason/).fill('Ended by a colleague (host e2e)')
      const endedAt = Date.now()
      await dialog.getByRole('button', { name: 'End impersonation' }).click()

      // A bounded wait: the bound (2 s) plus the machine's load margin; the delay is printed.
      const alert = page.getByRole('alert').filter({ hasText: 'ActAs ended this impersonation' })
      await alert.waitFor({ timeout: 10_000 })
      const delay = Date.now() - endedAt
      const told = (await alert.textContent()) ?? ''
      // ActAs's push names who ended it; the poll (the backstop) cannot: which one came first.
      const byPush = told.includes('ended by grace@support.actas.test: Ended by a colleague')
      figures.push(
        `${width} px: the colleague's End (click) → the application's banner: ${delay} ms (bound 2,000 ms), told by ${byPush ? "ActAs's push" : 'the poll of the status route'}`,
      )
      expect(told).toContain(`no longer acting as ${name}`)
      // The application's header no longer claims the customer is signed in, and clerk-js's
      // session is signed out (the example's answer to the banner's `ended` event).
      const header = page.getByRole('banner')
      await header.getByText('Signed out: the impersonation ended').waitFor()
      expect(await header.textContent()).not.toContain('Signed in as')
      await page.waitForFunction(
        () => (globalThis as unknown as { Clerk: { session: unknown } }).Clerk.session == null,
      )
      // The application refuses the session now (the guard), whatever the page tries.
      await page.getByLabel('Item').fill('Gift card')
      await page.getByRole('button', { name: 'Place order' }).click()
      await page.locator('#order-result').filter({ hasText: /./ }).waitFor()
      expect(await page.locator('#order-result').textContent()).not.toBe('Order placed.')
      expect(await page.locator('#orders li').count()).toBe(0)
      await usable(page)
      await shot(page, `05-ended-${width}`)

      // Back to the console: the sign-in page says the impersonation ended (the API tells how
      // only to a session; the return secret cannot bring back an ended impersonation).
      await alert.getByRole('link', { name: 'Back to the console' }).click()
      await page.waitForURL(/\/sign-in/)
      await page
        .getByTestId('acting-notice')
        .getByText('Your impersonation has ended. Sign in again to continue.')
        .waitFor()
      expect(await page.getByTestId('acting-notice').textContent()).not.toContain(name)
      await usable(page)
      await shot(page, `06-back-signed-out-${width}`)
      // Signed in again: back on the same search, told who ended it and why.
      await page.getByLabel('Email or username').fill(admin.identifier)
      await page.getByLabel('Password').fill(admin.password)
      await page.getByRole('button', { name: 'Sign in', exact: true }).click()
      await page.waitForURL(`${e2e.stack.url}/users?q=${encodeURIComponent(colleagueSearch)}`)
      await page
        .getByTestId('acting-notice')
        .getByText(
          `Ended by grace@support.actas.test: Ended by a colleague (host e2e). You are no longer acting as ${name}.`,
        )
        .waitFor()
      expect(await page.getByLabel('Search users').inputValue()).toBe(colleagueSearch)
      await page.locator('#users-results[aria-busy="false"]').waitFor()
      await usable(page)
      await shot(page, `07-told-after-sign-in-${width}`)
      expect(pageErrors).toEqual([])
    })
  },
)
