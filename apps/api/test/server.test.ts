// The process: server.ts listens, answers /healthz and /readyz, closes on SIGTERM; a bad
// environment stops it at start-up with a plain list of problems.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildApp,
  createDeps,
  IN_MEMORY_DATA_DIR,
  loadConfig,
  localClerkEnvironment,
} from '../src/index.js'
import { startApiProcess } from './support/api-process.js'

const apiDir = fileURLToPath(new URL('..', import.meta.url))
const tsx = fileURLToPath(import.meta.resolve('tsx/cli'))

let clerk: ClerkLocal

beforeAll(async () => {
  clerk = await startClerkLocal({ port: 0, users: 50 })
}, 30_000)

afterAll(async () => {
  await clerk?.stop()
})

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [tsx, '--conditions=@actas/source', 'src/server.ts'], {
    cwd: apiDir,
    env: { PATH: process.env['PATH'] ?? '', CLERK_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, output: () => ({ stdout, stderr }) }
}

describe('server.ts', () => {
  it('serves health and readiness, then closes gracefully on SIGTERM', async () => {
    // On a free port (PORT=0; the port comes from its "Server listening at" line). Start-up is
    // tsx transpiling the sources, then creating and migrating an in-memory PGlite (WASM): it took
    // ~33 s at load average 20 on 2 cores, so only the test's (generous) timeout bounds it.
    const api = await startApiProcess({
      NODE_ENV: 'production',
      CLERK_SECRET_KEY: 'sk_live_for_this_test_only',
      CLERK_PUBLISHABLE_KEY: `pk_live_${Buffer.from('clerk.example.com$').toString('base64')}`,
      CLERK_API_URL: 'https://clerk.invalid',
      AUTHORIZED_PARTIES: 'https://support.example.com',
      STAFF_ORGANIZATIONS: 'org_2supportTeam',
      ACTAS_DATA_DIR: IN_MEMORY_DATA_DIR,
      CLERK_TIMEOUT_MS: '500',
      LOG_LEVEL: 'info',
    })
    try {
      const health = await fetch(`${api.url}/healthz`)
      expect(health.status).toBe(200)
      // Clerk (an unresolvable host here) is not reachable: not ready, and it says which part.
      const ready = await fetch(`${api.url}/readyz`)
      expect(ready.status).toBe(503)
      expect(await ready.json()).toMatchObject({ database: 'ok', clerk: 'unavailable' })
    } finally {
      await api.stop()
    }
    expect(api.exit()).toEqual({ code: 0, signal: null })
    expect(api.output.join('\n')).toContain('shutting down')
  }, 180_000)

  it("refuses to start in production with the local server's keys, listing each problem", async () => {
    const proc = run({
      NODE_ENV: 'production',
      CLERK_SECRET_KEY: clerk.secretKey,
      CLERK_PUBLISHABLE_KEY: clerk.publishableKey,
      CLERK_API_URL: clerk.url,
      ACTAS_DATA_DIR: IN_MEMORY_DATA_DIR,
    })
    expect(await proc.exited).toBe(1)
    const { stderr } = proc.output()
    expect(stderr).toContain('Invalid configuration')
    for (const name of [
      'CLERK_SECRET_KEY',
      'CLERK_PUBLISHABLE_KEY',
      'CLERK_API_URL',
      'AUTHORIZED_PARTIES',
      'STAFF_ORGANIZATIONS',
    ]) {
      expect(stderr).toContain(name)
    }
    expect(stderr).not.toContain(clerk.secretKey)
    expect(stderr).not.toMatch(/\n\s+at /)
  }, 60_000)
})

describe('/readyz in-process', () => {
  it('is ready when the database and the local Clerk server answer', async () => {
    const config = loadConfig({
      ...localClerkEnvironment(clerk, 'http://localhost:5173'),
      LOG_LEVEL: 'silent',
    })
    const deps = await createDeps(config)
    const app = await buildApp(deps)
    try {
      const ready = await app.inject({ method: 'GET', url: '/readyz' })
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toEqual({ status: 'ready', database: 'ok', clerk: 'ok' })
      expect(ready.headers['x-request-id']).toEqual(expect.any(String))
      clerk.faults.add({ route: '*', status: 503 })
      const down = await app.inject({ method: 'GET', url: '/readyz' })
      expect(down.statusCode).toBe(503)
      expect(down.json()).toMatchObject({ clerk: 'unavailable', database: 'ok' })
    } finally {
      clerk.faults.clear()
      await app.close()
      await deps.close()
    }
  }, 120_000)
})
