import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

// Which Chromium the workspace's browser tests drive, and how: Debian's (or CHROMIUM_PATH),
// headless, quiet, nothing it does on its own may leave loopback. The one home of these flags:
// this package's browser tests use it directly, the console's e2e tests, browser set-up and
// bench through `@actas/clerk-local/testing/chromium`.

/**
 * Debian's Chromium headless shell (package `chromium-headless-shell`, the same Chromium build
 * without the browser's windowing layer: what Playwright itself runs for headless tests) when
 * installed, else Debian's `chromium`; CHROMIUM_PATH wins. The shell took a third less CPU for
 * the same pages (the console's pages.e2e: 59.5 s → 40.1 s of Chromium CPU, docs/benchmarks.md),
 * and the browser is most of the console suite's CPU.
 */
export const CHROMIUM_PATH =
  process.env['CHROMIUM_PATH'] ??
  (existsSync('/usr/bin/chromium-headless-shell')
    ? '/usr/bin/chromium-headless-shell'
    : '/usr/bin/chromium')

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
}
