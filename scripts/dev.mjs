#!/usr/bin/env node
// `pnpm dev`: run the whole console on one machine.
//
// With no Clerk keys in the environment it starts the local Clerk-compatible server
// (packages/clerk-local), then the API (apps/api) and the console's Vite dev server
// (apps/web), wired to each other, and prints the URL to open and the staff accounts.
// With CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY set, the local server is not started and
// the API and console talk to that Clerk instance instead.
//
// With the local server it also starts the example customer application (examples/customer-app)
// on its own origin, where impersonations land (the API's APP_ORIGINS), and writes what the
// examples need (machine keys, webhook secret, URLs) to a git-ignored `.env.dev` in each
// example's folder, which the examples read; the paths are printed.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const env = process.env
const ports = {
  clerk: Number(env.ACTAS_CLERK_PORT ?? 4100),
  api: Number(env.ACTAS_API_PORT ?? 4000),
  web: Number(env.ACTAS_WEB_PORT ?? 5173),
  app: Number(env.ACTAS_APP_PORT ?? 5180),
  appService: Number(env.ACTAS_APP_SERVICE_PORT ?? 4300),
}
{
  const seen = new Map()
  for (const [name, port] of Object.entries(ports)) {
    if (seen.has(port)) {
      console.error(`[dev] ports collide: ${seen.get(port)} and ${name} are both ${port}`)
      process.exit(2)
    }
    seen.set(port, name)
  }
}
const webOrigin = `http://localhost:${ports.web}`
// Another host name than the console's (cookies ignore ports): the customer application's origin.
const appOrigin = `http://127.0.0.1:${ports.app}`
/**
 * Where `dev` writes what each example needs (git-ignored: `.env.*`); the examples read these
 * files. ACTAS_DEV_ENV_DIR puts them elsewhere (the README test's own `dev`), the examples then
 * get the path in ACTAS_ENV_FILE.
 */
const envFiles = env.ACTAS_DEV_ENV_DIR
  ? {
      customerApp: `${env.ACTAS_DEV_ENV_DIR}/customer-app.env`,
      auditExport: `${env.ACTAS_DEV_ENV_DIR}/audit-export.env`,
    }
  : {
      customerApp: `${root}examples/customer-app/.env.dev`,
      auditExport: `${root}examples/audit-export/.env.dev`,
    }
const children = []
let stopping = false

function log(line) {
  console.log(`\x1b[36m[dev]\x1b[0m ${line}`)
}

function fail(message) {
  console.error(`\x1b[31m[dev]\x1b[0m ${message}`)
  stop(1)
}

function stop(code = 0) {
  if (stopping) return
  stopping = true
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
  setTimeout(() => process.exit(code), 1500).unref()
}
process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))

/** Start a package's process with its own tsx (TypeScript sources, no build step). */
function start(name, cwd, args, extraEnv, onLine) {
  const dir = `${root}${cwd}`
  const tsx = `${dir}/node_modules/.bin/tsx`
  const [command, argv] =
    args[0] === 'tsx'
      ? [tsx, ['--conditions=@actas/source', ...args.slice(1)]]
      : [process.execPath, args]
  if (args[0] === 'tsx' && !existsSync(tsx))
    fail(`${cwd}: dependencies are missing; run \`npx -y pnpm@12.4.2 install\` first`)
  const child = spawn(command, argv, {
    cwd: dir,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  const prefix = `\x1b[35m[${name}]\x1b[0m`
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (onLine?.(line) === false) return
      console.log(`${prefix} ${line}`)
    })
  }
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited (${signal ?? `code ${code}`}); stopping everything`)
  })
  return child
}

async function waitFor(url, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url)
      if (res.ok) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  fail(`${what} did not become ready at ${url} within ${timeoutMs / 1000}s`)
}

async function startLocalClerk() {
  log(
    `no Clerk keys set: starting the local Clerk-compatible server on port ${ports.clerk || 'any free port'}`,
  )
  return new Promise((resolve) => {
    let started = false
    start(
      'clerk-local',
      'packages/clerk-local',
      ['tsx', 'src/cli.ts', '--port', String(ports.clerk), '--host', '127.0.0.1'],
      {},
      (line) => {
        if (!started && line.startsWith('{') && line.includes('"publishableKey"')) {
          started = true
          const local = JSON.parse(line)
          // The port it bound (ACTAS_CLERK_PORT=0: one the system picked); the others use its URLs.
          log(`local Clerk server: ${local.url}`)
          resolve(local)
          return false // the machine-readable line carries the secret key: keep it off the console
        }
        // Its start-up banner (URL, accounts table) is summed up once, at the end, by this script.
        return started
      },
    )
  })
}

/** Vite's own start-up banner: this script prints the URL to open, once, last. */
const VITE_BANNER =
  /VITE v\d|ready in|➜ {2}(Local|Network)|press h|\[optimizer\]|dependencies optimized|^\s*$/

/** `KEY="value"` lines (Node's `process.loadEnvFile` format: `\n` in double quotes is a newline), mode 0600. */
function writeEnvFile(path, values) {
  const lines = Object.entries(values).map(
    ([key, value]) => `${key}="${String(value).replace(/\n/g, '\\n')}"`,
  )
  writeFileSync(
    path,
    `# Written by \`pnpm dev\` (${new Date().toISOString()}); rewritten at every start.\n${lines.join('\n')}\n`,
    {
      mode: 0o600,
    },
  )
}

