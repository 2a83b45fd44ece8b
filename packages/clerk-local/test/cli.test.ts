import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { startNodeReceiver } from './support/webhook-receiver.js'

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
  // 'close': the process ended and its output was read to the end.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
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
  accounts: Array<{
    role: string
    kind: string
    identifier: string
    password: string
    name: string
    permissions: string[]
  }>
  machines: Array<{ id: string; name: string; secretKey: string; scopedMachineIds: string[] }>
  webhookSecret: string
  webhooks: string[]
}

describe('clerk-local CLI', () => {
  it('prints the staff table, then one JSON line that drives the BAPI; SIGTERM stops it', async () => {
    const cli = run(['--port', '0', '--users', '50', '--fault', 'GET /v1/jwks=503:9'])
    const jsonLine = await cli.jsonLine
    const startup = JSON.parse(jsonLine) as StartupJson
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
    // Staff apart from customers, each with what it may do in Support.
    expect(startup.accounts.map((a) => [a.kind, a.role, a.identifier, a.permissions])).toEqual([
      ['staff', 'admin', 'ada@support.actas.test', ['org:admin:impersonate']],
      ['staff', 'agent', 'sam@support.actas.test', []],
      ['staff', 'colleague', 'grace@support.actas.test', ['org:admin:impersonate']],
      [
        'staff',
        'approver',
        'katherine@support.actas.test',
        ['org:admin:impersonate', 'org:admin:approve_access'],
      ],
      ['customer', 'banned', 'mallory.banks@example.com', []],
      ['customer', 'locked', 'larry.lockwood@example.com', []],
    ])
    expect(table).toContain('grace@support.actas.test')
    expect(table).toContain('actas-colleague-pw')
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
    expect(await count.json()).toEqual({ object: 'total_count', total_count: 56 })
    const jwks = await fetch(`${startup.url}/v1/jwks`, { headers })
    expect(jwks.status).toBe(503)
    expect(jwks.headers.get('retry-after')).toBe('9')

    cli.child.kill('SIGTERM')
    expect(await cli.exited).toBe(0)
    // The JSON line is the last start-up line: nothing followed it (the calls above included)
    // until the server stopped.
    expect(cli.lines.slice(cli.lines.indexOf(jsonLine) + 1)).toEqual([
      'clerk-local stopped (SIGTERM)',
    ])
    await expect(fetch(`${startup.url}/v1/users/count`, { headers })).rejects.toThrow()
  })

  it('--webhook (repeatable) delivers Svix-signed events; webhookSecret is in the JSON line only', async () => {
    let secret = '' // known once the CLI printed it
    const first = await startNodeReceiver(() => secret)
    const second = await startNodeReceiver(() => secret)
    try {
      const cli = run([
        '--port',
        '0',
        '--users',
        '5',
        '--webhook',
        first.url,
        '--webhook',
        second.url,
      ])
      const startup = JSON.parse(await cli.jsonLine) as StartupJson
      secret = startup.webhookSecret
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)
      expect(startup.webhooks).toEqual([first.url, second.url])
      expect(cli.lines.filter((l) => l.includes(secret))).toHaveLength(1)
      const agent = startup.accounts.find((a) => a.role === 'agent')!
      const users = await fetch(
        `${startup.url}/v1/users?email_address=${encodeURIComponent(agent.identifier)}`,
        { headers: { Authorization: `Bearer ${startup.secretKey}` } },
      )
      const [user] = (await users.json()) as Array<{ id: string }>
      const ban = await fetch(`${startup.url}/v1/users/${user!.id}/ban`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${startup.secretKey}` },
      })
      expect(ban.status).toBe(200)
      for (const receiver of [first, second])
        await expect
          .poll(() => receiver.verified('user.updated').map((r) => r.event!.data.id), {
            timeout: 20_000,
          })
          .toEqual([user!.id])

      // A given secret is used as is.
      const given = 'whsec_' + Buffer.alloc(24, 7).toString('base64')
      const other = run(['--port', '0', '--users', '0', '--webhook-secret', given])
      expect((JSON.parse(await other.jsonLine) as StartupJson).webhookSecret).toBe(given)
    } finally {
      await first.close()
      await second.close()
    }
  })

  it('exits with 2 and a clear message on bad flags', async () => {
    const runs: { args: string[]; cli: ReturnType<typeof run> }[] = []
    for (const args of [
      ['--bogus'],
      ['--port', 'abc'],
      ['--users', '-5'],
      ['--fault', 'POST /v1/actor_tokens=418'],
      ['--latency', 'GET /v1/users'],
      ['--webhook', 'https://example.com/hook'],
      ['--webhook', 'not a url'],
      ['--webhook-secret', 'hunter2'],
      ['--actor-idle-seconds', '0'],
    ]) {
      // All at once: nine processes one after another outlast the timeout on a busy machine.
      runs.push({ args, cli: run(args) })
    }
    for (const { args, cli } of runs) {
      expect(await cli.exited, args.join(' ')).toBe(2)
      expect(cli.stderr()).toMatch(/^clerk-local: /)
      expect(cli.stderr()).toContain('Usage: clerk-local')
    }
  })
})
