// @vitest-environment node
// Access requests across the console (127.0.0.1) and the example customer application
// (localhost, examples/customer-app), in real Chromium, with the customer's consent required for
// the members of one organization (Globex, ACCESS_CONSENT_REQUIRED=organizations). At 1280 and
// 390 px each, axe clean on every page visited:
// staff asks in the console (the row offers Request access, naming the rule) → the customer,
// signed in to the application as themselves (a Clerk sign-in token, clerk-js's ticket
// strategy), approves on its Support access page → the console's dialog says Granted and starts
// from the grant → staff land in the application with its banner → the customer sees the session
// in their history → revokes → the staff member's application banner says ActAs ended it.
// One stack and one customer application for the file (useE2e + customer-app.ts), one browser
// context per person and width.
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { impersonationIdOf, signIn } from './browser.ts'
import { planCustomerApp, useCustomerApp } from './customer-app.ts'
import { pageOpener, shotIn, usable } from './page-checks.ts'
import type { ClerkLocal } from '@actas/clerk-local'
import { useE2e } from '../support/e2e.ts'

const ARTIFACTS = fileURLToPath(new URL('../../test-results/e2e/access/', import.meta.url))

/** The seeded customer organization whose members' consent is required. */
const globexOf = (clerk: ClerkLocal) =>
  [...clerk.state.organizations.values()].find((o) => o.slug === 'globex')!

const plan = await planCustomerApp()
const e2e = useE2e({
  users: 300,
  apiEnv: (clerk, consoleUrl) => ({
    ...plan.apiEnv(clerk, consoleUrl),
    ACCESS_CONSENT_REQUIRED: 'organizations',
    ACCESS_CONSENT_ORGANIZATIONS: globexOf(clerk).id,
  }),
  artifacts: ARTIFACTS,
})
const customerApp = useCustomerApp(plan, e2e)
const pageErrors: string[] = []
/** Figures measured on the way (printed at the end, never asserted). */
const figures: string[] = []
afterAll(() => {
  if (figures.length) console.log(`access e2e figures:\n${figures.join('\n')}`)
})

interface Customer {
  id: string
  email: string
}

/** Globex's ordinary members (not its admins), in a fixed order: one per width. */
function globexMembers(): Customer[] {
  const { clerk } = e2e.stack
  const org = globexOf(clerk)
  return [...clerk.state.memberships.values()]
    .filter((m) => m.organizationId === org.id && m.role === 'member')
    .map((m) => clerk.state.users.get(m.userId)!)
    .filter((u) => !u.banned && !u.locked)
    .map((u) => ({
      id: u.id,
      email: u.emailAddresses.find((e) => e.id === u.primaryEmailAddressId)!.emailAddress,
    }))
    .sort((a, b) => a.email.localeCompare(b.email))
}

const newPage = pageOpener(e2e, pageErrors)
const shot = shotIn(ARTIFACTS)

/**
 * The customer signs in to the application as themselves: a sign-in token from Clerk's Backend
 * API (as a host's own sign-in would issue), redeemed by clerk-js's ticket strategy in the page.
 */
