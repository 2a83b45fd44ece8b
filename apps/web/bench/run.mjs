// ActAs console benchmark: prints figures, asserts nothing.
//   1. Bundle: the console's initial JS gzipped per chunk, clerk-js apart (needs `vite build`).
//   2. Click-to-home: Confirm clicked → home rendered as the impersonated user (banner shown),
//      in Chromium against the local stack, 20 runs: median and p95.
//   3. Search: last keystroke → results rendered, debounce included, at 100k users: median and p95.
// Run: npx -y pnpm@12.4.2 --filter @actas/web bench (or `node --conditions=@actas/source --import tsx bench/run.mjs`)
import { chromium } from 'playwright-core'
import { printBundle, bundleReport } from './bundle.mjs'
import { CHROMIUM_ARGS, CHROMIUM_PATH, ensureBuilt, startStack } from '../test/e2e/stack.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 20)
const USERS = Number(process.env.BENCH_USERS ?? 100_000)

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
const summary = (label, values, target) => {
  const median = pct(values, 50)
  console.log(
    `${label}: median ${median.toFixed(0)} ms, p95 ${pct(values, 95).toFixed(0)} ms, min ${Math.min(...values).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms over ${values.length} runs; target median ≤ ${target} ms: ${median <= target ? 'met' : 'MISSED'}`,
  )
}

async function signInAsAdmin(page, stack) {
  const admin = stack.account('admin')
  await page.goto(`${stack.url}/sign-in`)
  await page.getByLabel('Email or username').fill(admin.identifier)
  await page.getByLabel('Password').fill(admin.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(/\/users/)
}

async function clickToHome(page, stack) {
  const times = []
  await signInAsAdmin(page, stack)
  for (let i = 0; i < RUNS; i++) {
    await page.goto(`${stack.url}/users?q=example.com&page=${1 + (i % 5)}`)
    const row = page
      .locator('tbody tr')
      .filter({ has: page.locator('button:has-text("Impersonate"):not([disabled])') })
      .nth(i % 10)
    await row.waitFor()
    await row.getByRole('button', { name: 'Impersonate' }).click()
    await page
      .getByRole('dialog')
      .getByLabel(/Reason/)
      .fill(`Benchmark run ${i + 1}: click to home`)
    await page.evaluate(() => {
      const w = window
      w.__t0 = 0
      w.__t1 = 0
      document.addEventListener(
        'click',
        (e) => {
          if (e.target instanceof Element && e.target.closest('dialog button[type=submit]'))
            w.__t0 = performance.now()
        },
        { capture: true, once: true },
      )
      const done = () =>
        w.__t0 > 0 &&
        location.pathname === '/' &&
        document.querySelector('[data-testid=home-name]') &&
        document.querySelector('[data-testid=impersonation-banner]')
      const observer = new MutationObserver(() => {
        if (!w.__t1 && done()) {
          w.__t1 = performance.now()
          observer.disconnect()
        }
      })
      observer.observe(document, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      })
    })
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click()
    await page.waitForFunction(() => window.__t1 > 0, null, { timeout: 20_000 })
    times.push(await page.evaluate(() => window.__t1 - window.__t0))
    await page.getByTestId('impersonation-banner').getByRole('button', { name: 'Stop' }).click()
    await page.waitForURL(/\/sign-in/)
    await page.getByLabel('Password').fill(stack.account('admin').password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/\/users/)
  }
  return times
}

const QUERIES = [
  'smith',
  'garcia',
  'olivia',
  'example.com',
  'wang',
  'noah',
  'martin',
  'gmail',
  'lee',
  'emma',
  'hicks',
  'initech',
  'james',
  'lopez',
  'sofia',
  'proton',
  'brown',
  'liam',
  'müller',
  'taylor',
]

async function searchLatency(page, stack) {
  const times = []
  for (let i = 0; i < RUNS; i++) {
    const query = QUERIES[i % QUERIES.length]
    await page.goto(`${stack.url}/users`)
    await page.locator('#users-results[aria-busy="false"] tbody tr').first().waitFor()
    await page.evaluate(() => {
      const w = window
      w.__lastKey = 0
      w.__sawBusy = false
      w.__t1 = 0
      const input = document.querySelector('#user-search')
      input.addEventListener('keydown', () => {
        w.__lastKey = performance.now()
        w.__sawBusy = false
      })
      const section = document.querySelector('#users-results')
      new MutationObserver(() => {
        if (!w.__lastKey) return
        const busy = section.getAttribute('aria-busy') === 'true'
        if (busy) w.__sawBusy = true
        else if (w.__sawBusy && !w.__t1) w.__t1 = performance.now()
      }).observe(section, { attributes: true, attributeFilter: ['aria-busy'] })
    })
    await page.locator('#user-search').focus()
    await page.keyboard.type(query, { delay: 40 })
    await page.waitForFunction(() => window.__t1 > 0, null, { timeout: 20_000 })
    times.push(await page.evaluate(() => window.__t1 - window.__lastKey))
  }
  return times
}

ensureBuilt()
printBundle(bundleReport(new URL('../dist', import.meta.url).pathname))
console.log('')

console.log(`Starting the local stack with ${USERS.toLocaleString('en')} users…`)
const stack = await startStack({ users: USERS })
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  // warm-up: load clerk-js and the route chunks once
  await signInAsAdmin(page, stack)
  await context.clearCookies()
  summary('Click-to-home (Confirm → home as the user)', await clickToHome(page, stack), 300)
  summary(
    `Search at ${USERS.toLocaleString('en')} users (last keystroke → results, debounce included)`,
    await searchLatency(page, stack),
    250,
  )
} finally {
  await browser.close()
  await stack.stop()
}
