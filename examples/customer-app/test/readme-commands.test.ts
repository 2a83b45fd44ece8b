// The examples run from their READMEs against a running `dev`: this starts the root `dev`
// (scripts/dev.mjs, the local Clerk server, the API, the console, this customer application) on
// free ports, then runs every fenced block marked `sh dev` in examples/customer-app/README.md and
// examples/audit-export/README.md as written, from the repository's root. Only two things differ
// from a person's terminal: the default ports in a command are replaced by this run's, and `dev`
// writes the examples' env files into a temporary folder (ACTAS_DEV_ENV_DIR), so the command gets
// that file's path in ACTAS_ENV_FILE instead of reading `<example>/.env.dev`.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { freePort } from '@actas/api/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DEFAULT_PORTS = { api: 4000, web: 5173, app: 5180, appService: 4300 }

/** The `sh dev` blocks of a README, one command per block (`\` continuations joined). */
function devCommands(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh dev\n([\s\S]*?)^```/gm)].map((m) =>
    m[1]!.replace(/\\\n\s*/g, ' ').trim(),
  )
}

/** Environment without the caller's Clerk or ActAs settings (the commands must not need them). */
function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(CLERK_|ACTAS_|VITE_|NODE_ENV$)/.test(k)) out[k] = v
  return out
}

let dev: ChildProcess
let envDir: string
const output: string[] = []
const ports = { ...DEFAULT_PORTS }

/** Output of a child that could not bind its port (someone took it between pick and bind). */
const PORT_TAKEN = /EADDRINUSE|address already in use|Port \d+ is in use|is already in use/

/**
 * Starts `dev` on this run's ports and waits for its last line. The local Clerk server binds port
 * 0 itself (its URL reaches the others from its JSON line). The API, the console, the customer
 * application and its service need each other's addresses before they listen (authorized
 * parties, proxies, webhooks), so their ports are picked here; every child binds strictly, so a
 * port taken in between stops `dev` with EADDRINUSE instead of reaching someone else's server,
 * and `dev` is started again on other ports.
 */
async function startDev(attemptsLeft: number): Promise<void> {
  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort()
  output.length = 0
  dev = spawn(process.execPath, ['scripts/dev.mjs'], {
    cwd: ROOT,
    env: {
      ...cleanEnv(),
      ACTAS_CLERK_PORT: '0',
      ACTAS_API_PORT: String(ports.api),
      ACTAS_WEB_PORT: String(ports.web),
      ACTAS_APP_PORT: String(ports.app),
      ACTAS_APP_SERVICE_PORT: String(ports.appService),
      ACTAS_DEV_ENV_DIR: envDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output.push(d.toString())
      if (output.join('').includes('click Impersonate')) resolve()
    }
    dev.stdout?.on('data', onData)
    dev.stderr?.on('data', onData)
    dev.once('exit', (code) => reject(new Error(`dev exited (${code}):\n${output.join('')}`)))
  })
  try {
    await ready
  } catch (error) {
    if (attemptsLeft > 1 && PORT_TAKEN.test(output.join(''))) return startDev(attemptsLeft - 1)
    throw error
  }
}

beforeAll(async () => {
  envDir = mkdtempSync(`${tmpdir()}/actas-readme-`)
  await startDev(3)
}, 240_000)

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev.once('exit', resolve))
    dev.kill('SIGTERM')
    await exited
  }
  if (envDir) rmSync(envDir, { recursive: true, force: true })
})

function withThisRunsPorts(command: string): string {
  let out = command
  for (const key of Object.keys(DEFAULT_PORTS) as (keyof typeof ports)[])
    out = out.replace(new RegExp(`:${DEFAULT_PORTS[key]}\\b`, 'g'), `:${ports[key]}`)
  return out
}

async function run(
  command: string,
  envFile: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('sh', ['-c', withThisRunsPorts(command)], {
    cwd: ROOT,
    env: { ...cleanEnv(), ACTAS_ENV_FILE: envFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

const readme = (example: string) => readFileSync(`${ROOT}examples/${example}/README.md`, 'utf8')

describe("the examples' README commands, against a running dev", { timeout: 180_000 }, () => {
  it('dev printed where it wrote the keys, and no secret', () => {
    const printed = output.join('')
    expect(printed).toContain(`${envDir}/customer-app.env`)
    expect(printed).toContain(`${envDir}/audit-export.env`)
    expect(printed).not.toMatch(/ak_[A-Za-z0-9]{8,}|whsec_|sk_test_/)
  })

  it("audit-export's command exports the audit log (exit 0)", async () => {
    const commands = devCommands(readme('audit-export'))
    expect(commands.length).toBeGreaterThan(0)
    for (const command of commands) {
      const res = await run(command, `${envDir}/audit-export.env`)
      expect(res.code, `${command}\n${res.stderr}`).toBe(0)
      expect(res.stderr).toMatch(/done, \d+ rows/)
    }
  })

  it("customer-app's command reaches its pages' origin and service (exit 0)", async () => {
    const commands = devCommands(readme('customer-app'))
    expect(commands.length).toBeGreaterThan(0)
    for (const command of commands) {
      const res = await run(command, `${envDir}/customer-app.env`)
      expect(res.code, `${command}\n${res.stderr}`).toBe(0)
      expect(JSON.parse(res.stdout)).toMatchObject({
        publishableKey: expect.stringMatching(/^pk_test_/) as unknown,
        consoleUrl: `http://localhost:${ports.web}`,
      })
    }
  })
})
