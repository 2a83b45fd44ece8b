// Per-actor sliding-window rate limits, in memory (one API process; see the report for scaling out).
import type { RateLimiterPort, RateLimitResult } from '@actas/contracts'

const WINDOW_MS = 60_000

export class MemoryRateLimiter implements RateLimiterPort {
  private readonly hits = new Map<string, number[]>()

  constructor(
    private readonly limits: Readonly<Record<string, { perMinute: number }>>,
    private readonly now: () => number = Date.now,
  ) {}

  consume(procedure: string, actorId: string): RateLimitResult {
    const limit = this.limits[procedure]
    if (!limit) return { allowed: true }
    const now = this.now()
    const key = `${procedure}\u0000${actorId}`
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - WINDOW_MS)
    if (recent.length >= limit.perMinute) {
      this.hits.set(key, recent)
      const oldest = recent[0] ?? now
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000)),
      }
    }
    recent.push(now)
    this.hits.set(key, recent)
    if (this.hits.size > 50_000) this.prune(now)
    return { allowed: true }
  }

  private prune(now: number): void {
    for (const [key, times] of this.hits) {
      if ((times.at(-1) ?? 0) <= now - WINDOW_MS) this.hits.delete(key)
    }
  }
}
