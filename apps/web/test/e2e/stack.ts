// The whole ActAs stack on loopback, in one process: the local Clerk-compatible server
// (library), the API (buildApp over PGlite in memory, listening on port 0), and the built
// console served by `vite preview --port 0` (spawned as node + vite.js, see toolchain.md; its
// URL read from its output) with its /__clerk and /trpc proxies pointing at the other two. The
// API needs the console's origin before it starts, so preview's /trpc proxy points at a relay
// (test/support/relay.ts) that forwards to the API once it listens. Every server binds its own
// port: none is picked here and handed over. Used by the e2e tests and the bench.
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { createFapiClient, startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal, SeededAccount } from '@actas/clerk-local'
import { buildApp, createDeps, createLogger, loadConfig, localClerkEnvironment } from '@actas/api'
import type { AppDeps } from '@actas/api'
import { openTestDatabase } from '@actas/api/testing'
import { createActAsClient } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import { apiRelay } from '../support/relay.ts'

const WEB_DIR = fileURLToPath(new URL('../..', import.meta.url))
const VITE = `${WEB_DIR}node_modules/vite/bin/vite.js`

export { CHROMIUM_ARGS, CHROMIUM_PATH } from '@actas/clerk-local/testing/chromium'

export interface StackOptions {
  /** Seeded customers on the local Clerk server. */
  users?: number
  /** More API settings (e.g. APP_ORIGINS), given the local Clerk server and the console's URL. */
  apiEnv?: (clerk: ClerkLocal, consoleUrl: string) => Record<string, string>
}

export interface Stack {
  /** The console's origin, e.g. http://127.0.0.1:41234 */
  url: string
  apiUrl: string
  clerk: ClerkLocal
  deps: AppDeps
  /** Every line the API logged. */
  apiLogs: string[]
  account(role: SeededAccount['role']): SeededAccount
  /** The typed API client with a session of `role` signed in over the real FAPI (Node side). */
  apiAs(role: SeededAccount['role']): Promise<ActAsClient>
  stop(): Promise<void>
}

/**
 * Resolves with the URL a child prints once it listens on the port it chose (the first group of
 * `pattern`, read from its output, colours stripped); fails when it exits or after `timeoutMs`.
 */
export function printedUrl(
  child: ChildProcess,
  output: string[],
  pattern: RegExp,
  what: string,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} printed no URL in ${timeoutMs} ms:\n${output.join('')}`)),
      timeoutMs,
    )
    const onData = () => {
      // eslint-disable-next-line no-control-regex
      const text = output.join('').replace(/\x1b\[[0-9;]*m/g, '')
      const match = pattern.exec(text)
      if (!match?.[1]) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      resolve(match[1])
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${what} exited (${code}):\n${output.join('')}`))
    })
    onData()
  })
}

/** The URL `vite preview --port 0` prints once it listens. */
export const previewUrl = (child: ChildProcess, output: string[], timeoutMs: number) =>
  printedUrl(child, output, /Local:\s+(http:\/\/127\.0\.0\.1:\d+)/, 'vite preview', timeoutMs)

/** Polls `url` until it answers 2xx; fails when `child` exits or after `timeoutMs`. */
export async function waitFor(
  url: string,
  timeoutMs: number,
  child: ChildProcess,
  output: string[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${url} exited (${child.exitCode}):\n${output.join('')}`)
    try {
      const res = await fetch(url)
      if (res.ok) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} did not answer:\n${output.join('')}`)
}

function newestSourceMtime(): number {
  let newest = 0
  const visit = (path: string) => {
    const stat = statSync(path)
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(`${path}/${entry}`)
    else newest = Math.max(newest, stat.mtimeMs)
  }
  for (const entry of ['src', 'index.html', 'vite.config.ts', 'env.schema.ts'])
    visit(`${WEB_DIR}${entry}`)
  return newest
}