async function signInCustomer(page: Page, customer: Customer): Promise<void> {
  const { clerk } = e2e.stack
  const res = await fetch(`${clerk.url}/v1/sign_in_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${clerk.secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: customer.id }),
  })
  expect(res.status).toBe(200)
  const { token } = (await res.json()) as { token: string }
  await page.goto(`${customerApp().url}/access.html`)
  await page.getByText('You are not signed in.').waitFor()
  await page.evaluate(async (ticket) => {
    const clerk = (
      globalThis as unknown as {
        Clerk: {
          client: {
            signIn: {
              create(p: { strategy: 'ticket'; ticket: string }): Promise<{
                createdSessionId: string | null
              }>
            }
          }
          setActive(p: { session: string | null }): Promise<void>
        }
      }
    ).Clerk
    const signInAttempt = await clerk.client.signIn.create({ strategy: 'ticket', ticket })
    await clerk.setActive({ session: signInAttempt.createdSessionId })
  }, token)
  await page.reload()
}

/** The application's banner (the host kit's `<actas-banner>`). */
const bannerOf = (page: Page) => page.getByRole('region', { name: 'Impersonation' })

const RUNS = [
  { width: 1280, index: 0 },
  { width: 390, index: 1 },
] as const

describe.each(RUNS)(
  "the customer's consent across the console and the application at $width px",
  { timeout: 300_000 },
  ({ width, index }) => {
    it('staff request → the customer approves in the application → staff impersonate from the grant → the customer sees it and revokes → the staff session ends', async () => {
      const customer = globexMembers()[index]!
      const admin = e2e.stack.account('admin')

      // The customer, signed in to the application, on its Support access page: nothing asked.
      const mine = await newPage(width)
      await signInCustomer(mine, customer)
      const access = mine.getByRole('region', { name: 'Support access to your account' })
      await access.getByText('No requests.').waitFor()
      await access.getByText('Nobody from support has acted as you.').waitFor()
      expect(await mine.getByRole('banner').textContent()).toContain('Signed in as')
      await usable(mine)
      await shot(mine, `01-customer-nothing-asked-${width}`)

      // Staff: the row offers Request access instead of Impersonate, naming the rule.
      const staff = await newPage(width)
      await signIn(staff, e2e.stack.url, admin)
      await staff.goto(`${e2e.stack.url}/users?q=${encodeURIComponent(customer.email)}`)
      await staff.locator('#users-results[aria-busy="false"]').waitFor()
      const row = staff.locator('tbody tr').filter({ hasText: customer.email })
      const name = (await row.locator('.user-cell__name').textContent())!.trim()
      expect(await row.getByRole('button', { name: 'Impersonate' }).count()).toBe(0)
      await expect(row.locator('.why-not').textContent()).resolves.toContain('Consent needed')
      await usable(staff)
      await shot(staff, `02-staff-consent-needed-${width}`)
      await row.getByRole('button', { name: /^Request access to / }).click()
      const request = staff.getByRole('dialog', { name: `Request access to ${name}` })
      await request.getByText("This user's consent is required").waitFor()
      const reason = `Customer cannot see her invoices (access e2e, ${width} px)`
      await request.getByLabel(/Reason/).fill(reason)
      await request.getByRole('radio', { name: 'Read-only' }).check()
      await request.getByRole('button', { name: 'Request access' }).click()
      await request.getByText("Waiting for a decision: the customer's consent.").waitFor()
      await usable(staff)
      await shot(staff, `03-staff-waiting-${width}`)

      // The customer sees the request (their page polls) and approves it.
      const asked = access.getByTestId('access-request')
      await asked.waitFor({ timeout: 30_000 })
      expect(await asked.textContent()).toContain(reason)
      expect(await asked.textContent()).toContain('read-only')
      await usable(mine)
      await shot(mine, `04-customer-asked-${width}`)
      const approvedAt = Date.now()
      await asked.getByRole('button', { name: 'Approve' }).click()
      await access.getByText('You approved the request.').waitFor()
      const granted = access.getByTestId('access-grant')
      await granted.waitFor()
      expect(await granted.textContent()).toMatch(/read-only until/)
      await usable(mine)

      // Staff: the dialog says Granted by itself, and starts from the grant.
      await request.getByText('Granted').waitFor({ timeout: 30_000 })
      figures.push(
        `${width} px: the customer's Approve → the console's dialog says Granted: ${Date.now() - approvedAt} ms`,
      )
      await usable(staff)
      await shot(staff, `05-staff-granted-${width}`)
      await request.getByRole('button', { name: 'Impersonate' }).click()
      const confirm = staff.getByRole('dialog', { name: /Impersonate/ })
      await confirm.getByLabel(/Reason/).fill(reason)
      await confirm.getByRole('radio', { name: /^Read-only/ }).check()
      await confirm.getByRole('button', { name: 'Confirm' }).click()

      // Staff land in the application as the customer, under the grant.
      await staff.waitForURL(`${customerApp().url}/**`)
      const banner = bannerOf(staff)
      await banner.getByText(`${admin.identifier} is acting as ${name}`).waitFor()
      expect(await banner.textContent()).toContain('Read-only')
      await staff.getByText('No orders yet.').waitFor()
      await usable(staff)
      await shot(staff, `06-staff-in-the-application-${width}`)
      const id = await impersonationIdOf(staff)

      // The customer sees who acts as them in their history (the page polls), live.
      const seen = access.locator(`[data-impersonation-id="${id}"]`)
      await seen.waitFor({ timeout: 30_000 })
      const line = (await seen.textContent()) ?? ''
      expect(line).toContain(reason)
      expect(line).toContain('Read-only')
      expect(line).toContain('(now)')
      await usable(mine)
      await shot(mine, `07-customer-history-${width}`)

      // The customer revokes: the staff member's application says ActAs ended it.
      const revokedAt = Date.now()
      await granted.getByRole('button', { name: 'Revoke' }).click()
      await access
        .getByText('Access revoked: any session support had under it has ended.')
        .waitFor()
      const alert = staff.getByRole('alert').filter({ hasText: 'ActAs ended this impersonation' })
      await alert.waitFor({ timeout: 10_000 })
      figures.push(
        `${width} px: the customer's Revoke → the staff member's banner says it ended: ${Date.now() - revokedAt} ms (bound 2,000 ms)`,
      )
      expect(await alert.textContent()).toContain(`no longer acting as ${name}`)
      await staff.getByRole('banner').getByText('Signed out: the impersonation ended').waitFor()
      expect(await e2e.stack.deps.audit.get(id)).toMatchObject({
        status: 'ended',
        mode: 'read_only',
      })
      await usable(staff)
      await shot(staff, `08-staff-ended-${width}`)

      // The customer's page: no grant left; the session stays in the history, ended.
      await access.getByText('None.').waitFor()
      await expect
        .poll(async () => (await seen.textContent()) ?? '', { timeout: 30_000 })
        .not.toContain('(now)')
      await usable(mine)
      await shot(mine, `09-customer-revoked-${width}`)
      expect(pageErrors).toEqual([])
    })
  },
)
