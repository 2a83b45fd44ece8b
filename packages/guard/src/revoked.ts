// The impersonated sessions ActAs ended, kept fresh by polling `sessions.revoked` through the
// typed client (a cursor, so each poll reads only what is new). Requests look the set up in
// memory: no network call per request.
import { REVOKED_LOOKBACK_MINUTES } from '@actas/contracts'
import { getActAsError } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import type { GuardLogger } from './types.js'

/** Ends are kept as long as `sessions.revoked` looks back (longer than any impersonated session lives). */
const KEEP_MS = REVOKED_LOOKBACK_MINUTES * 60_000

export interface RevokedSyncStats {
  /** Sessions and impersonations known to be ended. */
  size: number
  /** When the last poll succeeded (ms), or null before the first. */
  lastSyncAt: number | null
  /** Polls that failed in a row (0 after a success). */
  failuresInARow: number
  /** Polls that failed since start. */
  failures: number
}

export class RevokedSessions {
  private readonly sessions = new Map<string, number>()
  private readonly impersonations = new Map<string, number>()
  private cursor: string | undefined
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private lastSyncAt: number | null = null
  private failuresInARow = 0
  private failures = 0

  constructor(
    private readonly client: ActAsClient,
    private readonly refreshMs: number,
    private readonly now: () => number,
    private readonly logger: GuardLogger,
  ) {}

  /** The first poll (awaited), then one every `refreshMs`. */
  async start(): Promise<void> {
    await this.sync()
    this.timer = setInterval(() => void this.sync(), this.refreshMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  isRevoked(sessionId: string, impersonationId: string | null): boolean {
    return (
      this.sessions.has(sessionId) ||
      (impersonationId !== null && this.impersonations.has(impersonationId))
    )
  }

  stats(): RevokedSyncStats {
    return {
      size: this.impersonations.size,
      lastSyncAt: this.lastSyncAt,
      failuresInARow: this.failuresInARow,
      failures: this.failures,
    }
  }

  /** One poll (pages until nothing more); concurrent calls share it. */
  sync(): Promise<void> {
    this.running ??= this.pull().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async pull(): Promise<void> {
    try {
      for (;;) {
        const page = await this.client.sessions.revoked.query(
          this.cursor === undefined ? {} : { since: this.cursor },
        )
        for (const item of page.items) {
          const at = Date.parse(item.revokedAt)
          this.impersonations.set(item.impersonationId, at)
          if (item.sessionId) this.sessions.set(item.sessionId, at)
        }
        this.cursor = page.next
        if (!page.more) break
      }
      this.lastSyncAt = this.now()
      this.failuresInARow = 0
      this.prune()
    } catch (error) {
      this.failures++
      this.failuresInARow++
      const info = getActAsError(error)
      // Once per outage, not once per second.
      if (this.failuresInARow === 1)
        this.logger.warn(
          { code: info.code, httpStatus: info.httpStatus },
          `@actas/guard: sessions.revoked failed (${info.message}); retrying every poll`,
        )
    }
  }

  private prune(): void {
    const cutoff = this.now() - KEEP_MS
    for (const map of [this.sessions, this.impersonations])
      for (const [id, at] of map) if (at < cutoff) map.delete(id)
  }
}
