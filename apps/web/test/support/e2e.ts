// What every e2e file sets up: the whole stack (test/e2e/stack.ts), the run's one Chromium
// (browser-setup.ts; a browser of its own outside vitest's global set-up), browser contexts
// closed after the file, and a sign-in through the console's own form.
import { mkdirSync } from 'node:fs'
import type { SeededAccount } from '@actas/clerk-local'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, beforeAll, inject } from 'vitest'
import { submitSignIn } from '../e2e/browser.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH, startStack } from '../e2e/stack.ts'
import type { Stack, StackOptions } from '../e2e/stack.ts'

export interface E2e {
  readonly stack: Stack
  readonly browser: Browser
  /** Every context `context()` opened in this file. */
  readonly contexts: readonly BrowserContext[]
  /** A new browser context, closed after the file. */
  context(options?: BrowserContextOptions): Promise<BrowserContext>
  /** Submits the console's sign-in form as a seeded role or any account (no wait after). */
  signIn(
    page: Page,
    who: SeededAccount['role'] | { identifier: string; password: string },
  ): Promise<void>
}

/** Registers the file's beforeAll/afterAll; the returned fields are usable from its tests on. */
export function useE2e(options: StackOptions & { artifacts?: string } = {}): E2e {
  const { artifacts, ...stackOptions } = options
  let stack: Stack | undefined
  let browser: Browser | undefined
  const contexts: BrowserContext[] = []
  beforeAll(async () => {
    if (artifacts) mkdirSync(artifacts, { recursive: true })
    const endpoint = inject('chromiumEndpoint')
    ;[stack, browser] = await Promise.all([
      startStack(stackOptions),
      endpoint
        ? chromium.connect(endpoint)
        : chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS }),
    ])
  }, 120_000)
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined)
    await browser?.close()
    await stack?.stop()
  }, 60_000)
  const e2e: E2e = {
    get stack() {
      if (!stack) throw new Error('the e2e stack is not started (use it inside tests and hooks)')
      return stack
    },
    get browser() {
      if (!browser) throw new Error('no browser yet (use it inside tests and hooks)')
      return browser
    },
    contexts,
    async context(contextOptions) {
      const context = await e2e.browser.newContext(contextOptions)
      contexts.push(context)
      return context
    },
    signIn: (page, who) =>
      submitSignIn(page, e2e.stack.url, typeof who === 'string' ? e2e.stack.account(who) : who),
  }
  return e2e
}
