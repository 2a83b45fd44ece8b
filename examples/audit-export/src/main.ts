#!/usr/bin/env node
// actas-audit-export: exports ActAs's impersonation audit log for a date range, as a Clerk
// machine. Needs only @actas/contracts: an M2M token from the machine's secret key (plain
// fetch to Clerk), then the typed client.
//
//   CLERK_MACHINE_SECRET_KEY=ak_… ACTAS_API_URL=https://actas.example.com/trpc \
//     actas-audit-export --from 2026-11-01 --to 2026-12-01 --format csv --out nov.csv
//
// The root `dev` writes this machine's key and the local URLs to `.env.dev` beside this package
// (git-ignored); it is read when present (`ACTAS_ENV_FILE` names another file, `none` none), and
// the environment wins over it.
import { createWriteStream, existsSync } from 'node:fs'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createActAsClient, getActAsError } from '@actas/contracts/client'
import { exportAuditLog } from './export.js'
import { FORMATS } from './format.js'
import type { Format } from './format.js'
import { M2MTokenError, m2mTokenSource } from './m2m.js'
import { createProgress } from './progress.js'

const USAGE = `Usage: actas-audit-export --from DATE [--to DATE] [--format csv|jsonl|ocsf] [--out FILE]

  --from DATE        first day or instant included (2026-11-01 or 2026-11-01T08:00:00Z)
  --to DATE          end, excluded (default: now)
  --format F         csv (default), jsonl, or ocsf (every audit event, OCSF JSON Lines)
  --out FILE         write there instead of stdout
  --page-size N      rows per request, 1–100 (default 100)
  --api-url URL      ActAs's tRPC endpoint (env ACTAS_API_URL)
  --clerk-api-url U  Clerk's Backend API (env CLERK_API_URL, default https://api.clerk.com)
  -h, --help

The machine secret key comes from the environment only: CLERK_MACHINE_SECRET_KEY (ak_…).
Rows are written newest first; OCSF events in chain order. Progress goes to stderr.`

class UsageError extends Error {}

function instant(name: string, raw: string): string {
  const value = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00.000Z` : raw
  const ms = Date.parse(value)
  if (Number.isNaN(ms))
    throw new UsageError(`--${name} must be a date (YYYY-MM-DD) or an ISO instant`)
  return new Date(ms).toISOString()
}

interface Cli {
  from: string
  to: string
  format: Format
  out: string | undefined
  pageSize: number
  apiUrl: string
  clerkApiUrl: string
  machineSecretKey: string
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): Cli | 'help' {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        'page-size': { type: 'string' },
        'api-url': { type: 'string' },
        'clerk-api-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  if (values.help) return 'help'
  if (!values.from) throw new UsageError('--from is required')
  const from = instant('from', values.from)
  const to = values.to ? instant('to', values.to) : new Date().toISOString()
  if (Date.parse(to) <= Date.parse(from)) throw new UsageError('--to must be after --from')
  const format = FORMATS.find((f) => f === (values.format ?? 'csv'))
  if (!format) throw new UsageError('--format must be csv, jsonl or ocsf')
  const pageSize = Number(values['page-size'] ?? 100)
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100)
    throw new UsageError('--page-size must be an integer from 1 to 100')
  const apiUrl = values['api-url'] ?? env['ACTAS_API_URL']
  if (!apiUrl)
    throw new UsageError('set ACTAS_API_URL (or --api-url), e.g. http://127.0.0.1:4000/trpc')
  const machineSecretKey = env['CLERK_MACHINE_SECRET_KEY']
  if (!machineSecretKey)
    throw new UsageError("set CLERK_MACHINE_SECRET_KEY (the machine's ak_… secret key)")
  return {
    from,
    to,
    format,
    out: values.out,
    pageSize,
    apiUrl,
    clerkApiUrl: values['clerk-api-url'] ?? env['CLERK_API_URL'] ?? 'https://api.clerk.com',
    machineSecretKey,
  }
}

/** Plain words for each failure a caller can meet (a switch over the typed error code). */
function explain(error: unknown): string {
  if (error instanceof M2MTokenError) return error.message
  const e = getActAsError(error)
  switch (e.code) {
    case 'UNAUTHENTICATED':
      return 'ActAs refused the M2M token (401): the machine or its token is unknown, revoked or expired.'
    case 'FORBIDDEN':
      return "ActAs refused this machine (403): its Clerk scopes must include ActAs's machine, and the API's machine permissions must grant impersonation.list (audit.export for ocsf)."
    case 'RATE_LIMITED':
      return `ActAs is rate limiting this machine; retry in ${e.retryAfterSeconds ?? 60} s.`
    case 'INVALID_INPUT':
      return `ActAs refused the request: ${e.message}`
    case 'SERVICE_UNAVAILABLE':
      return e.transport === 'timeout'
        ? `ActAs did not answer in time: ${e.message}`
        : e.transport === 'network'
          ? `ActAs could not be reached: ${e.message}`
          : 'ActAs is unavailable (503); retry later.'
    case 'POLICY_DENIED':
    case 'QUOTA_EXCEEDED':
    case 'USER_NOT_FOUND':
    case 'IMPERSONATION_NOT_FOUND':
    case 'CLERK_REJECTED':
    case 'TICKET_ALREADY_USED':
    case 'REVERIFICATION_REQUIRED':
    case 'INTERNAL':
      return `ActAs failed (${e.code}${e.httpStatus ? `, ${e.httpStatus}` : ''}): ${e.message}`
  }
}

export async function main(argv: string[]): Promise<number> {
  const envFile =
    process.env['ACTAS_ENV_FILE'] ?? fileURLToPath(new URL('../.env.dev', import.meta.url))
  if (envFile !== 'none' && existsSync(envFile)) process.loadEnvFile(envFile)
  // `pnpm run dev -- --from …` hands the `--` on: it ends no option list here.
  const args = argv[0] === '--' ? argv.slice(1) : argv
  let cli: Cli | 'help'
  try {
    cli = parseCli(args, process.env)
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`actas-audit-export: ${error.message}\n\n${USAGE}\n`)
      return 2
    }
    throw error
  }
  if (cli === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }

  const client = createActAsClient({
    url: cli.apiUrl,
    getToken: m2mTokenSource({
      clerkApiUrl: cli.clerkApiUrl,
      machineSecretKey: cli.machineSecretKey,
    }),
  })
  const out = cli.out ? createWriteStream(cli.out) : process.stdout
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain')
  }
  try {
    await exportAuditLog({
      client,
      from: cli.from,
      to: cli.to,
      format: cli.format,
      pageSize: cli.pageSize,
      write,
      progress: createProgress(process.stderr, {
        from: Date.parse(cli.from),
        to: Date.parse(cli.to),
      }),
    })
  } catch (error) {
    process.stderr.write(`\nactas-audit-export: ${explain(error)}\n`)
    return 1
  } finally {
    if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve))
  }
  return 0
}

process.exitCode = await main(process.argv.slice(2))
