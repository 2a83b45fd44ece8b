import { parseArgs } from 'node:util'
import type { FaultRule } from './faults.js'
import {
  accountSummaries,
  isWebhookSecret,
  originProblem,
  startClerkLocal,
  type ClerkLocalOptions,
} from './index.js'
import { webhookUrlProblem } from './webhooks.js'

// `clerk-local`: start the local Clerk-compatible server from a shell.
// The last start-up line is one JSON object (keys included) for tools such as scripts/dev.mjs;
// nothing else ever prints the secret key.

const USAGE = `Usage: clerk-local [options]

  --port N                 port to listen on (default 4100; 0 = any free port)
  --host HOST              interface to bind (default 127.0.0.1)
  --users N                seeded customers (default 5000)
  --seed S                 seed of the demo data (default 1; same seed, same users)
  --quota                  free-plan quota: 402 after 5 actor tokens per calendar month
  --fault ROUTE=STATUS[:RETRY_AFTER]
                           answer ROUTE with 429, 500 or 503 (repeatable), e.g.
                           --fault 'POST /v1/actor_tokens=429:30'   --fault '*=503'
  --latency ROUTE=MS       delay ROUTE by MS milliseconds (repeatable)
  --actor-idle-seconds N   inactivity that ends an impersonation session (default 600)
  --webhook URL            deliver Clerk's events, Svix-signed, to URL (repeatable; loopback only)
  --webhook-secret SECRET  the signing secret (whsec_…); generated when absent
  --allowed-origin ORIGIN  a browser origin that may call the Frontend API directly (CORS with
                           credentials; repeatable), e.g. http://127.0.0.1:5174
  -h, --help               show this help

The last start-up line is a JSON object with url, frontendApiUrl, publishableKey, secretKey,
jwtPublicKeyPem, the staff accounts, the machines (id, name, secretKey, scopedMachineIds),
webhookSecret and webhooks (the endpoint URLs). Faults and the quota can also be changed at run time
through the control API (POST /__local/faults, /__local/quota; see the package README).`

export class UsageError extends Error {}

function integer(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(
      `--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`,
    )
  return Number(raw)
}

/** `ROUTE=VALUE`: split on the last `=` (routes contain spaces, never `=`). */
function routeValue(flag: string, spec: string): [string, string] {
  const eq = spec.lastIndexOf('=')
  if (eq <= 0 || eq === spec.length - 1)
    throw new UsageError(
      `--${flag} expects ROUTE=VALUE, e.g. 'POST /v1/actor_tokens=${flag === 'fault' ? '429:30' : '500'}' (got ${JSON.stringify(spec)})`,
    )
  return [spec.slice(0, eq).trim(), spec.slice(eq + 1).trim()]
}

export interface CliOptions extends ClerkLocalOptions {
  help: boolean
}

