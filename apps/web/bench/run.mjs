// ActAs console benchmark: prints figures, asserts nothing.
//   1. Bundle: the console's initial JS gzipped per chunk, clerk-js apart (needs `vite build`).
//   2. Confirm clicked → leaving the console for the landing place (target median ≤ 150 ms), and
//      → home rendered as the impersonated user (banner shown), in Chromium against the local
//      stack, 20 runs: median and p95 (and what the time went to: the requests between Confirm and leaving, and the console's own
//      time around them).
//   3. Search: last keystroke → results rendered, debounce included, at 100k users: median and p95.
//   4. Landing in the host application (APP_ORIGINS = examples/customer-app on its own origin):
//      Confirm clicked → leaving the console (the application's document requested) and → the
//      application's page shown with the host kit's banner, timed from Node (two origins, two
//      page clocks), BENCH_APP_RUNS (default 10) runs on a second stack of 2,000 users.
// Run: npx -y pnpm@12.4.2 --filter @actas/web bench (or `node --conditions=@actas/source --import tsx bench/run.mjs`)
import { chromium } from 'playwright-core'
import { printBundle, bundleReport } from './bundle.mjs'
import { CHROMIUM_ARGS, CHROMIUM_PATH, ensureBuilt, startStack } from '../test/e2e/stack.ts'
import { planCustomerApp, startCustomerApp } from '../test/e2e/customer-app.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 20)
const APP_RUNS = Number(process.env.BENCH_APP_RUNS ?? 10)
const USERS = Number(process.env.BENCH_USERS ?? 100_000)

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
const summary = (label, values, target) => {
  const median = pct(values, 50)
  console.log(
    `${label}: median ${median.toFixed(0)} ms, p95 ${pct(values, 95).toFixed(0)} ms, min ${Math.min(...values).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms over ${values.length} runs${target === null ? '' : `; target median ≤ ${target} ms: ${median <= target ? 'met' : 'MISSED'}`}`,
  )
}

/** Medians of the requests between Confirm and leaving, by kind, and of the rest (the console). */
function breakdown(runs) {
  const kinds = new Map()
  const own = []
  for (const run of runs) {
    let waited = 0
    let until = 0
    for (const r of [...run.requests].sort((a, b) => a.start - b.start)) {
      const list = kinds.get(r.path) ?? []
      list.push(r.ms)
      kinds.set(r.path, list)
      // time spent waiting on the network (overlaps counted once)
      const from = Math.max(r.start, until)
      const to = r.start + r.ms
      if (to > from) waited += to - from
      until = Math.max(until, to)
    }
    own.push(run.leave - waited)
  }
  console.log('  between Confirm and leaving (medians):')
  for (const [path, values] of kinds)
    console.log(
      `    ${path.padEnd(48)} ${pct(values, 50).toFixed(0).padStart(5)} ms  (${values.length}/${runs.length} runs)`,
    )
  console.log(
    `    ${'the console itself (no request in flight)'.padEnd(48)} ${pct(own, 50).toFixed(0).padStart(5)} ms`,
  )
}

