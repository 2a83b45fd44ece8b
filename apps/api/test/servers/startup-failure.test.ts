// createDeps closes what it opened when start-up fails midway. A real fault at a real moment:
// the Postgres server of this file's own is frozen (SIGSTOP) as soon as the audit database is
// open, so the next start-up step (the revocation registry's first read) times out. createDeps
// must reject, and leave nothing behind that keeps the process alive: no pool sockets, no
// membership-mirror or dispatcher timers, no LISTEN client.
import { Writable } from 'node:stream'
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDeps, createLogger, localClerkEnvironment, loadConfig } from '../../src/index.js'
import { startPostgres } from '../support/servers.js'
import type { PostgresServer } from '../support/servers.js'

let postgres: PostgresServer
let clerk: ClerkLocal

beforeAll(async () => {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  ;[postgres, clerk] = await Promise.all([
    startPostgres(),
    startClerkLocal({ port: 0, users: 5, seed: 3 }),
  ])
}, 120_000)

afterAll(async () => {
  await Promise.allSettled([postgres?.stop(), clerk?.stop()])
})

/**
 * The kinds of handles that keep a Node process alive: timers, TCP sockets and servers, and
 * unix-socket connections (the test Postgres listens on a unix socket only).
 */
const KINDS = ['Timeout', 'TCPSocketWrap', 'TCPServerWrap', 'PipeWrap']

function handles(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo())
    if (KINDS.includes(kind)) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

/**
 * The handles once none is left beyond `before` (what was still closing, a socket's last bytes,
 * has closed), or as they are after `deadlineMs`. Read between polls, while none of its own
 * timers is pending; the deadline is a clock reading, not a timer.
 */
async function closedDown(before: Record<string, number>, deadlineMs = 15_000) {
  const until = Date.now() + deadlineMs
  for (;;) {
    const now = handles()
    if (KINDS.every((k) => (now[k] ?? 0) <= (before[k] ?? 0)) || Date.now() > until) return now
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('a start-up that fails after the database opened', () => {
  it('rejects, and closes the database, the timers and the listener it had opened', async () => {
    const config = loadConfig({
      ...localClerkEnvironment(clerk, 'http://localhost:5173'),
      DATABASE_URL: postgres.url,
      DATABASE_STATEMENT_TIMEOUT_MS: '500',
      DATABASE_ACQUIRE_TIMEOUT_MS: '1000',
      MEMBERSHIP_MIRROR_REFRESH_SECONDS: '60',
      WEBHOOK_ENDPOINTS: JSON.stringify([
        {
          url: 'http://127.0.0.1:9/hooks',
          secret: `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`,
        },
      ]),
      LOG_LEVEL: 'info',
    })
    const lines: string[] = []
    let frozen = false
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        const line = chunk.toString('utf8')
        lines.push(line)
        if (!frozen && line.includes('audit database open')) {
          frozen = true
          postgres.freeze()
        }
        // The start-up gave up: the server answers again while createDeps closes what it opened.
        if (frozen && line.includes('start-up failed')) postgres.thaw()
        done()
      },
    })
    const before = handles()
    let failure: unknown = null
    try {
      await createDeps(config, { logger: createLogger('info', sink) }).then(
        (deps) => deps.close(),
        (error: unknown) => {
          failure = error
        },
      )
    } finally {
      postgres.thaw()
    }
    expect(frozen).toBe(true)
    expect(failure).toBeInstanceOf(Error)
    expect(lines.some((l) => l.includes('start-up failed'))).toBe(true)
    // Nothing more than before: whatever was still closing is waited for (bounded), then counted.
    const after = await closedDown(before)
    for (const kind of KINDS)
      expect(after[kind] ?? 0, `${kind} handles left open`).toBeLessThanOrEqual(before[kind] ?? 0)
  }, 60_000)
})