export function parseCli(argv: string[]): CliOptions {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        users: { type: 'string' },
        seed: { type: 'string' },
        quota: { type: 'boolean' },
        fault: { type: 'string', multiple: true },
        latency: { type: 'string', multiple: true },
        'actor-idle-seconds': { type: 'string' },
        webhook: { type: 'string', multiple: true },
        'webhook-secret': { type: 'string' },
        'allowed-origin': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  const faults: FaultRule[] = []
  for (const spec of values.fault ?? []) {
    const [route, value] = routeValue('fault', spec)
    const match = /^(429|500|503)(?::(\d+))?$/.exec(value)
    if (!match)
      throw new UsageError(
        `--fault status must be 429, 500 or 503, optionally :RETRY_AFTER seconds (got ${JSON.stringify(value)})`,
      )
    faults.push({
      route,
      status: Number(match[1]) as 429 | 500 | 503,
      ...(match[2] ? { retryAfterSeconds: Number(match[2]) } : {}),
    })
  }
  for (const spec of values.latency ?? []) {
    const [route, value] = routeValue('latency', spec)
    faults.push({ route, latencyMs: integer('latency', value, 0, 60_000)! })
  }
  if (values.host !== undefined && values.host.trim() === '')
    throw new UsageError('--host must not be empty')
  const seed = integer('seed', values.seed, 0, 2 ** 31 - 1)
  const webhooks = values.webhook ?? []
  for (const url of webhooks) {
    const problem = webhookUrlProblem(url)
    if (problem) throw new UsageError(`--webhook: ${problem}`)
  }
  const webhookSecret = values['webhook-secret']
  if (webhookSecret !== undefined && !isWebhookSecret(webhookSecret))
    throw new UsageError('--webhook-secret must be whsec_ followed by a base64 key of 16+ bytes')
  const allowedOrigins = values['allowed-origin'] ?? []
  for (const origin of allowedOrigins) {
    const problem = originProblem(origin)
    if (problem) throw new UsageError(`--allowed-origin: ${problem}`)
  }
  const actorIdle = integer('actor-idle-seconds', values['actor-idle-seconds'], 1, 30 * 86_400)
  return {
    help: values.help ?? false,
    port: integer('port', values.port, 0, 65_535) ?? 4100,
    host: values.host ?? '127.0.0.1',
    users: integer('users', values.users, 0, 1_000_000) ?? 5000,
    ...(seed !== undefined ? { seed } : {}),
    ...(actorIdle !== undefined ? { actorSessionIdleSeconds: actorIdle } : {}),
    webhooks,
    ...(webhookSecret !== undefined ? { webhookSecret } : {}),
    quota: values.quota ?? false,
    faults,
    allowedOrigins,
  }
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('   ')}`.trimEnd())
}

export async function main(argv: string[]): Promise<void> {
  let options: CliOptions
  try {
    options = parseCli(argv)
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`clerk-local: ${error.message}\n\n${USAGE}`)
      process.exit(2)
    }
    throw error
  }
  if (options.help) {
    console.log(USAGE)
    return
  }

  const { help: _help, ...startOptions } = options
  const started = Date.now()
  let local
  try {
    local = await startClerkLocal(startOptions)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE')
      console.error(
        `clerk-local: port ${options.port} is in use; pass --port 0 for any free port, or another --port`,
      )
    else if (code === 'EADDRNOTAVAIL') console.error(`clerk-local: cannot bind ${options.host}`)
    else console.error(`clerk-local: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }

  const faultText = local.faults
    .rules()
    .map(
      (r) =>
        `${r.route} → ${[r.status, r.latencyMs !== undefined ? `+${r.latencyMs}ms` : ''].filter(Boolean).join(' ')}`,
    )
  const accounts = accountSummaries(local.state)
  const lines = [
    `clerk-local is running (seeded in ${Date.now() - started} ms)`,
    `  Backend API   ${local.url}   (apiUrl / CLERK_API_URL)`,
    `  Frontend API  ${local.frontendApiUrl}`,
    `  Users         ${local.state.users.size.toLocaleString('en-US')} (seed ${options.seed ?? 1}), ${local.state.sessions.size.toLocaleString('en-US')} of them signed in`,
    `  Quota         ${options.quota ? 'on: 402 after 5 actor tokens per calendar month' : 'off'}`,
    `  Faults        ${faultText.length > 0 ? faultText.join(', ') : 'none'}`,
    `  Webhooks      ${local.webhooks.endpoints.length > 0 ? local.webhooks.endpoints.join(', ') : 'none'} (secret in the JSON line)`,
    '',
    'Staff (members of Support; local passwords):',
    ...table([
      ['role', 'identifier', 'password', 'name', 'permissions'],
      ...accounts
        .filter((a) => a.kind === 'staff')
        .map((a) => [
          a.role,
          a.identifier,
          a.password,
          a.name,
          a.permissions.join(', ') || '(none)',
        ]),
    ]),
    '',
    'Special customers (local passwords; every other customer has none):',
    ...table([
      ['role', 'identifier', 'password', 'name'],
      ...accounts
        .filter((a) => a.kind === 'customer')
        .map((a) => [a.role, a.identifier, a.password, a.name]),
    ]),
    '',
    'Machines (M2M: a machine may call the machines in its scopes; secret keys in the JSON line):',
    ...table([
      ['name', 'machine id', 'scopes'],
      ...local.machines.map((m) => [
        m.name,
        m.id,
        m.scopedMachineIds
          .map((id) => local.machines.find((s) => s.id === id)?.name ?? id)
          .join(', ') || '(none)',
      ]),
    ]),
    '',
    'Ctrl-C stops the server. The next line is for tools (it holds the secret key).',
  ]
  console.log(lines.join('\n'))
  console.log(
    JSON.stringify({
      url: local.url,
      frontendApiUrl: local.frontendApiUrl,
      publishableKey: local.publishableKey,
      secretKey: local.secretKey,
      jwtPublicKeyPem: local.jwtPublicKeyPem,
      accounts,
      machines: local.machines,
      webhookSecret: local.webhookSecret,
      webhooks: [...local.webhooks.endpoints],
    }),
  )

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    local
      .stop()
      .then(() => {
        console.log(`clerk-local stopped (${signal})`)
        process.exit(0)
      })
      .catch((error: unknown) => {
        console.error('clerk-local: error while stopping', error)
        process.exit(1)
      })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

await main(process.argv.slice(2))
