#!/usr/bin/env node
// `pnpm dev`: run the whole console on one machine.
//
// With no Clerk keys in the environment it starts the local Clerk-compatible server
// (packages/clerk-local), then the API (apps/api) and the console's Vite dev server
// (apps/web), wired to each other, and prints the URL to open and the staff accounts.
// With CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY set, the local server is not started and
// the API and console talk to that Clerk instance instead.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const env = process.env
const ports = {
  clerk: Number(env.ACTAS_CLERK_PORT ?? 4100),
  api: Number(env.ACTAS_API_PORT ?? 4000),
  web: Number(env.ACTAS_WEB_PORT ?? 5173),
}
const webOrigin = `http://localhost:${ports.web}`
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
  log(`no Clerk keys set: starting the local Clerk-compatible server on port ${ports.clerk}`)
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
          resolve(JSON.parse(line))
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

async function main() {
  const realKeys = Boolean(env.CLERK_SECRET_KEY && env.CLERK_PUBLISHABLE_KEY)
  const local = realKeys ? undefined : await startLocalClerk()
  const clerkEnv = local
    ? {
        CLERK_SECRET_KEY: local.secretKey,
        CLERK_PUBLISHABLE_KEY: local.publishableKey,
        CLERK_API_URL: local.url,
        CLERK_JWT_KEY: local.jwtPublicKeyPem,
        // ActAs's own machine: the seeded helpdesk and audit-export machines are scoped to it.
        ...(local.machines?.find((m) => m.name === 'actas-api')
          ? { CLERK_MACHINE_ID: local.machines.find((m) => m.name === 'actas-api').id }
          : {}),
      }
    : {}

  start('api', 'apps/api', ['tsx', 'src/server.ts'], {
    ...clerkEnv,
    // One line per request drowns everything else: warnings and errors only, unless asked.
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    NODE_ENV: env.NODE_ENV ?? 'development',
    PORT: String(ports.api),
    HOST: '127.0.0.1',
    AUTHORIZED_PARTIES: env.AUTHORIZED_PARTIES ?? `${webOrigin},http://127.0.0.1:${ports.web}`,
    CLERK_TELEMETRY_DISABLED: '1',
  })
  await waitFor(`http://127.0.0.1:${ports.api}/healthz`, 'the API')

  start(
    'web',
    'apps/web',
    ['node_modules/vite/bin/vite.js', '--port', String(ports.web), '--strictPort'],
    {
      VITE_CLERK_PUBLISHABLE_KEY: local ? local.publishableKey : env.CLERK_PUBLISHABLE_KEY,
      ...(local
        ? {
            VITE_CLERK_PROXY_URL: '/__clerk',
            VITE_LOCAL_ACCOUNTS: JSON.stringify(
              local.accounts.map(({ role, identifier, password }) => ({
                role,
                identifier,
                password,
              })),
            ),
            ACTAS_FAPI_TARGET: local.frontendApiUrl,
          }
        : {}),
      ACTAS_API_TARGET: `http://127.0.0.1:${ports.api}`,
    },
    (line) => !VITE_BANNER.test(line.replace(/\x1b\[[0-9;]*m/g, '')),
  )
  await waitFor(webOrigin, 'the console')

  console.log('')
  log(`ActAs console: \x1b[1m${webOrigin}\x1b[0m`)
  if (local) {
    log('staff accounts on the local Clerk-compatible server:')
    for (const a of local.accounts)
      log(`  ${a.role.padEnd(7)} ${a.identifier.padEnd(32)} ${a.password}`)
    const scoped = (local.machines ?? []).filter((m) => m.scopedMachineIds.length > 0)
    if (scoped.length > 0)
      log(
        `machines scoped to ActAs (M2M; secret keys in clerk-local's JSON line): ${scoped.map((m) => m.name).join(', ')}`,
      )
    log('sign in as the admin, search a customer, and click Impersonate. Ctrl-C stops everything.')
  }
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)))
