// Issue 23, "Done when": a log stream to a local HTTP receiver gets every event in order, exactly
// once after de-duplication by id, across a receiver outage and an API restart — a real one. The
// API runs as its own process (src/server.ts, as production starts it; test/support/api-process.ts)
// on a PGlite data directory on disk, with a stream to the receiver. It is killed with SIGKILL
// while a batch is in flight (the receiver took it and holds its answer) and more events wait
// behind it; the receiver stays down while the API starts again on the same directory and adds
// events of its own; then the receiver comes back. The events are made over the OpenAPI surface
// with a machine's M2M token (start and end on behalf of the admin, docs/m2m.md); the chain to
// compare with is the API's own `audit.export`. Waits are bounded, never timed assertions.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { defaultMachinePermissions, MACHINE_ON_BEHALF_PROCEDURES } from '@actas/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localClerkEnvironment } from '../../src/index.js'
import { REST_PREFIX } from '../../src/openapi/document.js'
import { startApiProcess } from '../support/api-process.js'
import type { ApiProcess } from '../support/api-process.js'
import { customersAnyoneMayImpersonate, ORIGIN } from '../support/stack.js'
import { ocsfErrors } from '../ocsf/validate.js'
import { startReceiver } from './receiver.js'
import type { Receiver } from './receiver.js'

const TOKEN = 'stream-secret-token-restart-0123456789'
let clerk: ClerkLocal
let receiver: Receiver
let dataDir = ''
let env: Record<string, string> = {}
const apis: ApiProcess[] = []
let nextCustomer = 0

beforeAll(async () => {
  clerk = await startClerkLocal({ port: 0, users: 60, seed: 1 })
  receiver = await startReceiver()
  dataDir = await mkdtemp(join(tmpdir(), 'actas-stream-restart-'))
  const machine = (name: string) => clerk.machines.find((m) => m.name === name)!.id
  env = {
    ...localClerkEnvironment(clerk, ORIGIN),
    ACTAS_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    CLERK_MACHINE_ID: machine('actas-api'),
    MACHINE_PERMISSIONS: JSON.stringify({
      ...defaultMachinePermissions(machine('actas-api')),
      [machine('helpdesk')]: [...MACHINE_ON_BEHALF_PROCEDURES],
    }),
    RECONCILER_INTERVAL_SECONDS: '0',
    LOG_STREAMS: JSON.stringify([
      {
        id: 'siem',
        kind: 'https',
        url: `${receiver.url}/ingest`,
        token: TOKEN,
        batchSize: 2,
        pollMs: 50,
        retryBaseMs: 20,
        retryMaxMs: 200,
        failingAfter: 3,
        // A held batch stays in flight until the process is killed.
        // The killed process's lease on its batch in flight ends this + LEASE_MARGIN_MS after its
        // claim; the restarted process goes on from then.
        timeoutMs: 2_000,
      },
    ]),
  }
}, 60_000)