/** Builds the console when dist/ is missing or older than its sources (turbo builds it first). */
export function ensureBuilt(): void {
  const manifest = `${WEB_DIR}dist/.vite/manifest.json`
  if (existsSync(manifest) && statSync(manifest).mtimeMs >= newestSourceMtime()) return
  // A production build even when called from vitest (which sets NODE_ENV=test, and Vite would
  // then bundle Vue's development build).
  const result = spawnSync(process.execPath, [VITE, 'build', '--mode', 'production'], {
    cwd: WEB_DIR,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: 'pipe',
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`)
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  ensureBuilt()
  const clerk = await startClerkLocal({ port: 0, users: options.users ?? 300, seed: 1 })
  let apiAddress: URL | undefined
  const relay = await apiRelay(() => {
    if (!apiAddress) throw new Error('the API is not listening yet')
    return apiAddress
  })
  const output: string[] = []
  const preview = spawn(
    process.execPath,
    [VITE, 'preview', '--host', '127.0.0.1', '--port', '0', '--strictPort'],
    {
      cwd: WEB_DIR,
      env: {
        ...process.env,
        ACTAS_FAPI_TARGET: clerk.frontendApiUrl,
        ACTAS_API_TARGET: relay.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  preview.stdout?.on('data', (d: Buffer) => output.push(d.toString()))
  preview.stderr?.on('data', (d: Buffer) => output.push(d.toString()))
  let url: string
  try {
    url = await previewUrl(preview, output, 60_000)
  } catch (error) {
    if (preview.exitCode === null) preview.kill('SIGTERM')
    await relay.close()
    await clerk.stop()
    throw error
  }
  const apiLogs: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      apiLogs.push(chunk.toString('utf8'))
      done()
    },
  })
  const config = loadConfig({
    ...localClerkEnvironment(clerk, url),
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: '0',
    // The e2e and the bench start many impersonations within a minute.
    RATE_LIMIT_START_PER_MINUTE: '10000',
    RATE_LIMIT_SEARCH_PER_MINUTE: '100000',
    // Clerk's webhooks reach the API (below), so a demotion ends an impersonation at once.
    CLERK_WEBHOOK_SIGNING_SECRET: clerk.webhookSecret,
    ...options.apiEnv?.(clerk, url),
  })
  // The audit log: PGlite in memory, loaded from the run's migrated template (no initdb per file).
  const database = await openTestDatabase()
  const deps = await createDeps(config, { logger: createLogger('info', sink), database })
  let app: Awaited<ReturnType<typeof buildApp>> | undefined
  try {
    app = await buildApp(deps)
    const apiUrl = await app.listen({ host: '127.0.0.1', port: 0 })
    apiAddress = new URL(apiUrl)
    clerk.webhooks.addEndpoint(`${apiUrl}/webhooks/clerk`)

    const account = (role: SeededAccount['role']) => {
      const found = clerk.accounts.find((a) => a.role === role)
      if (!found) throw new Error(`no seeded ${role} account`)
      return found
    }
    const started = { app, preview }
    return {
      url,
      apiUrl,
      clerk,
      deps,
      apiLogs,
      account,
      async apiAs(role) {
        const fapi = createFapiClient({ frontendApiUrl: clerk.frontendApiUrl, origin: url })
        const a = account(role)
        const session = await fapi.signInWithPassword(a.identifier, a.password)
        return createActAsClient({
          url: `${apiUrl}/trpc`,
          getToken: () => fapi.getToken(session.sessionId),
        })
      },
      async stop() {
        const child = started.preview
        if (child.exitCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve))
          child.kill('SIGTERM')
          await exited
        }
        await relay.close()
        await started.app.close()
        await deps.close()
        await database.close()
        await clerk.stop()
      },
    }
  } catch (error) {
    if (preview.exitCode === null) preview.kill('SIGTERM')
    await relay.close()
    await app?.close()
    await deps.close()
    await database.close()
    await clerk.stop()
    throw error
  }
}
