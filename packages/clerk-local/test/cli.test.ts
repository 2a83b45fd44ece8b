import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

// The CLI as a person or scripts/dev.mjs runs it: a separate process, its last start-up line
// parsed as JSON, the BAPI called with the printed key, and SIGTERM stopping it cleanly.

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const children: ChildProcess[] = []

function run(args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@actas/source', 'src/cli.ts', ...args],
    {
      cwd: packageDir,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  children.push(child)
  const lines: string[] = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const rl = createInterface({ input: child.stdout! })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const jsonLine = new Promise<string>((resolve, reject) => {
    rl.on('line', (line) => {
      lines.push(line)
      if (line.startsWith('{')) resolve(line)
    })
    void exited.then((code) =>
      reject(new Error(`exited with ${code} before printing the JSON line: ${stderr}`)),
    )
  })
  jsonLine.catch(() => undefined) // awaited only by tests that expect a start-up
  return { child, lines, jsonLine, exited, stderr: () => stderr }
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

interface StartupJson {
  url: string
  frontendApiUrl: string
  publishableKey: string
  secretKey: string
  jwtPublicKeyPem: string
  accounts: Array<{ role: string; identifier: string; password: string }>
  machines: Array<{ id: string; name: string; secretKey: string; scopedMachineIds: string[] }>
}

describe('clerk-local CLI', () => {
  it('prints the staff table, then one JSON line that drives the BAPI; SIGTERM stops it', async () => {
    const cli = run(['--port', '0', '--users', '50', '--fault', 'GET /v1/jwks=503:9'])
    const startup = JSON.parse(await cli.jsonLine) as StartupJson
    // The JSON line is the last start-up line: nothing follows it until the server stops.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(cli.lines[cli.lines.length - 1]!.startsWith('{')).toBe(true)
    const table = cli.lines.join('\n')
    expect(table).toContain('ada@support.actas.test')
    expect(table).toContain('actas-admin-pw')
    // The secret key appears only in the JSON line.
    expect(cli.lines.filter((l) => l.includes(startup.secretKey))).toHaveLength(1)

    expect(startup.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(startup.frontendApiUrl).toBe(`${startup.url}/fapi`)
    expect(startup.publishableKey).toMatch(/^pk_test_/)
    expect(startup.secretKey).toMatch(/^sk_test_actaslocal_/)
    expect(startup.jwtPublicKeyPem).toContain('BEGIN PUBLIC KEY')
    expect(startup.accounts.map((a) => a.role)).toEqual(['admin', 'agent', 'banned', 'locked'])
    // Machines: in the table by name and id, their secret keys only in the JSON line.
    const names = startup.machines.map((m) => m.name)
    expect(names).toEqual(['actas-api', 'helpdesk', 'audit-export', 'no-scope'])
    for (const m of startup.machines) {
      expect(table).toContain(m.id)
      expect(cli.lines.filter((l) => l.includes(m.secretKey))).toHaveLength(1)
    }
    const m2m = await fetch(`${startup.url}/m2m_tokens`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${startup.machines[1]!.secretKey}`,
        'Content-Type': 'application/json',
      },
      body: '{}',
    })
    expect(m2m.status).toBe(201)

    const headers = { Authorization: `Bearer ${startup.secretKey}` }
    const count = await fetch(`${startup.url}/v1/users/count`, { headers })
    expect(await count.json()).toEqual({ object: 'total_count', total_count: 54 })
    const jwks = await fetch(`${startup.url}/v1/jwks`, { headers })
    expect(jwks.status).toBe(503)
    expect(jwks.headers.get('retry-after')).toBe('9')

    cli.child.kill('SIGTERM')
    expect(await cli.exited).toBe(0)
    expect(cli.lines[cli.lines.length - 1]).toBe('clerk-local stopped (SIGTERM)')
    await expect(fetch(`${startup.url}/v1/users/count`, { headers })).rejects.toThrow()
  })

  it('exits with 2 and a clear message on bad flags', async () => {
    for (const args of [
      ['--bogus'],
      ['--port', 'abc'],
      ['--users', '-5'],
      ['--fault', 'POST /v1/actor_tokens=418'],
      ['--latency', 'GET /v1/users'],
    ]) {
      const cli = run(args)
      expect(await cli.exited, args.join(' ')).toBe(2)
      expect(cli.stderr()).toMatch(/^clerk-local: /)
      expect(cli.stderr()).toContain('Usage: clerk-local')
    }
  })
})
