// audit.verify, incremental vs full (prints figures; not a test):
// `pnpm --filter @actas/api bench:audit-verify`. Seeds BENCH_AUDIT_EVENTS events (default
// 200,000; a valid chain, rows that are their events' projection) into PGlite in memory, signs a
// checkpoint at the head, appends BENCH_AUDIT_TAIL more events through the store (default 500),
// then times, on a fresh store each (nothing verified before):
//   - the full walk (`{ full: true }`: the CLI, staff's explicit flag): every link, every row;
//   - the incremental walk (the API's default): from the last signed checkpoint to the head;
// with the longest gap between two ticks of a 10 ms timer meanwhile (how long other requests
// waited at worst; on a loaded machine the scheduler's pauses count too) and this process's CPU
// (PGlite runs in it).
import { randomUUID } from 'node:crypto'
import os from 'node:os'
import { parseSigningKey } from '../src/audit/chain.js'
import { openDatabase } from '../src/audit/db.js'
import { AuditStore } from '../src/audit/store.js'
import { seedAuditLog } from './audit-data.js'

const EVENTS = Number(process.env['BENCH_AUDIT_EVENTS'] ?? 200_000)
const TAIL = Number(process.env['BENCH_AUDIT_TAIL'] ?? 500)
const signer = parseSigningKey(Buffer.alloc(32, 42).toString('base64url'))

const database = await openDatabase({ kind: 'pglite', dataDir: undefined })
try {
  const now = new Date()
  const store = () => new AuditStore(database.db, { now: () => new Date(), signer })
  let t = performance.now()
  const seeded = await seedAuditLog(database.db, { events: EVENTS, now })
  process.stdout.write(
    `audit verify bench: ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, node ${process.version}\n` +
      `seeded ${seeded.events.toLocaleString('en')} events, ${seeded.impersonations.toLocaleString('en')} rows in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  )
  const writer = store()
  await writer.checkpointIfDue(true)
  t = performance.now()
  while ((await writer.head()).seq < seeded.events + TAIL) {
    const id = randomUUID()
    await writer.createImpersonation({
      id,
      actorId: 'user_staff1',
      userId: 'user_cust1',
      reason: 'Tail after the last checkpoint',
      sessionMinutes: 10,
    })
    await writer.appendEvent(id, { type: 'issued', data: { clerkActorTokenId: `act_${id}` } })
  }
  const { seq: head } = await writer.head()
  process.stdout.write(
    `appended ${head - seeded.events} events after the checkpoint in ${((performance.now() - t) / 1000).toFixed(1)} s\n\n`,
  )

  const measure = async (label: string, full: boolean) => {
    let last = performance.now()
    let held = 0
    const probe = setInterval(() => {
      const t = performance.now()
      held = Math.max(held, t - last)
      last = t
    }, 10)
    const cpu = process.cpuUsage()
    const started = performance.now()
    const report = await store().verify({ full })
    const seconds = (performance.now() - started) / 1000
    const used = process.cpuUsage(cpu)
    clearInterval(probe)
    process.stdout.write(
      `${label.padEnd(12)} ok=${report.ok} from seq ${report.from.toLocaleString('en')}: ${report.events.toLocaleString('en')} events, ${report.rows.toLocaleString('en')} rows in ${(seconds * 1000).toFixed(0)} ms (CPU ${((used.user + used.system) / 1000).toFixed(0)} ms), longest gap between timer ticks ${held.toFixed(0)} ms\n`,
    )
    return { seconds, cpu: used.user + used.system }
  }
  const full = await measure('full', true)
  const incremental = await measure('incremental', false)
  process.stdout.write(
    `\nincremental/full: ${((incremental.seconds / full.seconds) * 100).toFixed(2)} % of the time, ${((incremental.cpu / full.cpu) * 100).toFixed(2)} % of the CPU\n`,
  )
} finally {
  await database.close()
}