/** MACHINE_READ_PROCEDURES from contracts' source (through the API's tsx): no copy here. */
async function machineReadProcedures() {
  const { tsImport } = await import(
    pathToFileURL(`${root}apps/api/node_modules/tsx/dist/esm/api/index.mjs`).href
  )
  const machines = await tsImport(`${root}packages/contracts/src/machines.ts`, import.meta.url)
  return [...machines.MACHINE_READ_PROCEDURES]
}

/** A few ordinary customers to search for (the local server's Backend API, first page is enough). */
async function someCustomers(local) {
  try {
    const res = await fetch(`${local.url}/v1/users?limit=3&order_by=created_at`, {
      headers: { authorization: `Bearer ${local.secretKey}` },
    })
    if (!res.ok) return []
    const body = await res.json()
    const users = Array.isArray(body) ? body : (body.data ?? [])
    const special = new Set(local.accounts.map((a) => a.identifier))
    return users
      .map((u) => ({
        name: [u.first_name, u.last_name].filter(Boolean).join(' '),
        email: u.email_addresses?.[0]?.email_address ?? u.id,
      }))
      .filter((u) => !special.has(u.email))
  } catch {
    return []
  }
}

async function main() {
  const realKeys = Boolean(env.CLERK_SECRET_KEY && env.CLERK_PUBLISHABLE_KEY)
  const local = realKeys ? undefined : await startLocalClerk()
  const machine = (name) => local?.machines?.find((m) => m.name === name)
  // The customer application and its wiring: with the local server (its seeded machines).
  const customerApp =
    local && machine('actas-api') && machine('helpdesk')
      ? {
          webhookSecret: `whsec_${randomBytes(24).toString('base64')}`,
          actas: machine('actas-api'),
          helpdesk: machine('helpdesk'),
        }
      : undefined
  const clerkEnv = local
    ? {
        CLERK_SECRET_KEY: local.secretKey,
        CLERK_PUBLISHABLE_KEY: local.publishableKey,
        CLERK_API_URL: local.url,
        CLERK_JWT_KEY: local.jwtPublicKeyPem,
        // The console's sign-in picker (served to it in /config.json; refused in production).
        CONSOLE_LOCAL_ACCOUNTS: JSON.stringify(
          local.accounts.map(({ role, identifier, password }) => ({ role, identifier, password })),
        ),
        // ActAs's own machine: the seeded helpdesk and audit-export machines are scoped to it.
        ...(local.machines?.find((m) => m.name === 'actas-api')
          ? { CLERK_MACHINE_ID: local.machines.find((m) => m.name === 'actas-api').id }
          : {}),
      }
    : {}

  const appEnv = customerApp
    ? {
        // Impersonations land in the customer application (its first page).
        APP_ORIGINS: appOrigin,
        APP_HOME_PATH: '/',
        // Its machine (`helpdesk`, scoped to ActAs) may report what an impersonation did.
        MACHINE_PERMISSIONS: JSON.stringify({
          [customerApp.actas.id]: await machineReadProcedures(),
          [customerApp.helpdesk.id]: ['impersonation.actions'],
        }),
        WEBHOOK_ENDPOINTS: JSON.stringify([
          {
            url: `http://127.0.0.1:${ports.appService}/webhooks/actas`,
            secret: customerApp.webhookSecret,
          },
        ]),
      }
    : {}

  start('api', 'apps/api', ['tsx', 'src/server.ts'], {
    ...clerkEnv,
    ...appEnv,
    // One line per request drowns everything else: warnings and errors only, unless asked.
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    NODE_ENV: env.NODE_ENV ?? 'development',
    PORT: String(ports.api),
    HOST: '127.0.0.1',
    // The customer application's origin too: its banner follows ActAs's push of ends.
    AUTHORIZED_PARTIES:
      env.AUTHORIZED_PARTIES ??
      [webOrigin, `http://127.0.0.1:${ports.web}`, ...(customerApp ? [appOrigin] : [])].join(','),
    CLERK_TELEMETRY_DISABLED: '1',
  })
  await waitFor(`http://127.0.0.1:${ports.api}/healthz`, 'the API')

  start(
    'web',
    'apps/web',
    ['node_modules/vite/bin/vite.js', '--port', String(ports.web), '--strictPort'],
    {
      // The console reads its settings from the API (/config.json, proxied like /trpc).
      ...(local ? { ACTAS_FAPI_TARGET: local.frontendApiUrl } : {}),
      ACTAS_API_TARGET: `http://127.0.0.1:${ports.api}`,
    },
    (line) => !VITE_BANNER.test(line.replace(/\x1b\[[0-9;]*m/g, '')),
  )
  await waitFor(webOrigin, 'the console')

  if (customerApp) {
    const apiUrl = `http://127.0.0.1:${ports.api}/trpc`
    writeEnvFile(envFiles.customerApp, {
      PORT: ports.appService,
      HOST: '127.0.0.1',
      CLERK_PUBLISHABLE_KEY: local.publishableKey,
      CLERK_JWT_KEY: local.jwtPublicKeyPem,
      CLERK_API_URL: local.url,
      AUTHORIZED_PARTIES: appOrigin,
      ACTAS_API_URL: apiUrl,
      ACTAS_CONSOLE_URL: webOrigin,
      CLERK_MACHINE_SECRET_KEY: customerApp.helpdesk.secretKey,
      ACTAS_WEBHOOK_SECRET: customerApp.webhookSecret,
    })
    if (machine('audit-export'))
      writeEnvFile(envFiles.auditExport, {
        CLERK_MACHINE_SECRET_KEY: machine('audit-export').secretKey,
        CLERK_API_URL: local.url,
        ACTAS_API_URL: apiUrl,
      })
    // The service reads its .env.dev (written above); the pages' Vite server proxies to it.
    start('customer-app', 'examples/customer-app', ['tsx', 'src/main.ts'], {
      LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
      ACTAS_ENV_FILE: envFiles.customerApp,
    })
    await waitFor(`http://127.0.0.1:${ports.appService}/config`, 'the customer application')
    start(
      'customer-web',
      'examples/customer-app',
      [
        'node_modules/vite/bin/vite.js',
        '--host',
        '127.0.0.1',
        '--port',
        String(ports.app),
        '--strictPort',
      ],
      {
        ACTAS_FAPI_TARGET: local.frontendApiUrl,
        CUSTOMER_APP_SERVICE_TARGET: `http://127.0.0.1:${ports.appService}`,
        ACTAS_API_TARGET: `http://127.0.0.1:${ports.api}`,
      },
      (line) => !VITE_BANNER.test(line.replace(/\x1b\[[0-9;]*m/g, '')),
    )
    await waitFor(appOrigin, 'the customer application pages')
  }

  console.log('')
  log(`ActAs console: \x1b[1m${webOrigin}\x1b[0m`)
  if (customerApp)
    log(`customer application: \x1b[1m${appOrigin}\x1b[0m (impersonations land here)`)
  if (local) {
    const staff = local.accounts.filter((a) => (a.kind ?? 'staff') === 'staff')
    const special = local.accounts.filter((a) => a.kind === 'customer')
    log('staff (sign in to the console):')
    for (const a of staff)
      log(
        `  ${a.role.padEnd(9)} ${a.identifier.padEnd(30)} ${a.password.padEnd(20)} ${a.permissions?.length ? a.permissions.join(', ') : '(may not impersonate)'}`,
      )
    log('customers (search for them in the console; no passwords needed):')
    for (const c of await someCustomers(local)) log(`  ${c.email.padEnd(40)} ${c.name}`)
    for (const a of special) log(`  ${a.identifier.padEnd(40)} ${a.role} (refused by the policy)`)
    if (customerApp)
      log(
        `machine keys, webhook secret and URLs for the examples: ${envFiles.customerApp}, ${envFiles.auditExport}`,
      )
    log('sign in as the admin, search a customer, and click Impersonate. Ctrl-C stops everything.')
  }
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)))
