// The example service against the running stack: the local Clerk-compatible server and the API
// (buildApp, listening on a port), both in this process; the example runs as a child process,
// exactly as it would in production (env + flags), and its output is compared with the audit
// table.
import { spawn } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { buildApp, createDeps, createLogger, loadConfig, localClerkEnvironment } from '@actas/api'
import type { AppDeps } from '@actas/api'
import { customersAnyoneMayImpersonate, openTestDatabase, signInOn } from '@actas/api/testing'
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { createActAsClient } from '@actas/contracts/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COLUMNS } from '../src/format.js'
// The API's validator of OCSF events against its vendored OCSF schema.
import { ocsfErrors } from '../../../apps/api/test/ocsf/validate.js'

const ORIGIN = 'http://localhost:5173'
const DAY = 86_400_000
const T0 = Date.UTC(2026, 9, 1, 9, 0, 0)
const root = fileURLToPath(new URL('..', import.meta.url))

let clerk: ClerkLocal
let deps: AppDeps
let database: Awaited<ReturnType<typeof openTestDatabase>> | undefined
let app: Awaited<ReturnType<typeof buildApp>>
let apiUrl = ''
/** The API's clock: audit rows get these timestamps. */
let clock = T0

async function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@actas/source', 'src/main.ts', ...args],
    {
      cwd: root,
      env: {
        PATH: process.env['PATH'] ?? '',
        ACTAS_ENV_FILE: 'none', // never the `.env.dev` a local `dev` wrote
        ACTAS_API_URL: apiUrl,
        CLERK_API_URL: clerk.url,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

/** RFC 4180, enough for the export: quoted fields with doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += c
  }
  return rows
}

const secretOf = (name: string) => clerk.machines.find((m) => m.name === name)!.secretKey

/** The audit table's rows created in [from, to), newest first, as the export should print them. */
async function auditRows(from: number, to: number) {
  const out: Array<Record<string, string | number | null>> = []
  let cursor: string | undefined
  do {
    const page = await deps.audit.list({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      limit: 100,
      ...(cursor ? { cursor } : {}),
    })
    for (const r of page.rows) {
      out.push({
        id: r.id,
        createdAt: r.createdAt.toISOString(),
        updatedAt: r.updatedAt.toISOString(),
        status: r.status,
        actorId: r.actorId,
        actorEmail: r.actorEmail,
        userId: r.userId,
        userEmail: r.userEmail,
        reason: r.reason,
        ticketUrl: r.ticketUrl,
        mode: r.mode,
        sessionMinutes: r.sessionMinutes,
        expiresAt: r.expiresAt?.toISOString() ?? null,
        sessionExpiresAt: r.sessionExpiresAt?.toISOString() ?? null,
        outcomeCode: r.outcomeCode,
        outcomeMessage: r.outcomeMessage,
        clerkActorTokenId: r.clerkActorTokenId,
        requestId: r.requestId,
        ip: r.ip,
        userAgent: r.userAgent,
      })
    }
    cursor = page.next ?? undefined
  } while (cursor)
  return out
}

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  clerk = await startClerkLocal({ users: 60, seed: 1 })
  const config = loadConfig({
    ...localClerkEnvironment(clerk, ORIGIN),
    CLERK_MACHINE_ID: clerk.machines.find((m) => m.name === 'actas-api')!.id,
    RATE_LIMIT_START_PER_MINUTE: '1000',
    IMPERSONATION_QUOTA: '1000',
  })
  // The audit log on PGlite loaded from the run's migrated template (the API suite's global set-up).
  database = await openTestDatabase()
  deps = await createDeps(config, {
    logger: createLogger('silent'),
    now: () => new Date(clock),
    database,
  })
  app = await buildApp(deps)
  await app.listen({ port: 0, host: '127.0.0.1' })
  apiUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/trpc`

  // The audit log: impersonations by the admin on three days, one revoked, one refused.
  const admin = await signInOn(clerk, 'admin', { origin: ORIGIN })
  const api = createActAsClient({ url: apiUrl, getToken: () => admin.token() })
  const customers = customersAnyoneMayImpersonate(clerk)
  const reasons = [
    'Invoice totals look wrong (ticket 101)',
    'Cannot find "Export", asked for help',
    'Sign-up stuck, step 3; see ticket 103',
    '=HYPERLINK("http://evil") typed in a reason',
    'Multi-line\nreason, with a comma',
    'Day three: profile picture missing',
    'Day three: second look at billing',
  ]
  const days = [0, 0, 1, 1, 1, 2, 2]
  for (let i = 0; i < reasons.length; i++) {
    clock = T0 + days[i]! * DAY + i * 60_000
    const started = await api.impersonation.start.mutate({
      userId: customers[i]!.id,
      reason: reasons[i]!,
      ticketUrl: `https://support.example.com/tickets/${100 + i}`,
    })
    if (i === 2) await api.impersonation.revoke.mutate({ impersonationId: started.impersonationId })
  }
  clock = T0 + DAY + 3_600_000
  // Policy refusal (the admin tries a banned user): a `denied` row on day two.
  const banned = clerk.accounts.find((a) => a.role === 'banned')!
  await api.impersonation.start
    .mutate({ userId: banned.userId, reason: 'Banned user, should be refused' })
    .catch(() => undefined)
  clock = T0 + 5 * DAY
}, 60_000)