async function signInAsAdmin(page, stack) {
  const admin = stack.account('admin')
  await page.goto(`${stack.url}/sign-in`)
  await page.getByLabel('Email or username').fill(admin.identifier)
  await page.getByLabel('Password').fill(admin.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(/\/users/)
}

/** Back from an impersonation: Stop's return lands on the users page signed in (else sign in). */
async function stopAndReturn(page, stack) {
  await page.getByTestId('impersonation-banner').getByRole('button', { name: 'Stop' }).click()
  await page.waitForURL(/\/(users|sign-in)/)
  if (page.url().includes('/sign-in')) {
    await page.getByLabel('Password').fill(stack.account('admin').password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(/\/users/)
  }
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
}

/** Run `i`'s customer (a page of the search, a row of it): its dialog filled, full access. */
async function openDialog(page, stack, i, reason) {
  await page.goto(`${stack.url}/users?q=example.com&page=${1 + (i % 5)}`)
  const row = page
    .locator('tbody tr')
    .filter({ has: page.locator('button:has-text("Impersonate"):not([disabled])') })
    .nth(i % 10)
  await row.waitFor()
  const name = (await row.locator('.user-cell__name').textContent()).trim()
  await row.getByRole('button', { name: 'Impersonate' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel(/Reason/).fill(reason)
  await dialog.getByRole('radio', { name: /Full access/ }).check()
  return { dialog, name }
}

/**
 * Confirm clicked → the console leaves for the landing place (`leave`: a history change away from
 * the users page, or the page unloading for another origin) and → the landing rendered as the
 * user with the banner (`home`, while the landing is the console's own home page). Also the
 * requests made in between (Resource Timing), for the breakdown.
 */
async function confirmToLeave(page, stack) {
  const leave = []
  const home = []
  const runs = []
  await signInAsAdmin(page, stack)
  for (let i = 0; i < RUNS; i++) {
    const { dialog } = await openDialog(
      page,
      stack,
      i,
      `Benchmark run ${i + 1}: Confirm to leaving`,
    )
    await page.evaluate(() => {
      const w = window
      w.__t0 = 0
      w.__leave = 0
      w.__t1 = 0
      const left = () => {
        if (w.__t0 && !w.__leave) w.__leave = performance.now()
      }
      for (const method of ['pushState', 'replaceState']) {
        const original = history[method].bind(history)
        history[method] = (state, title, url) => {
          if (url !== undefined && url !== null && !String(url).includes('/users')) left()
          return original(state, title, url)
        }
      }
      window.addEventListener('pagehide', left, { once: true })
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
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await page.waitForFunction(() => window.__t1 > 0, null, { timeout: 20_000 })
    const run = await page.evaluate(() => {
      const w = window
      // What ran between Confirm and leaving: each request (Resource Timing, the page's clock).
      const requests = performance
        .getEntriesByType('resource')
        .filter((e) => e.startTime >= w.__t0 && e.startTime <= w.__leave)
        .map((e) => ({
          path: new URL(e.name).pathname.replace(/sess_[A-Za-z0-9]+/, 'sess_…'),
          start: e.startTime - w.__t0,
          ms: e.responseEnd - e.startTime,
        }))
      return { leave: w.__leave - w.__t0, home: w.__t1 - w.__t0, requests }
    })
    leave.push(run.leave)
    home.push(run.home)
    runs.push(run)
    await stopAndReturn(page, stack)
  }
  return { leave, home, runs }
}

/**
 * Confirm → leaving the console for the host application (its document requested) and → the
 * application's page with the banner saying who is acting; then Stop in the application, back to
 * the console's users page. Timed in Node: the two pages have two clocks.
 */
async function confirmToApp(page, stack, app) {
  const leave = []
  const landed = []
  await signInAsAdmin(page, stack)
  for (let i = 0; i < APP_RUNS; i++) {
    const { dialog, name } = await openDialog(
      page,
      stack,
      i,
      `Benchmark run ${i + 1}: Confirm to the application`,
    )
    let left = 0
    const onRequest = (request) => {
      if (!left && request.isNavigationRequest() && request.url().startsWith(app.url))
        left = performance.now()
    }
    page.on('request', onRequest)
    const t0 = performance.now()
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await page
      .getByRole('region', { name: 'Impersonation' })
      .getByText(`is acting as ${name}`)
      .waitFor({ timeout: 20_000 })
    const t1 = performance.now()
    page.off('request', onRequest)
    leave.push(left - t0)
    landed.push(t1 - t0)
    await page
      .getByRole('region', { name: 'Impersonation' })
      .getByRole('link', { name: 'Stop' })
      .click()
    await page.waitForURL(`${stack.url}/users**`)
    await page.getByRole('button', { name: 'Sign out' }).waitFor()
  }
  return { leave, landed }
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
      const section = document.querySelector('#users-results')
      input.addEventListener('keydown', () => {
        w.__lastKey = performance.now()
        // a search for part of the query may still be in flight (a slow machine types slower
        // than the debounce): it is cancelled and the last one's end counts
        w.__sawBusy = section.getAttribute('aria-busy') === 'true'
        w.__t1 = 0
      })
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
  const confirm = await confirmToLeave(page, stack)
  summary('Confirm → leaving the console', confirm.leave, 150)
  summary('Click-to-home (Confirm → home as the user, banner shown)', confirm.home, 300)
  breakdown(confirm.runs)
  summary(
    `Search at ${USERS.toLocaleString('en')} users (last keystroke → results, debounce included)`,
    await searchLatency(page, stack),
    250,
  )
} finally {
  await browser.close()
  await stack.stop()
}

console.log('')
console.log('Starting a second stack (2,000 users) that lands in examples/customer-app…')
const plan = await planCustomerApp()
const appStack = await startStack({ users: 2000, apiEnv: plan.apiEnv })
const app = await startCustomerApp(plan, appStack)
const appBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
try {
  const context = await appBrowser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  await signInAsAdmin(page, appStack)
  await context.clearCookies()
  const landing = await confirmToApp(page, appStack, app)
  summary('Confirm → leaving the console for the application (Node clock)', landing.leave, 150)
  summary('Confirm → the application with its banner (Node clock)', landing.landed, null)
} finally {
  await appBrowser.close()
  await app.stop()
  await appStack.stop()
}
