// @vitest-environment node
// Every page of the console in real Chromium, light and dark, at 1280 and 390 px: axe-core
// (injected into the page) finds no serious or critical violation, the page never scrolls
// sideways, and each page's main action is on screen. Plus the keyboard and timeout scenarios.
// Screenshots go to test-results/e2e/pages/.
import { fileURLToPath } from 'node:url'
import type { Locator, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { useE2e } from '../support/e2e.ts'
import { focusedId } from './browser.ts'
import { layoutProblems, overflow, pageOpener, withinWidth } from './page-checks.ts'

const ARTIFACTS = fileURLToPath(new URL('../../test-results/e2e/pages/', import.meta.url))

const WIDTHS = [1280, 390] as const
const SCHEMES = ['light', 'dark'] as const

const e2e = useE2e({ users: 300, artifacts: ARTIFACTS })
/** Every page error of every page. */
const pageErrors: string[] = []

const newPage = pageOpener(e2e, pageErrors)

/** Screenshot, axe and layout checks of one page state; returns the problems found. */
async function check(page: Page, name: string, mustSee: Locator[]): Promise<string[]> {
  const { width } = page.viewportSize()!
  const scheme = await page.evaluate(() =>
    (globalThis as unknown as { matchMedia(q: string): { matches: boolean } }).matchMedia(
      '(prefers-color-scheme: dark)',
    ).matches
      ? 'dark'
      : 'light',
  )
  await page.screenshot({ path: `${ARTIFACTS}${name}-${width}-${scheme}.png`, fullPage: true })
  await page.screenshot({ path: `${ARTIFACTS}${name}-${width}-${scheme}-viewport.png` })
  return layoutProblems(page, `${name} ${width} ${scheme}`, mustSee)
}

async function signIn(page: Page, role: 'admin' | 'agent'): Promise<void> {
  await e2e.signIn(page, role)
  await page.waitForURL(role === 'admin' ? /\/users/ : /\/no-access/)
}

describe('every page, light and dark, at 1280 and 390 px', { timeout: 180_000 }, () => {
  for (const width of WIDTHS) {
    for (const scheme of SCHEMES) {
      it(`${width} px, ${scheme}: no serious/critical axe violation, no sideways scroll, actions on screen`, async () => {
        const problems: string[] = []
        const page = await newPage(width, scheme)

        await page.goto(`${e2e.stack.url}/sign-in`)
        await page.getByRole('heading', { name: 'Sign in to ActAs' }).waitFor()
        problems.push(
          ...(await check(page, 'sign-in', [
            page.getByRole('button', { name: 'Sign in', exact: true }),
          ])),
        )
        await page.goto(`${e2e.stack.url}/no-such-page`)
        await page.getByRole('heading', { name: 'Page not found' }).waitFor()
        problems.push(...(await check(page, 'not-found', [])))

        await signIn(page, 'admin')
        await page.getByTestId('result-count').filter({ hasText: /of/ }).waitFor()
        const action = page
          .locator('tbody tr')
          .getByRole('button', { name: /Impersonate/ })
          .first()
        problems.push(
          ...(await check(page, 'users', [
            page.getByRole('button', { name: 'Sign out' }),
            action,
            page.getByRole('button', { name: 'Next' }),
          ])),
        )
        // a row that may not be impersonated says why, on screen
        await page.getByLabel('Search users').fill(e2e.stack.account('banned').identifier)
        const banned = page.locator('tbody tr', { hasText: e2e.stack.account('banned').identifier })
        await banned.waitFor()
        await banned.focus()
        problems.push(...(await check(page, 'users-why-not', [banned.locator('.why-not__full')])))
        await page.getByLabel('Search users').fill('')
        await page
          .getByTestId('result-count')
          .filter({ hasText: /^1–20 of/ })
          .waitFor()

        await action.click()
        const dialog = page.getByRole('dialog')
        await dialog.getByLabel(/Reason/).fill('Checking the layout of every page (e2e)')
        problems.push(
          ...(await check(page, 'impersonate-dialog', [
            dialog.getByRole('button', { name: 'Confirm' }),
          ])),
        )
        await dialog.getByRole('button', { name: 'Cancel' }).click()

        await page.getByRole('link', { name: 'Audit log' }).click()
        // (the first run sees an empty log, the others rows: both are checked)
        await page.locator('tbody tr, [data-testid="audit-empty"]').first().waitFor()
        problems.push(
          ...(await check(page, 'audit', [page.getByRole('button', { name: 'Filter' })])),
        )

        // impersonate: home as the customer, with the banner and its Stop
        await page.getByRole('link', { name: 'Users' }).click()
        await action.click()
        await dialog.getByLabel(/Reason/).fill('Checking the layout of every page (e2e)')
        await dialog.getByRole('radio', { name: /Full access/ }).check()
        await dialog.getByRole('button', { name: 'Confirm' }).click()
        await page.waitForURL(`${e2e.stack.url}/`)
        const banner = page.getByTestId('impersonation-banner')
        await banner.getByText('started by').waitFor()
        problems.push(
          ...(await check(page, 'home-impersonating', [
            banner.getByRole('button', { name: 'Stop' }),
          ])),
        )
        await page.goto(`${e2e.stack.url}/users`)
        await page.waitForURL(/\/no-access/)
        await page.getByRole('heading', { level: 1 }).waitFor()
        problems.push(
          ...(await check(page, 'users-while-impersonating', [
            banner.getByRole('button', { name: 'Stop' }),
          ])),
        )
        // Stop: back on the users page as the admin (this tab started it), with the notice
        await banner.getByRole('button', { name: 'Stop' }).click()
        await page.waitForURL(/\/users/)
        const notice = page.getByTestId('acting-notice')
        await notice.waitFor()
        problems.push(...(await check(page, 'users-after-stop', [notice])))
        await page.getByRole('button', { name: 'Sign out' }).click()
        await page.waitForURL(/\/sign-in/)

        await signIn(page, 'agent')
        await page.getByRole('heading', { name: "You don't have access" }).waitFor()
        problems.push(
          ...(await check(page, 'no-access', [page.getByRole('button', { name: 'Sign out' })])),
        )

        expect(problems).toEqual([])
      })
    }
  }
})

describe('long names and emails', { timeout: 120_000 }, () => {
  it('the users table does not scroll sideways at 1280 px (nor at 390 px) with a long email and name', async () => {
    const local = 'maximiliana.alexandrina.vanderbilt-featherstonehaugh.escalations'
    const res = await fetch(`${e2e.stack.clerk.url}/v1/users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${e2e.stack.clerk.secretKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        email_address: [`${local}@very-long-subdomain.enterprise-customer-example.co.uk`],
        first_name: 'Maximiliana Alexandrina Konstantinopoulou',
        last_name: 'Vanderbilt-Featherstonehaugh-Montgomery',
        password: 'long-email-e2e-password',
      }),
    })
    expect(res.status).toBe(200)
    for (const width of WIDTHS) {
      const page = await newPage(width)
      await signIn(page, 'admin')
      // the long row (newest first) among ordinary ones
      await page.goto(`${e2e.stack.url}/users?q=example.co`)
      const row = page.locator('tbody tr', { hasText: 'Maximiliana' })
      await row.waitFor()
      expect(await page.locator('tbody tr').count()).toBeGreaterThan(1)
      const wrap = await page.locator('.table-wrap').evaluate((e) => {
        const box = e as unknown as { scrollWidth: number; clientWidth: number }
        return box.scrollWidth - box.clientWidth
      })
      expect({ width, table: wrap, page: await overflow(page) }).toEqual({
        width,
        table: 0,
        page: 0,
      })
      expect(await withinWidth(page, row.getByRole('button', { name: /^Impersonate/ }))).toBe(true)
      // the whole email is still there for whoever needs it (the row's label and the title)
      expect(await row.getAttribute('aria-label')).toContain(`${local}@`)
      await page.screenshot({ path: `${ARTIFACTS}users-long-email-${width}.png` })
    }
  })
})

describe('keyboard only', { timeout: 120_000 }, () => {
  it('the results are one Tab stop; arrows go row by row; Enter opens the dialog; paging keeps focus in the table', async () => {
    const page = await newPage(1280)
    await signIn(page, 'admin')
    const count = page.getByTestId('result-count')
    await count.filter({ hasText: /^1–20 of/ }).waitFor()
    await page.getByLabel('Search users').focus()
    await page.keyboard.press('Tab') // the sort
    await page.keyboard.press('Tab') // the table: its first row
    const focused = () =>
      page.evaluate(() => {
        const el = (
          globalThis as unknown as {
            document: {
              activeElement: {
                getAttribute(n: string): string | null
                textContent: string | null
              } | null
            }
          }
        ).document.activeElement
        return {
          index: el?.getAttribute('data-index') ?? null,
          text: el?.textContent?.trim() ?? '',
        }
      })
    expect((await focused()).index).toBe('0')
    const order: string[] = []
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('ArrowDown')
      order.push((await focused()).index!)
    }
    expect(order).toEqual(['1', '2', '3', '4', '5'])
    await page.keyboard.press('End')
    expect((await focused()).index).toBe('19')
    await page.keyboard.press('Home')
    expect((await focused()).index).toBe('0')
    // one more Tab leaves the table for the pagination
    await page.keyboard.press('Tab')
    expect((await focused()).text).toBe('Previous')
    await page.keyboard.press('Tab')
    expect((await focused()).text).toBe('Next')
    await page.keyboard.press('Enter')
    await count.filter({ hasText: /^21–40 of/ }).waitFor()
    await expect.poll(async () => (await focused()).index).toBe('0')
    // Enter on a row opens the dialog on the reason; Escape closes it
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    await expect.poll(() => focusedId(page)).toBe('impersonate-reason')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
  })
})

describe('when the back end does not answer', { timeout: 120_000 }, () => {
  it('sign-in gives up within 10 s with a clear error and Try again, which works once Clerk answers', async () => {
    const page = await newPage(1280)
    const account = e2e.stack.account('admin')
    let hang = true
    await page.route('**/__clerk/v1/client/sign_ins**', async (route) => {
      if (hang) return // never answered
      await route.continue()
    })
    await page.goto(`${e2e.stack.url}/sign-in`)
    await page.getByLabel('Email or username').fill(account.identifier)
    await page.getByLabel('Password').fill(account.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    const alert = page.getByRole('alert')
    await alert.getByText('Clerk did not answer in time').waitFor({ timeout: 15_000 })
    await page.screenshot({ path: `${ARTIFACTS}sign-in-timeout-1280-light.png` })
    hang = false
    await alert.getByRole('button', { name: 'Try again' }).click()
    await page.waitForURL(/\/users/)
  })

  it('the users page says the API cannot be reached, and Try again recovers', async () => {
    const page = await newPage(390)
    await signIn(page, 'admin')
    await page.getByTestId('result-count').filter({ hasText: /of/ }).waitFor()
    let stopped = true
    await page.route('**/trpc/**', (route) =>
      stopped ? route.abort('connectionrefused') : route.continue(),
    )
    await page.getByLabel('Search users').fill('gmail')
    const alert = page.getByRole('alert')
    await alert.getByText('ActAs unreachable').waitFor()
    await page.screenshot({ path: `${ARTIFACTS}users-api-stopped-390-light.png`, fullPage: true })
    stopped = false
    await alert.getByRole('button', { name: 'Try again' }).click()
    await page.getByTestId('result-count').filter({ hasText: /of/ }).waitFor()
  })

  it('raised no uncaught error in any page', () => {
    expect(pageErrors).toEqual([])
  })
})
