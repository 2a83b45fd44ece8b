// @vitest-environment node
// Step-up and read-only in real Chromium over the whole local stack (clerk-local + API + built
// console), STEP_UP_MINUTES at its default (10): a staff member whose password was entered 30
// minutes ago clicks Impersonate once, is asked for the password, enters it, and the
// impersonation starts by itself, read-only as chosen by keyboard; Cancel returns to the dialog.
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { useE2e } from '../support/e2e.ts'
import { focusedId } from './browser.ts'

const ARTIFACTS = fileURLToPath(new URL('../../test-results/e2e/', import.meta.url))

const e2e = useE2e({ users: 300, artifacts: ARTIFACTS })
const consoleLines: string[] = []
/** Every request URL, and every impersonation.start answer's HTTP status, of every page. */
const requested: string[] = []
const starts: number[] = []
let customerCursor = 0

async function newPage(): Promise<Page> {
  const context = await e2e.context({ viewport: { width: 1280, height: 800 } })
  context.on('request', (req) => requested.push(req.url()))
  const page = await context.newPage()
  page.on('console', (m) => consoleLines.push(m.text()))
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`))
  page.on('response', (res) => {
    if (res.url().includes('/trpc/impersonation.start')) starts.push(res.status())
  })
  return page
}

/** A customer anyone may impersonate, not used by an earlier test. */
function nextCustomer() {
  const staff = new Set(e2e.stack.clerk.accounts.map((a) => a.userId))
  const customers = [...e2e.stack.clerk.state.users.values()].filter(
    (u) =>
      !staff.has(u.id) &&
      !u.banned &&
      !u.locked &&
      u.emailAddresses.length > 0 &&
      e2e.stack.clerk.state.membershipsOfUser(u.id).length === 0,
  )
  const user = customers[customerCursor++]
  if (!user) throw new Error('out of customers')
  return { id: user.id, email: user.emailAddresses[0]!.emailAddress }
}

/** Signs the admin in, then makes the server believe the password was typed 30 minutes ago. */
async function adminWithStalePassword(page: Page): Promise<void> {
  const admin = e2e.stack.account('admin')
  await e2e.signIn(page, admin)
  await page.waitForURL(/\/users/)
  const session = [...e2e.stack.clerk.state.sessions.values()]
    .filter((s) => s.userId === admin.userId)
    .sort((a, b) => b.createdAt - a.createdAt)[0]!
  session.firstFactorVerifiedAt -= 30 * 60_000
  // clerk-js caches the session token for up to a minute: a reload takes a fresh one, whose
  // `fva` says 30 minutes.
  await page.reload()
  await page.getByTestId('quota-meter').waitFor()
}

async function openDialogFor(page: Page, email: string) {
  await page.goto(`${e2e.stack.url}/users?q=${encodeURIComponent(email)}`)
  const row = page.locator('tbody tr', { hasText: email }).first()
  await row.getByRole('button', { name: 'Impersonate' }).click()
  const dialog = page.getByRole('dialog', { name: /^Impersonate/ })
  await dialog.getByLabel(/Reason/).fill('Customer reports missing invoices (step-up e2e)')
  return dialog
}

describe('step-up before a ticket, in Chromium', { timeout: 90_000 }, () => {
  it('a stale password: one click on Confirm, the password, then the impersonation starts by itself (read-only)', async () => {
    const page = await newPage()
    await adminWithStalePassword(page)
    const customer = nextCustomer()
    const dialog = await openDialogFor(page, customer.email)

    // The mode by keyboard: nothing preselected; on Full, ArrowUp checks Read-only.
    const full = dialog.getByRole('radio', { name: /Full access/ })
    const readOnly = dialog.getByRole('radio', { name: /Read-only/ })
    expect(await full.isChecked()).toBe(false)
    expect(await readOnly.isChecked()).toBe(false)
    await full.focus()
    await page.keyboard.press('Space')
    expect(await full.isChecked()).toBe(true)
    await page.keyboard.press('ArrowUp')
    expect(await readOnly.isChecked()).toBe(true)

    starts.length = 0
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    const reverify = page.getByRole('dialog', { name: 'Confirm it’s you' })
    await reverify.waitFor()
    await expect.poll(() => reverify.textContent()).toContain('within the last 10 minutes')
    await page.screenshot({ path: `${ARTIFACTS}step-up-01-password.png` })
    // The password field has the focus.
    await expect.poll(() => focusedId(page)).toBe('reverify-password')
    await page.keyboard.type(e2e.stack.account('admin').password)
    await page.keyboard.press('Enter')

    // No second click: the start runs again and the ticket signs this tab in.
    await page.waitForURL(`${e2e.stack.url}/`)
    const banner = page.getByTestId('impersonation-banner')
    await expect.poll(() => banner.textContent()).toMatch(/You are acting as .+ · read-only · /)
    await page.screenshot({ path: `${ARTIFACTS}step-up-02-read-only-banner.png` })
    expect(starts).toEqual([403, 200])
    // One impersonation (no second start), signed in once the console reports its sign-in.
    await expect
      .poll(async () =>
        (await e2e.stack.deps.audit.list({ userId: customer.id, limit: 5 })).rows.map((r) => [
          r.status,
          r.mode,
        ]),
      )
      .toEqual([['signed_in', 'read_only']])
    // The password went to Clerk's Frontend API only, never in a URL.
    expect(requested.some((u) => u.includes(e2e.stack.account('admin').password))).toBe(false)
  })

  it('Cancel returns to the Impersonate dialog, which says the impersonation did not start', async () => {
    const page = await newPage()
    await adminWithStalePassword(page)
    const customer = nextCustomer()
    const dialog = await openDialogFor(page, customer.email)
    await dialog.getByRole('radio', { name: /Full access/ }).check()
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    const reverify = page.getByRole('dialog', { name: 'Confirm it’s you' })
    await reverify.waitFor()
    await reverify.getByRole('button', { name: 'Cancel' }).click()
    await reverify.waitFor({ state: 'hidden' })
    await expect
      .poll(() => dialog.getByTestId('impersonate-error').textContent())
      .toContain('confirming your password was cancelled')
    expect(await dialog.getByLabel(/Reason/).inputValue()).toBe(
      'Customer reports missing invoices (step-up e2e)',
    )
    expect(page.url()).toContain('/users')
    expect((await e2e.stack.deps.audit.list({ userId: customer.id, limit: 5 })).rows).toEqual([])
    expect(consoleLines.filter((l) => l.startsWith('pageerror'))).toEqual([])
  })
})
