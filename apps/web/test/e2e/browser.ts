// Page helpers the Chromium e2e files share (the host-app and impersonation scenarios): axe,
// the console's sign-in, and the page's Clerk session token and impersonation id.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
)

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[]
}

/**
 * axe-core's serious and critical violations on the page as it is now, as lines (rule, impact,
 * help, the elements). axe is injected once per document (again after a navigation).
 */
export async function axeViolations(page: Page): Promise<string[]> {
  const loaded = await page.evaluate(() => 'axe' in globalThis)
  if (!loaded) await page.addScriptTag({ content: AXE_SOURCE })
  const result = (await page.evaluate(() =>
    (globalThis as unknown as { axe: { run(): Promise<unknown> } }).axe.run(),
  )) as AxeResult
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    )
}

/** The id of the page's focused element (undefined when none has one). */
export function focusedId(page: Page): Promise<string | undefined> {
  return page.evaluate(
    () =>
      (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document
        .activeElement?.id,
  )
}

/** Submits the sign-in form of the console at `consoleUrl` with a password. */
export async function submitSignIn(
  page: Page,
  consoleUrl: string,
  who: { identifier: string; password: string },
): Promise<void> {
  await page.goto(`${consoleUrl}/sign-in`)
  await page.getByLabel('Email or username').fill(who.identifier)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

/** Signs in on the console at `consoleUrl` with a password; waits for the users page. */
export async function signIn(
  page: Page,
  consoleUrl: string,
  who: { identifier: string; password: string },
): Promise<void> {
  await submitSignIn(page, consoleUrl, who)
  await page.waitForURL(/\/users/)
}

/** The page's session token (clerk-js's own, `window.Clerk`). */
export function sessionToken(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const clerk = (
      globalThis as unknown as { Clerk: { session: { getToken(): Promise<string | null> } } }
    ).Clerk
    const token = await clerk.session.getToken()
    if (!token) throw new Error('no session token')
    return token
  })
}

/** The impersonation id of the page's session (its `act` claim). */
export async function impersonationIdOf(page: Page): Promise<string> {
  const token = await sessionToken(page)
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
    act?: { impersonation_id?: string }
  }
  return claims.act!.impersonation_id!
}

/**
 * On the console at `consoleUrl`: searches `query` on the users page, opens Impersonate on the
 * first row that may be impersonated, fills the reason, picks `mode` (the console preselects none
 * where the policy allows both) and confirms. Returns the customer's name; waits for nothing after.
 */
export async function confirmImpersonation(
  page: Page,
  consoleUrl: string,
  query: string,
  reason: string,
  mode: 'Read-only' | 'Full access',
): Promise<string> {
  await page.goto(`${consoleUrl}/users?q=${encodeURIComponent(query)}`)
  await page.locator('#users-results[aria-busy="false"]').waitFor()
  const row = page
    .locator('tbody tr')
    .filter({ has: page.getByRole('button', { name: 'Impersonate' }) })
    .first()
  const name = (await row.locator('.user-cell__name').textContent())!.trim()
  await row.getByRole('button', { name: 'Impersonate' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel(/Reason/).fill(reason)
  await dialog.getByRole('radio', { name: new RegExp(`^${mode}`) }).check()
  await dialog.getByRole('button', { name: 'Confirm' }).click()
  return name
}
