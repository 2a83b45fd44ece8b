#!/usr/bin/env node
// Browser tests drive Debian's Chromium through playwright-core (nothing is downloaded).
// Make sure it is there before the tests start: install it with apt when we can, or say
// exactly what to do when we cannot.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
if (existsSync(path)) process.exit(0)

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const hasApt = existsSync('/usr/bin/apt-get')
if (isRoot && hasApt && !process.env.CHROMIUM_PATH) {
  console.log('[ensure-chromium] installing Debian chromium for the browser tests (apt-get)…')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env })
  if (existsSync(path)) process.exit(0)
}
console.error(
  `[ensure-chromium] no Chromium at ${path}. Install Debian's chromium package ` +
    `(sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary.`,
)
process.exit(1)
