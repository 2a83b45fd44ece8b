#!/usr/bin/env node
// Browser tests drive Debian's Chromium through playwright-core (nothing is downloaded):
// its headless shell (package chromium-headless-shell, a third less CPU for the same pages)
// when installed, else its chromium (packages/clerk-local/test/support/chromium.ts).
// Make sure they are there before the tests start: install them with apt when we can, or say
// exactly what to do when we cannot.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const CHROMIUM = '/usr/bin/chromium'
const SHELL = '/usr/bin/chromium-headless-shell'
const chosen = process.env.CHROMIUM_PATH
if (chosen ? existsSync(chosen) : existsSync(CHROMIUM) && existsSync(SHELL)) process.exit(0)

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const hasApt = existsSync('/usr/bin/apt-get')
if (isRoot && hasApt && !chosen) {
  const missing = [
    ...(existsSync(CHROMIUM) ? [] : ['chromium']),
    ...(existsSync(SHELL) ? [] : ['chromium-headless-shell']),
  ]
  console.log(`[ensure-chromium] installing Debian ${missing.join(' and ')} (apt-get)…`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env })
  } catch (error) {
    // The headless shell is a speed-up: chromium alone runs every browser test.
    if (!existsSync(CHROMIUM)) throw error
  }
}
const path = chosen ?? (existsSync(SHELL) ? SHELL : CHROMIUM)
if (existsSync(path)) process.exit(0)
console.error(
  `[ensure-chromium] no Chromium at ${path}. Install Debian's chromium package ` +
    `(sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary.`,
)
process.exit(1)
