import { chromium, type Browser } from 'playwright-core'

// Debian's Chromium (or CHROMIUM_PATH), headless, quiet: nothing it does on its own may leave
// loopback. Shared by the browser tests of this package.

const CHROMIUM_ARGS = [
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
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  })
}