afterAll(async () => {
  await app?.close()
  await deps?.close()
  await database?.close()
  await clerk?.stop()
})

describe('audit-export', () => {
  it('exports one day as CSV: exactly the audit rows of that range, every column', async () => {
    const from = T0 - 9 * 3_600_000 + DAY // 2026-10-02T00:00Z
    const to = from + DAY
    const res = await run(['--from', '2026-10-02', '--to', '2026-10-03', '--format', 'csv'], {
      CLERK_MACHINE_SECRET_KEY: secretOf('audit-export'),
    })
    expect(res.stderr).toContain('done')
    expect(res.code).toBe(0)
    const [header, ...lines] = parseCsv(res.stdout)
    expect(header).toEqual([...COLUMNS])
    const expected = await auditRows(from, to)
    expect(expected.length).toBe(4) // three started (one revoked) and one refused
    expect(expected.map((r) => r.status).sort()).toEqual(['denied', 'issued', 'issued', 'revoked'])
    const csvValue = (v: string | number | null) =>
      v === null ? '' : typeof v === 'string' && /^[=+\-@]/.test(v) ? `'${v}` : String(v)
    expect(lines).toEqual(expected.map((r) => COLUMNS.map((c) => csvValue(r[c]!))))
    // A spreadsheet would run this reason as a formula: it is neutralised.
    expect(res.stdout).toContain(`"'=HYPERLINK(""http://evil"") typed in a reason"`)
    // The audit log stores no control characters: the line break became a space (the CSV
    // quoting of line breaks is format.test.ts's).
    expect(res.stdout).toContain('"Multi-line reason, with a comma"')
  })

  it('exports everything as JSON Lines over several pages, with a plain counter on a non-TTY stderr', async () => {
    const res = await run(
      ['--from', '2026-09-01', '--to', '2026-11-01', '--format', 'jsonl', '--page-size', '3'],
      { CLERK_MACHINE_SECRET_KEY: secretOf('audit-export') },
    )
    expect(res.code).toBe(0)
    const rows = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const expected = await auditRows(Date.UTC(2026, 8, 1), Date.UTC(2026, 10, 1))
    expect(expected).toHaveLength(8)
    expect(rows).toEqual(expected)
    // 8 rows in pages of 3: three requests, one counter line each, then the total.
    expect(res.stderr.trim().split('\n')).toEqual([
      'audit-export: 3 rows',
      'audit-export: 6 rows',
      'audit-export: 8 rows',
      'audit-export: done, 8 rows',
    ])
    // Each page the machine read is itself in the audit: three audit_read rows.
    const reads = (await deps.audit.listAuditReads()).filter((r) => r.params['limit'] === 3)
    expect(reads).toHaveLength(3)
    const machineId = clerk.machines.find((m) => m.name === 'audit-export')!.id
    // (The API's clock stands still in this test: compare the pages as a set.)
    expect(reads.map((r) => [r.machineId, r.procedure, r.rowCount]).sort()).toEqual([
      [machineId, 'impersonation.list', 2],
      [machineId, 'impersonation.list', 3],
      [machineId, 'impersonation.list', 3],
    ])
  })

  it('exports the chain as OCSF JSON Lines: every event of the range once, in chain order, each valid OCSF', async () => {
    const from = Date.UTC(2026, 9, 2)
    const to = Date.UTC(2026, 9, 3)
    const res = await run(
      ['--from', '2026-10-02', '--to', '2026-10-03', '--format', 'ocsf', '--page-size', '4'],
      { CLERK_MACHINE_SECRET_KEY: secretOf('audit-export') },
    )
    expect(res.stderr).toContain('done')
    expect(res.code).toBe(0)
    const events = res.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            class_uid: number
            metadata: { sequence: number; uid: string; correlation_uid: string }
          },
      )
    const expected: Array<{ seq: number; hash: string; impersonationId: string }> = []
    for await (const page of deps.audit.eventPages(1000))
      for (const e of page)
        if (e.createdAt.getTime() >= from && e.createdAt.getTime() < to) expected.push(e)
    // Day two: three starts (requested + issued), one revoke, one refusal (requested + denied).
    expect(expected).toHaveLength(9)
    expect(
      events.map((e) => [e.metadata.sequence, e.metadata.uid, e.metadata.correlation_uid]),
    ).toEqual(expected.map((e) => [e.seq, e.hash, e.impersonationId]))
    for (const e of events) expect(ocsfErrors(e), JSON.stringify(e.metadata)).toEqual([])
    expect(events.map((e) => e.class_uid)).toEqual(expected.map(() => 3003))
    // 9 events in pages of 4: three pages, a counter line each, then the total.
    expect(res.stderr.trim().split('\n')).toEqual([
      'audit-export: 4 rows',
      'audit-export: 8 rows',
      'audit-export: 9 rows',
      'audit-export: done, 9 rows',
    ])
    const reads = (await deps.audit.listAuditReads()).filter((r) => r.procedure === 'audit.export')
    expect(reads.map((r) => r.rowCount).sort()).toEqual([1, 4, 4])
  })

  it('a machine without the scope is refused with a plain explanation, and no secret leaks', async () => {
    const secret = secretOf('no-scope')
    const res = await run(['--from', '2026-10-01'], { CLERK_MACHINE_SECRET_KEY: secret })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('refused this machine (403)')
    expect(res.stdout).toBe(`${COLUMNS.join(',')}\r\n`)
    expect(res.stdout + res.stderr).not.toContain(secret)
  })

  it('a wrong machine secret key is refused by Clerk before ActAs is called', async () => {
    const res = await run(['--from', '2026-10-01'], {
      CLERK_MACHINE_SECRET_KEY: 'ak_00000000000000000000000000000000',
    })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('Clerk refused the machine secret key (401)')
  })

  it('bad flags exit with 2 and the usage', async () => {
    for (const args of [
      [],
      ['--from', 'yesterday'],
      ['--from', '2026-10-02', '--to', '2026-10-01'],
      ['--from', '2026-10-01', '--format', 'xml'],
    ]) {
      const res = await run(args, { CLERK_MACHINE_SECRET_KEY: secretOf('audit-export') })
      expect(res.code, args.join(' ')).toBe(2)
      expect(res.stderr).toContain('Usage: actas-audit-export')
    }
    const noKey = await run(['--from', '2026-10-01'], {})
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain('CLERK_MACHINE_SECRET_KEY')
  })
})
