import { chromium, type Browser } from 'playwright-core'

// Which Chromium the workspace's browser tests drive, and how: Debian's (or CHROMIUM_PATH),
// headless, quiet, nothing it does on its own may leave loopback. The one home of these flags:
// this package's browser tests use it directly, the console's e2e tests, browser set-up and
// bench through `@actas/clerk-local/testing/chromium`.

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

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
