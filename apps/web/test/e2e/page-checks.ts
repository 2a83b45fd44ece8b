// What the two-origin e2e files (console + customer application) check on every page and how
// they open one: a page at a width in a browser context of its own (its errors collected),
// full-page screenshots into the file's artifacts, axe clean and no sideways scroll.
import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import type { E2e } from '../support/e2e.ts'
import { axeViolations } from './browser.ts'

/** Opens a page in a browser context of its own at `width` px; its errors go to `pageErrors`. */
export function pageOpener(e2e: E2e, pageErrors: string[]): (width: number) => Promise<Page> {
  return async (width) => {
    const context = await e2e.context({
      viewport: { width, height: width < 600 ? 844 : 800 },
      reducedMotion: 'reduce',
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
