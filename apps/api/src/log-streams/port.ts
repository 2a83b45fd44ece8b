// `logStreams.status` (LogStreamsPort): the dispatcher's view of each stream, as the console shows it.
import type { LogStreamsPort, LogStreamsStatusOutput } from '@actas/contracts'
import type { LogStreamDispatcher } from './dispatcher.js'

const iso = (d: Date | null) => d?.toISOString() ?? null

export function logStreamsPort(dispatcher: LogStreamDispatcher | undefined): LogStreamsPort {
  return {
    async status(): Promise<LogStreamsStatusOutput> {
      if (!dispatcher) return { items: [], enabled: false }
      const items = await dispatcher.status()
      return {
        enabled: true,
        items: items.map((s) => ({
          ...s,
          lastDeliveredAt: iso(s.lastDeliveredAt),
          lastAttemptAt: iso(s.lastAttemptAt),
          nextAttemptAt: iso(s.nextAttemptAt),
        })),
      }
    },
  }
}
