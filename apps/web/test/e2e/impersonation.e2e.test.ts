// @vitest-environment node
// The impersonation as a session, in real Chromium over the whole local stack (clerk-local with
// its webhooks to the API, the API over PGlite, the built console): Stop brings the staff member
// back to the users page without a password; a kill switch from a second staff member and a
// demotion in Clerk end the impersonation, and the impersonated tab says so by itself.
import { fileURLToPath } from 'node:url'
import { createActAsClient } from '@actas/contracts/client'
import type { Locator, Page, Response } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  axeViolations,
  confirmImpersonation,
  impersonationIdOf,
  sessionToken,
  signIn,
} from './browser.ts'
import { useE2e } from '../support/e2e.ts'

const ARTIFACTS = fileURLToPath(new URL('../../test-results/e2e/impersonation/', import.meta.url))

/** The element has the keyboard focus. */
function hasFocus(locator: Locator): Promise<boolean> {
  return locator.evaluate(
    (e) =>
      e ===
      (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
  )
}

const e2e = useE2e({ users: 300, artifacts: ARTIFACTS })
let supportOrgId: string
const pageErrors: string[] = []
/** Figures measured on the way (printed at the end, never asserted). */
const figures: string[] = []

/** `document` in the page (this tsconfig has no DOM lib). */
type PageDocument = {
  activeElement: { textContent: string | null; id: string; tagName: string } | null
  documentElement: { scrollWidth: number; clientWidth: number }
}

async function newPage(width = 1280): Promise<Page> {
  const context = await e2e.context({
    viewport: { width, height: width < 600 ? 844 : 800 },
    reducedMotion: 'reduce',
  })
  const page = await context.newPage()
  page.on('pageerror', (e) => pageErrors.push(e.message))
  return page
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true })
}

async function bapi<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${e2e.stack.clerk.url}/v1/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${e2e.stack.clerk.secretKey}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  expect(res.status, `${method} ${path}`).toBe(200)
  return (await res.json()) as T
}

/** A new staff member: a user with a password, admin of the support organization (BAPI). */
async function newStaffMember(local: string, firstName: string, lastName: string) {
  const identifier = `${local}@support.actas.test`
  const password = `${local}-e2e-password`
  const user = await bapi<{ id: string }>('POST', 'users', {
    email_address: [identifier],
    password,
    first_name: firstName,
    last_name: lastName,
  })
  await bapi('POST', `organizations/${supportOrgId}/memberships`, {
    user_id: user.id,
    role: 'org:admin',
  })
  return { identifier, password, userId: user.id }
}

/** Impersonates the first impersonable row of a search; returns the customer's name. */
async function impersonate(page: Page, query: string, reason: string): Promise<string> {
  const name = await confirmImpersonation(page, e2e.stack.url, query, reason, 'Full access')
  await page.waitForURL(`${e2e.stack.url}/`)
  await page.getByTestId('impersonation-banner').getByText('started by').waitFor()
  return name
}

/** Presses Tab until the focused element reads `text` (at most 20 times). */
async function tabTo(page: Page, text: string): Promise<void> {
  const focused = () =>
    page.evaluate(
      () =>
        (
          globalThis as unknown as { document: PageDocument }
        ).document.activeElement?.textContent?.trim() ?? '',
    )
  for (let i = 0; i < 20 && (await focused()) !== text; i++) await page.keyboard.press('Tab')
  expect(await focused()).toBe(text)
}

/** The next refused (401) `me` of the page's own polling, with its body. */
function refusedMe(page: Page): Promise<Response> {
  return page.waitForResponse(
    (r) => r.url().includes('/trpc/') && r.url().includes('me') && r.status() === 401,
    { timeout: 30_000 },
  )
}

beforeAll(async () => {
  supportOrgId = [...e2e.stack.clerk.state.organizations.values()].find(
    (o) => o.slug === 'support',
  )!.id
}, 120_000)

afterAll(async () => {
  if (figures.length) console.log(`impersonation e2e figures:\n${figures.join('\n')}`)
}, 60_000)