afterAll(async () => {
  for (const api of apis) await api.stop()
  await receiver?.close()
  await clerk?.stop()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 120_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function m2mToken(): Promise<string> {
  const helpdesk = clerk.machines.find((m) => m.name === 'helpdesk')!
  const res = await fetch(`${clerk.url}/m2m_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${helpdesk.secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ seconds_until_expiration: 600 }),
  })
  expect(res.status).toBe(201)
  return ((await res.json()) as { token: string }).token
}

async function call(api: ApiProcess, procedure: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${api.url}${REST_PREFIX}/${procedure}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await m2mToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const answer: unknown = await res.json()
  if (res.status !== 200) throw new Error(`${procedure}: ${res.status} ${JSON.stringify(answer)}`)
  return answer
}

/** `n` impersonations started and ended on behalf of the admin: three events each. */
async function impersonations(api: ApiProcess, n: number) {
  const admin = clerk.accounts.find((a) => a.role === 'admin')!.userId
  for (let i = 0; i < n; i++) {
    const user = customersAnyoneMayImpersonate(clerk)[nextCustomer++]!
    const started = (await call(api, 'impersonation.start', {
      userId: user.id,
      reason: 'Log stream across a restart',
      onBehalfOf: admin,
    })) as { impersonationId: string }
    await call(api, 'impersonation.end', {
      impersonationId: started.impersonationId,
      reason: 'Done',
      onBehalfOf: admin,
    })
  }
}

/** The chain as the API exports it (OCSF): seq and hash of every event. */
async function chain(api: ApiProcess): Promise<Array<[number, string]>> {
  const out = (await call(api, 'audit.export', { format: 'ocsf', limit: 1000 })) as {
    ocsf: Array<{ metadata: { sequence: number; uid: string } }>
    more: boolean
  }
  expect(out.more).toBe(false)
  return out.ocsf.map((e) => [e.metadata.sequence, e.metadata.uid])
}

const uid = (e: Record<string, unknown>) => (e.metadata as { uid: string }).uid
const seqOf = (e: Record<string, unknown>) => (e.metadata as { sequence: number }).sequence
const delivered = () => receiver.unique('siem', uid)

describe('a log stream across a real API restart (SIGKILL)', () => {
  it('delivers every event in chain order, exactly once after de-duplication by id, across a receiver outage and a killed process', async () => {
    // First process: history is delivered as it happens.
    const first = await startApiProcess(env)
    apis.push(first)
    await impersonations(first, 2)
    const early = await chain(first)
    await until('the first events', () => delivered().length === early.length)

    // The receiver takes the next batch and holds its answer: the delivery is in flight; more
    // events wait behind it. The process is killed then, without a chance to say anything.
    receiver.mode = 'hold'
    const requestsBefore = receiver.requests.length
    await impersonations(first, 2)
    await until('a batch in flight', () =>
      receiver.requests.slice(requestsBefore).some((r) => r.status === 0),
    )
    const beforeKill = await chain(first)
    expect(delivered().length).toBeLessThan(beforeKill.length)
    // Every process of this API, by id: no goodbye.
    const pids = await processesOf(dataDir)
    expect(pids.length).toBeGreaterThan(0)
    for (const pid of pids) process.kill(pid, 'SIGKILL')
    await until(
      'the killed API gone',
      async () => first.exit() !== null && (await processesOf(dataDir)).length === 0,
    )

    // The receiver is down while the API starts again on the same data directory, and stays down
    // while the new process appends events of its own: its stream retries.
    receiver.mode = 'down'
    const downFrom = receiver.requests.length
    const second = await startApiProcess(env)
    apis.push(second)
    await impersonations(second, 1)
    await until(
      'the restarted stream refused by the receiver',
      () => receiver.requests.slice(downFrom).filter((r) => r.status === 503).length >= 3,
    )

    // The receiver comes back: every event arrives.
    receiver.mode = 'up'
    const events = await chain(second)
    expect(events).toHaveLength(5 * 3)
    await until('every event after the restart', () => delivered().length === events.length)
    const unique = delivered()
    expect(unique.map((e) => [seqOf(e), uid(e)])).toEqual(events)
    for (const e of unique) expect(ocsfErrors(e)).toEqual([])
    // At least once: the batch in flight when the process died came again (the receiver had it).
    const all = receiver.received.filter((r) => r.stream === 'siem')
    expect(all.length).toBeGreaterThan(unique.length)
    // Each request's events in chain order, and every request carried the stream's credential.
    for (const r of receiver.requests) expect(r.headers['authorization']).toBe(`Bearer ${TOKEN}`)
    // The token never reached the logs of either process.
    for (const api of [first, second]) expect(api.output.join('\n')).not.toContain(TOKEN)
    await second.stop()
  }, 600_000)
})

/**
 * The processes of the API on `dir` (its ACTAS_DATA_DIR, unique to this test), read from /proc:
 * whatever the fixture starts it with (today node with tsx as a loader, one process), each is
 * killed by its own id.
 */
async function processesOf(dir: string): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '')
    if (environ.split('\0').includes(`ACTAS_DATA_DIR=${dir}`)) pids.push(Number(entry))
  }
  return pids
}
