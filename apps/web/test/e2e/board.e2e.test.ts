// @vitest-environment node
// Active now and the audit timeline in real Chromium over the whole local stack: staff member A
// starts an impersonation through the API, staff member B sees it on Active now and ends it by
// keyboard alone, and the audit page's timeline says who ended it and why. Plus both pages at
// 1280 and 390 px, light and dark: axe-core clean, no sideways scroll, the actions on screen.
import { fileURLToPath } from 'node:url'
import { createFapiClient } from '@actas/clerk-local'
import { createActAsClient } from '@actas/contracts/client'
import type { Locator, Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { useE2e } from '../support/e2e.ts'
import { layoutProblems, pageOpener } from './page-checks.ts'

const ARTIFACTS = fileURLToPath(new URL('../../test-results/e2e/board/', import.meta.url))

const e2e = useE2e({ users: 300, artifacts: ARTIFACTS })
const pageErrors: string[] = []

const newPage = pageOpener(e2e, pageErrors)

/** Sam, the seeded agent, made a Support admin: a second staff member with the permission. */
function promoteSam(): void {
  const sam = e2e.stack.account('agent')
  const membership = e2e.stack.clerk.state.membershipsOfUser(sam.userId)[0]!
  e2e.stack.clerk.state.setMembershipRole(membership, 'admin')
}

async function signIn(page: Page, role: 'admin' | 'agent'): Promise<void> {
  await e2e.signIn(page, role)
  await page.waitForURL(/\/users/)
}

/**
 * Staff member A (the admin) starts an impersonation through the API; the ticket becomes a
 * session (a ticket sign-in over the Frontend API) and reports it, as the console does.
 */
async function liveImpersonation(reason: string, nth = 0) {
  const a = await e2e.stack.apiAs('admin')
  const customers = await a.users.search.query({ query: 'example.com', limit: 20 })
  const customer = customers.items.filter((u) => u.impersonation.allowed)[nth]!
  const started = await a.impersonation.start.mutate({ userId: customer.id, reason })
  const fapi = createFapiClient({
    frontendApiUrl: e2e.stack.clerk.frontendApiUrl,
    origin: e2e.stack.url,
  })
  const session = await fapi.signInWithTicket(started.ticket)
  const asCustomer = createActAsClient({
    url: `${e2e.stack.apiUrl}/trpc`,
    getToken: () => fapi.getToken(session.sessionId),
  })
  await asCustomer.impersonation.signedIn.mutate({
    sessionToken: await fapi.getToken(session.sessionId),
  })
  return { id: started.impersonationId, customer, asCustomer }
}

const focusedLabel = (page: Page) =>
  page.evaluate(() => {
    const el = (
      globalThis as unknown as {
        document: {
          activeElement: { id: string; getAttribute(n: string): string | null } | null
        }
      }
    ).document.activeElement
    return { id: el?.id ?? '', label: el?.getAttribute('aria-label') ?? '' }
  })

/** Screenshot, axe, sideways scroll and "is it on screen" checks; returns the problems found. */
async function check(page: Page, name: string, mustSee: Locator[]): Promise<string[]> {
  const { width } = page.viewportSize()!
  await page.screenshot({ path: `${ARTIFACTS}${name}-${width}.png`, fullPage: true })
  return layoutProblems(page, `${name} ${width}`, mustSee)
}

beforeAll(async () => {
  promoteSam()
}, 120_000)

describe('Active now and the audit timeline in Chromium', { timeout: 120_000 }, () => {
  it('A starts an impersonation through the API; B sees it on Active now, ends it by keyboard with a reason; the audit timeline says who and why', async () => {
    const reason = 'Board e2e: checking the invoices page'
    const live = await liveImpersonation(reason)
    const sam = e2e.stack.account('agent')
    const customerEmail = live.customer.primaryEmail!

    const page = await newPage(1280)
    await signIn(page, 'agent')
    await page.getByRole('link', { name: 'Active now' }).click()
    await page.waitForURL(/\/active$/)
    const card = page.locator(`li[data-impersonation-id="${live.id}"]`)
    await card.waitFor()
    expect(await card.getByTestId('active-actor').textContent()).toBe(
      e2e.stack.account('admin').identifier,
    )
    expect(await card.getByTestId('active-user').textContent()).toBe(customerEmail)
    expect(await card.textContent()).toContain(reason)
    await expect
      .poll(() => page.getByTestId('active-updated').textContent())
      .toMatch(/^Updated \d+ s ago$/)

    // keyboard only: Tab to the card's End, Enter, type the reason, Tab to the button, Enter
    const endLabel = `End ${e2e.stack.account('admin').identifier} acting as ${customerEmail}`
    let found = false
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab')
      found = (await focusedLabel(page)).label === endLabel
    }
    expect(found).toBe(true)
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    await expect.poll(async () => (await focusedLabel(page)).id).toBe('end-reason')
    await page.keyboard.type('Customer withdrew consent (e2e)')
    await page.keyboard.press('Tab') // Cancel
    await page.keyboard.press('Tab') // End impersonation
    await page.keyboard.press('Enter')
    await card.waitFor({ state: 'detached' })
    await dialog.waitFor({ state: 'hidden' })
    // focus stays in the page (the heading, as no card is left)
    await expect.poll(async () => (await page.locator(':focus').count()) > 0).toBe(true)
    await page.screenshot({ path: `${ARTIFACTS}active-after-end-1280.png`, fullPage: true })

    // the impersonated session is over: the API refuses it
    const refused = await live.asCustomer.me.query().then(
      () => false,
      () => true,
    )
    expect(refused).toBe(true)

    // the audit page: the row says it ended, and its timeline says by whom and why
    await page.getByRole('link', { name: 'Audit log' }).click()
    const row = page.locator(`tr[data-impersonation-id="${live.id}"]`)
    await row.waitFor()
    await expect.poll(() => row.locator('[class*="badge--status-"]').textContent()).toBe('Ended')
    await row.getByRole('button', { name: /^Timeline of/ }).focus()
    await page.keyboard.press('Enter')
    const timeline = page.locator(`#timeline-${live.id}`)
    await expect
      .poll(() => timeline.textContent())
      .toContain(`Ended by ${sam.identifier}: Customer withdrew consent (e2e)`)
    expect(
      await row.getByRole('button', { name: /^Timeline of/ }).getAttribute('aria-expanded'),
    ).toBe('true')
    await page.screenshot({ path: `${ARTIFACTS}audit-timeline-1280.png`, fullPage: true })
  })

  for (const width of [1280, 390] as const) {
    for (const scheme of ['light', 'dark'] as const) {
      it(`${width} px, ${scheme}: Active now, its End dialog and the audit timeline are axe-clean, fit the screen, actions on screen`, async () => {
        const live = await liveImpersonation(`Board layout check (${width} ${scheme})`, 1)
        const page = await newPage(width, scheme)
        await signIn(page, 'agent')
        await page.goto(`${e2e.stack.url}/active`)
        const card = page.locator(`li[data-impersonation-id="${live.id}"]`)
        await card.waitFor()
        const problems: string[] = []
        const end = card.getByRole('button', { name: /^End / })
        problems.push(...(await check(page, `active-${scheme}`, [end])))
        await end.click()
        const dialog = page.getByRole('dialog')
        problems.push(
          ...(await check(page, `active-end-dialog-${scheme}`, [
            dialog.getByRole('button', { name: 'End impersonation' }),
          ])),
        )
        await page.keyboard.press('Escape')
        await dialog.waitFor({ state: 'hidden' })
        expect(
          await page.evaluate(
            () =>
              (
                globalThis as unknown as {
                  document: { activeElement: { getAttribute(n: string): string | null } | null }
                }
              ).document.activeElement?.getAttribute('aria-label') ?? '',
          ),
        ).toMatch(/^End /)

        await card.getByRole('link', { name: /^Audit trail/ }).click()
        const timeline = page.locator(`#timeline-${live.id} [data-testid="timeline"]`)
        await timeline.waitFor()
        const row = page.locator(`tr[data-impersonation-id="${live.id}"]`)
        problems.push(
          ...(await check(page, `audit-timeline-${scheme}`, [
            row.getByRole('button', { name: /^End / }),
            row.getByRole('button', { name: /^Timeline of/ }),
          ])),
        )
        expect(problems).toEqual([])
        // leave nothing live for the next run
        const b = await e2e.stack.apiAs('admin')
        await b.impersonation.end.mutate({ impersonationId: live.id, reason: 'Layout check done' })
      })
    }
  }

  it('raised no uncaught error in any page', () => {
    expect(pageErrors).toEqual([])
  })
})