describe('impersonation as a session, in Chromium', { timeout: 120_000 }, () => {
  it('by keyboard alone: start → banner → Stop → back on the users page as the staff member, search kept, notice shown, no password', async () => {
    const page = await newPage(1280)
    const admin = e2e.stack.account('admin')
    await signIn(page, e2e.stack.url, admin)
    const navigations: string[] = []
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations.push(f.url())
    })
    await page.goto(`${e2e.stack.url}/users?q=gmail.com&page=2`)
    await page
      .getByTestId('result-count')
      .filter({ hasText: /^21–40 of/ })
      .waitFor()
    // Keyboard only from here: "/" to the search box, ArrowDown into the table, Enter on a row.
    await page.keyboard.press('/')
    await page.keyboard.press('ArrowDown')
    const focusedRow = page.locator('tbody tr:focus')
    await focusedRow.waitFor()
    // Walk down to a row that may be impersonated.
    for (let i = 0; i < 20 && (await focusedRow.getByRole('button').count()) === 0; i++)
      await page.keyboard.press('ArrowDown')
    const name = (await focusedRow.locator('.user-cell__name').textContent())!.trim()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    await page.keyboard.type('Customer cannot download invoices (keyboard e2e)')
    // Tab to the Access group (nothing preselected: the staff member picks), Space on Full.
    const full = page.getByRole('radio', { name: /Full access/ })
    const readOnly = page.getByRole('radio', { name: /Read-only/ })
    for (let i = 0; i < 10 && !(await hasFocus(full)); i++)
      await page.keyboard.press((await hasFocus(readOnly)) ? 'ArrowDown' : 'Tab')
    await page.keyboard.press('Space')
    expect(await full.isChecked()).toBe(true)
    // Tab to Confirm (past the session length and Cancel).
    await tabTo(page, 'Confirm')
    await page.keyboard.press('Enter')
    await page.waitForURL(`${e2e.stack.url}/`)
    const banner = page.getByTestId('impersonation-banner')
    await banner.getByText('started by').waitFor()
    expect(await banner.textContent()).toContain(`You are acting as ${name}`)
    // The tab keeps the way back; the API recorded the sign-in the console reported.
    const id = await impersonationIdOf(page)
    await expect.poll(async () => (await e2e.stack.deps.audit.get(id))?.status).toBe('signed_in')
    const kept = await page.evaluate(() =>
      (
        globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }
      ).sessionStorage.getItem('actas.return'),
    )
    expect(JSON.parse(kept!)).toMatchObject({
      impersonationId: id,
      returnTo: '/users?q=gmail.com&page=2',
    })
    // Tab to the banner's Stop; Enter.
    await tabTo(page, 'Stop')
    await shot(page, '01-banner-keyboard')
    await page.keyboard.press('Enter')

    await page.waitForURL(`${e2e.stack.url}/users?q=gmail.com&page=2`)
    const notice = page.getByTestId('acting-notice')
    await expect
      .poll(() => notice.textContent())
      .toMatch(new RegExp(`^\\s*Stopped acting as ${name} after \\d+ s\\s*$`))
    // The search is back, as the admin, and the sign-in page was never shown.
    await page
      .getByTestId('result-count')
      .filter({ hasText: /^21–40 of/ })
      .waitFor()
    expect(await page.getByLabel('Search users').inputValue()).toBe('gmail.com')
    expect(await banner.count()).toBe(0)
    expect(navigations.filter((u) => u.includes('/sign-in'))).toEqual([])
    expect(await axeViolations(page)).toEqual([])
    await shot(page, '02-users-after-stop')
    // The secret was single use: gone from the tab; the audit row says the actor stopped it.
    expect(
      await page.evaluate(() =>
        (
          globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }
        ).sessionStorage.getItem('actas.return'),
      ),
    ).toBeNull()
    expect(await e2e.stack.deps.audit.get(id)).toMatchObject({
      status: 'ended',
      endCause: 'stopped_by_actor',
      endedBy: admin.userId,
    })
  })

  it("a second staff member's kill switch: the impersonated tab says who ended it and why, by itself, and its API calls are refused", async () => {
    const page = await newPage(390)
    await signIn(page, e2e.stack.url, e2e.stack.account('admin'))
    const name = await impersonate(page, 'yahoo', 'Checking the kill switch (e2e)')
    const id = await impersonationIdOf(page)
    await shot(page, '03-banner-390')

    // Grace, another staff member, in her own browser context.
    const grace = await newStaffMember('grace.e2e', 'Grace', 'Hopper')
    const other = await newPage(1280)
    await signIn(other, e2e.stack.url, grace)
    const graceApi = createActAsClient({
      url: `${e2e.stack.apiUrl}/trpc`,
      getToken: () => sessionToken(other),
    })
    const refused = refusedMe(page)
    const endedAt = Date.now()
    await graceApi.impersonation.end.mutate({
      impersonationId: id,
      reason: 'Customer withdrew consent',
    })
    const ended = page.getByTestId('impersonation-ended')
    await ended.waitFor({ timeout: 30_000 })
    figures.push(`kill switch → banner in the impersonated tab: ${Date.now() - endedAt} ms`)
    expect((await ended.textContent())?.trim()).toBe(
      `Ended by ${grace.identifier}: Customer withdrew consent`,
    )
    // The tab's own API calls are refused, saying how it ended.
    const response = await refused
    const body = (await response.json()) as { error?: { message?: string; data?: object } }[]
    expect(JSON.stringify(body)).toContain(`ended by ${grace.userId}: Customer withdrew consent`)
    expect(body[0]?.error?.data).toMatchObject({
      actasCode: 'UNAUTHENTICATED',
      impersonationEnded: { impersonationId: id, endedBy: { email: grace.identifier } },
    })
    expect(await axeViolations(page)).toEqual([])
    // Nothing scrolls sideways at 390 px, and the way back is on screen.
    expect(
      await page.evaluate(() => {
        const root = (globalThis as unknown as { document: PageDocument }).document.documentElement
        return root.scrollWidth - root.clientWidth
      }),
    ).toBe(0)
    const back = page.getByRole('button', { name: 'Back to the console' })
    expect((await back.boundingBox())!.x + (await back.boundingBox())!.width).toBeLessThanOrEqual(
      390,
    )
    await shot(page, '04-ended-by-staff-390')

    await back.click()
    await page.waitForURL(/\/sign-in/)
    await expect
      .poll(() => page.getByTestId('acting-notice').textContent())
      .toContain(`Ended by ${grace.identifier}: Customer withdrew consent. Sign in`)
    expect(await page.getByLabel('Email or username').inputValue()).toBe(
      e2e.stack.account('admin').identifier,
    )
    expect(name).not.toBe('')
    await shot(page, '05-sign-in-after-kill-switch-390')
  })

  it("a demoted staff member's impersonation ends by itself: the tab shows the policy cause", async () => {
    const demoted = await newStaffMember('demoted.e2e', 'Dana', 'Demoted')
    const page = await newPage(1280)
    await signIn(page, e2e.stack.url, demoted)
    await impersonate(page, 'hotmail', 'Checking a demotion ends it (e2e)')
    const id = await impersonationIdOf(page)

    // An administrator removes the permission in Clerk (Backend API); the webhook reaches ActAs.
    const demotedAt = Date.now()
    await bapi('PATCH', `organizations/${supportOrgId}/memberships/${demoted.userId}`, {
      role: 'org:member',
    })
    const ended = page.getByTestId('impersonation-ended')
    await ended.waitFor({ timeout: 60_000 })
    figures.push(`demotion in Clerk → banner in the impersonated tab: ${Date.now() - demotedAt} ms`)
    expect((await ended.textContent())?.trim()).toBe(
      'Ended by policy: the staff member lost the impersonate permission',
    )
    expect(await e2e.stack.deps.audit.get(id)).toMatchObject({
      status: 'ended',
      endCause: 'actor_lost_permission',
      endedBy: 'system',
    })
    await shot(page, '06-ended-by-policy')
  })

  it('Stop in another tab of the same session (no secret there) still ends it, and lands on sign-in saying why', async () => {
    const page = await newPage(1280)
    await signIn(page, e2e.stack.url, e2e.stack.account('admin'))
    const name = await impersonate(page, 'outlook', 'Checking Stop from a second tab (e2e)')
    const id = await impersonationIdOf(page)
    const tab = await page.context().newPage()
    tab.on('pageerror', (e) => pageErrors.push(e.message))
    await tab.goto(`${e2e.stack.url}/`)
    const banner = tab.getByTestId('impersonation-banner')
    await banner.getByText('started by').waitFor()
    await banner.getByRole('button', { name: 'Stop' }).click()
    await tab.waitForURL(/\/sign-in/)
    await expect
      .poll(() => tab.getByTestId('acting-notice').textContent())
      .toMatch(
        new RegExp(
          `Stopped acting as ${name} after \\d+ s\\. Only the tab that started the impersonation can take you back without a password\\.`,
        ),
      )
    expect(await tab.getByLabel('Email or username').inputValue()).toBe(
      e2e.stack.account('admin').identifier,
    )
    expect(await e2e.stack.deps.audit.get(id)).toMatchObject({
      status: 'ended',
      endCause: 'stopped_by_actor',
    })
    await shot(tab, '07-sign-in-after-stop-in-another-tab')
  })

  it('other console tabs say "You are acting as X in another tab", never drop to sign-in, and come back by themselves after Stop', async () => {
    const page = await newPage(1280)
    await signIn(page, e2e.stack.url, e2e.stack.account('admin'))
    const other = await page.context().newPage()
    other.on('pageerror', (e) => pageErrors.push(e.message))
    const navigations: string[] = []
    other.on('framenavigated', (f) => {
      if (f === other.mainFrame()) navigations.push(f.url())
    })
    await other.goto(`${e2e.stack.url}/active`)
    await other.getByRole('heading', { name: 'Active now' }).waitFor()

    const name = await impersonate(page, 'yahoo', 'Checking the other tabs (e2e)')
    const notice = other.getByTestId('acting-elsewhere')
    await expect
      .poll(() => notice.textContent())
      .toMatch(new RegExp(`You are acting as ${name} in another tab\\.`))
    // Its staff session ended with the ticket sign-in (one Clerk client per browser): at its
    // next token refresh (forced here instead of waiting up to a minute) clerk-js drops it.
    await other.evaluate(() =>
      (
        globalThis as unknown as {
          Clerk: { session: { getToken(o: object): Promise<unknown> } | null }
        }
      ).Clerk.session
        ?.getToken({ skipCache: true })
        .catch(() => undefined),
    )
    await expect
      .poll(() =>
        other.evaluate(
          () => (globalThis as unknown as { Clerk: { session: unknown } }).Clerk.session ?? null,
        ),
      )
      .toBeNull()
    expect(other.url()).toBe(`${e2e.stack.url}/active`)
    expect(await notice.textContent()).toContain(`You are acting as ${name} in another tab.`)
    expect(await axeViolations(other)).toEqual([])
    await shot(other, '08-other-tab-while-acting')

    await page.getByTestId('impersonation-banner').getByRole('button', { name: 'Stop' }).click()
    await page.waitForURL(/\/users/)
    // The other tab loads again by itself: signed in as the staff member, on its page.
    await other.getByRole('heading', { name: 'Active now' }).waitFor()
    await other.getByRole('button', { name: 'Sign out' }).waitFor()
    expect(await notice.count()).toBe(0)
    expect(other.url()).toBe(`${e2e.stack.url}/active`)
    expect(navigations.filter((u) => u.includes('/sign-in'))).toEqual([])
  })

  it('raised no uncaught error in any page', () => {
    expect(pageErrors).toEqual([])
  })
})
