// vitest global set-up of the console's suite: one Chromium for the whole run (a browser
// server), which every e2e file connects to, each test in contexts of its own (test/support/e2e.ts).
import { chromium } from 'playwright-core'
import type { TestProject } from 'vitest/node'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@actas/clerk-local/testing/chromium'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await chromium.launchServer({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
  project.provide('chromiumEndpoint', server.wsEndpoint())
  return () => server.close()
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's Chromium (browser-setup.ts), for `chromium.connect`. */
    chromiumEndpoint: string
  }
}
