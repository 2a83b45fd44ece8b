// What the e2e files check on every page and how they open one: a page at a width in a browser
// context of its own (its errors collected), full-page screenshots into the file's artifacts,
// axe clean, no sideways scroll and the page's actions on screen.
import type { Locator, Page } from 'playwright-core'
import { expect } from 'vitest'
import type { E2e } from '../support/e2e.ts'
import { axeViolations } from './browser.ts'

/**
 * Opens a page in a browser context of its own at `width` px (in `scheme`, else the browser's
 * light default); its errors go to `pageErrors`.
 */
export function pageOpener(
  e2e: E2e,
  pageErrors: string[],
): (width: number, scheme?: 'light' | 'dark') => Promise<Page> {
  return async (width, scheme) => {
    const context = await e2e.context({
      viewport: { width, height: width < 600 ? 844 : 800 },
      reducedMotion: 'reduce',
      ...(scheme ? { colorScheme: scheme } : {}),
    })
    const page = await context.newPage()
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`))
    return page
  }
}

/** A full-page screenshot named `name` in `artifacts`. */
export function shotIn(artifacts: string): (page: Page, name: string) => Promise<void> {
  return async (page, name) => {
    await page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true })
  }
}

/** How far the page scrolls sideways (≤ 0: not at all). */
export async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const d = (
      globalThis as unknown as {
        document: { documentElement: { scrollWidth: number; clientWidth: number } }
      }
    ).document.documentElement
    return d.scrollWidth - d.clientWidth
  })
}

/** axe clean and no sideways scroll: what every page visited must be, at either width. */
export async function usable(page: Page): Promise<void> {
  expect(await axeViolations(page), page.url()).toEqual([])
  expect(await overflow(page), page.url()).toBeLessThanOrEqual(0)
}

/** The element is rendered entirely inside the viewport's width. */
export async function withinWidth(page: Page, locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox()
  const width = page.viewportSize()!.width
  return box !== null && box.x >= 0 && box.x + box.width <= width + 0.5
}

/**
 * What is wrong with the page as it is now, each line prefixed with `label`: axe's serious and
 * critical violations, a sideways scroll, and each of `mustSee` not (entirely) on screen.
 */
export async function layoutProblems(
  page: Page,
  label: string,
  mustSee: Locator[] = [],
): Promise<string[]> {
  const problems = (await axeViolations(page)).map((v) => `${label}: ${v}`)
  const sideways = await overflow(page)
  if (sideways > 0) problems.push(`${label}: scrolls ${sideways} px sideways`)
  for (const locator of mustSee) {
    await locator.waitFor()
    if (!(await withinWidth(page, locator)))
      problems.push(`${label}: ${String(locator)} is off-screen`)
  }
  return problems
}
