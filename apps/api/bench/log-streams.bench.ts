// Bench (issue 23): event → delivered latency of a log stream with a healthy receiver. Appends
// events one by one (spaced like a busy support desk), a local receiver (loopback) records when
// each arrives; prints p50/p95/max of (received − committed). Goal: p95 ≤ 5 s. Figures only, no
// assertion. PGlite in memory, or the Postgres at DATABASE_URL.
//
//   npx -y pnpm@12.4.2 --filter @actas/api exec tsx --conditions=@actas/source bench/log-streams.bench.ts [events] [spacing ms] [pollMs]
import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { openDatabase } from '../src/audit/db.js'
import { AuditStore } from '../src/audit/store.js'
import { LogStreamsEnvSchema } from '../src/log-streams/config.js'
import { LogStreamDispatcher } from '../src/log-streams/dispatcher.js'
import { startReceiver } from '../test/log-streams/receiver.js'

const events = Number(process.argv[2] ?? 200)
const spacingMs = Number(process.argv[3] ?? 20)
const pollMs = Number(process.argv[4] ?? 500)

const db = await openDatabase(
  process.env['DATABASE_URL']
    ? { kind: 'postgres', url: process.env['DATABASE_URL'], schema: `actas_bench_${Date.now()}` }
    : { kind: 'pglite', dataDir: undefined },
)
const audit = new AuditStore(db.db, { now: () => new Date() })
const receiver = await startReceiver()
const streams = LogStreamsEnvSchema.parse(
  JSON.stringify([
    { id: 'bench', kind: 'https', url: `${receiver.url}/ingest`, pollMs, batchSize: 100 },
  ]),
)
const dispatcher = new LogStreamDispatcher(db.db, {
  streams,
  audit,
  logger: pino({ level: 'silent' }),
})
await dispatcher.start()

/** Commit time of each event, by its hash. */
const committed = new Map<string, number>()
for (let i = 0; i < events; i++) {
  const row = await audit.createImpersonation({
    id: randomUUID(),
    actorId: 'user_staff1',
    userId: `user_cust${i}`,
    reason: 'Log stream bench',
    sessionMinutes: 15,
    mode: 'full',
  })
  const [event] = await audit.events(row.id)
  committed.set(event!.hash, Date.now())
  await new Promise((r) => setTimeout(r, spacingMs))
}
const deadline = Date.now() + 60_000
while (receiver.unique('bench', (e) => (e.metadata as { uid: string }).uid).length < events) {
  if (Date.now() > deadline) break
  await new Promise((r) => setTimeout(r, 20))
}
const latencies: number[] = []
const seen = new Set<string>()
for (const r of receiver.received) {
  const id = (r.event.metadata as { uid: string }).uid
  if (seen.has(id)) continue
  seen.add(id)
  const at = committed.get(id)
  if (at !== undefined) latencies.push(r.at - at)
}
latencies.sort((a, b) => a - b)
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN
console.log(
  JSON.stringify({
    bench: 'log-stream event → delivered',
    database: db.kind,
    events,
    delivered: latencies.length,
    spacingMs,
    pollMs,
    requests: receiver.requests.length,
    p50Ms: pct(50),
    p95Ms: pct(95),
    maxMs: latencies.at(-1),
  }),
)
await dispatcher.close()
await receiver.close()
await db.close()
