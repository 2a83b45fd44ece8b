// The action trail: what impersonated sessions did (method, route pattern, status, time), kept
// in a bounded buffer and sent to ActAs in batches through `impersonation.actions`. Never the
// query string or the body. While ActAs is down nothing is lost that the buffer can hold: batches
// stay until ActAs takes them, retried with backoff; what does not fit is dropped and counted.
import { MAX_ACTIONS_PER_BATCH, routePatternProblem } from '@actas/contracts'
import type { ActionMethod } from '@actas/contracts'
import { getActAsError } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import type { GuardLogger } from './types.js'

export interface ActionTrailOptions {
  /** Send what is buffered this often (default 2,000 ms), and sooner when a batch is full. */
  flushMs?: number
  /** At most this many actions wait in memory (default 10,000); more are dropped and counted. */
  maxBuffer?: number
  /**
   * How many flushes an action of a session ActAs does not know yet (404: its sign-in not reported
   * yet) is offered again before it is given up as rejected (default 5).
   */
  notFoundAttempts?: number
  /** Longest wait between retries while ActAs fails (default 30,000 ms). */
  maxBackoffMs?: number
}

export interface ActionTrailStats {
  /** Actions waiting to be sent. */
  buffered: number
  /** Actions ActAs stored. */
  sent: number
  /** Actions dropped because the buffer was full. */
  dropped: number
  /** Actions ActAs refused for good (invalid, or a session it never learnt). */
  rejected: number
  /** Actions never buffered: their route was not a route pattern (a value in the path). */
  invalid: number
  /** Calls to ActAs that failed (and will be retried). */
  failures: number
}

export interface RecordedAction {
  method: string
  route: string
  status: number
  /** When the answer was sent (ms). */
  at: number
}

interface Entry {
  sessionId: string
  action: { method: ActionMethod; route: string; status: number; at: string }
  notFound: number
}

const METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'])

export class ActionTrail {
  private buffer: Entry[] = []
  private readonly counts = { sent: 0, dropped: 0, rejected: 0, invalid: 0, failures: 0 }
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> | null = null
  private backoffMs = 0
  private notBefore = 0
  private readonly flushMs: number
  private readonly maxBuffer: number
  private readonly notFoundAttempts: number
  private readonly maxBackoffMs: number

  constructor(
    private readonly client: ActAsClient,
    private readonly now: () => number,
    private readonly logger: GuardLogger,
    options: ActionTrailOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 2_000
    this.maxBuffer = options.maxBuffer ?? 10_000
    this.notFoundAttempts = options.notFoundAttempts ?? 5
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs)
    this.timer.unref()
  }

  /** Stops the timer and offers what is buffered once more. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.flushing
    this.notBefore = 0
    await this.flush()
  }

  stats(): ActionTrailStats {
    return { buffered: this.buffer.length, ...this.counts }
  }

  /** Buffers one answered request of an impersonated session. Never throws, never waits. */
  record(sessionId: string, action: RecordedAction): void {
    const method = action.method.toUpperCase()
    if (!METHODS.has(method) || routePatternProblem(action.route) !== null) {
      this.counts.invalid++
      return
    }
    if (this.buffer.length >= this.maxBuffer) {
      this.counts.dropped++
      return
    }
    this.buffer.push({
      sessionId,
      action: {
        method: method as ActionMethod,
        route: action.route,
        status: Math.min(599, Math.max(100, Math.trunc(action.status))),
        at: new Date(action.at).toISOString(),
      },
      notFound: 0,
    })
    if (this.buffer.length >= MAX_ACTIONS_PER_BATCH && this.timer) void this.flush()
  }

  /** Sends what is buffered, one batch per session (≤ 100 actions each). One flush at a time. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing
    if (this.buffer.length === 0 || this.now() < this.notBefore) return Promise.resolve()
    this.flushing = this.send().finally(() => {
      this.flushing = null
    })
    return this.flushing
  }

  private async send(): Promise<void> {
    const bySession = new Map<string, Entry[]>()
    for (const entry of this.buffer) {
      const list = bySession.get(entry.sessionId) ?? []
      if (list.length < MAX_ACTIONS_PER_BATCH) list.push(entry)
      bySession.set(entry.sessionId, list)
    }
    const done = new Set<Entry>()
    try {
      for (const [sessionId, batch] of bySession) {
        try {
          await this.client.impersonation.actions.mutate({
            sessionId,
            actions: batch.map((e) => e.action),
          })
          this.counts.sent += batch.length
          for (const e of batch) done.add(e)
        } catch (error) {
          const info = getActAsError(error)
          if (info.code === 'INVALID_INPUT') {
            this.counts.rejected += batch.length
            for (const e of batch) done.add(e)
            this.logger.warn(
              { sessionId, actions: batch.length },
              `@actas/guard: ActAs refused an action batch (${info.message}); dropped`,
            )
          } else if (info.code === 'IMPERSONATION_NOT_FOUND') {
            for (const e of batch) {
              if (++e.notFound < this.notFoundAttempts) continue
              this.counts.rejected++
              done.add(e)
            }
          } else {
            // ActAs down, overloaded, or this machine not granted the write: keep everything.
            this.counts.failures++
            this.backoffMs = Math.min(this.maxBackoffMs, Math.max(this.flushMs, this.backoffMs * 2))
            this.notBefore = this.now() + this.backoffMs
            if (this.counts.failures === 1 || this.backoffMs === this.maxBackoffMs)
              this.logger.warn(
                { code: info.code, httpStatus: info.httpStatus, buffered: this.buffer.length },
                `@actas/guard: impersonation.actions failed (${info.message}); kept, retrying`,
              )
            return
          }
        }
      }
      this.backoffMs = 0
      this.notBefore = 0
    } finally {
      if (done.size > 0) this.buffer = this.buffer.filter((e) => !done.has(e))
    }
  }
}
