// The periodic prune of the tables outside the audit chain (AuditStore.prune): at start-up, then
// every hour. A failed run is logged and the next one tries again; the chain is never pruned.
import type { Logger } from 'pino'
import type { PruneReport } from './writes.js'

/** Between two prunes. */
export const RETENTION_INTERVAL_MS = 60 * 60_000

export interface Retention {
  /** The run in flight (or the last one), for tests and shutdown. */
  readonly running: Promise<PruneReport | null>
  stop(): void
}

export function startRetention(
  store: { prune(retentionDays: number): Promise<PruneReport> },
  options: {
    retentionDays: number
    logger: Pick<Logger, 'info' | 'error'>
    intervalMs?: number
  },
): Retention {
  let running: Promise<PruneReport | null> = Promise.resolve(null)
  const run = () => {
    running = store.prune(options.retentionDays).then(
      (report) => {
        const pruned =
          report.outbox + report.deliveries + report.auditReads + report.quotaReservations
        if (pruned > 0)
          options.logger.info(
            { ...report, retentionDays: options.retentionDays },
            'audit retention: old rows outside the chain pruned',
          )
        return report
      },
      (err: unknown) => {
        options.logger.error({ err }, 'audit retention failed; next run in an hour')
        return null
      },
    )
  }
  run()
  const timer = setInterval(run, options.intervalMs ?? RETENTION_INTERVAL_MS)
  timer.unref()
  return {
    get running() {
      return running
    },
    stop: () => clearInterval(timer),
  }
}
