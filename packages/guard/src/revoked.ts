// The impersonated sessions ActAs ended, learnt by push and kept complete by polling: ActAs's
// `GET /v1/sessions/ended` stream (server-sent events) tells each end within milliseconds, and
// `sessions.revoked` is polled through the typed client (a cursor, so each poll reads only what is
// new) as the backstop for whatever a dropped stream missed. Requests look the set up in memory:
// no network call per request.
import { REVOKED_LOOKBACK_MINUTES, SessionEndedEventSchema } from '@actas/contracts'
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
  /** Whether the push stream is connected now. */
  pushConnected: boolean
  /** Ends learnt from the push stream since start. */
  pushed: number
}

/** Where the push stream is, and the credential that opens it. */
export interface RevokedPushOptions {
  /** The full URL of ActAs's `GET /v1/sessions/ended`. */
  url: string
  getToken: () => string | Promise<string>
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
  private pushConnected = false
  private pushed = 0
  private push: AbortController | null = null
  private pushFailuresInARow = 0

  constructor(
    private readonly client: ActAsClient,
    private readonly refreshMs: number,
    private readonly now: () => number,
    private readonly logger: GuardLogger,
    private readonly pushOptions: RevokedPushOptions | null = null,
  ) {}

  /** The push stream, the first poll (awaited), then one every `refreshMs`. */
  async start(): Promise<void> {
    if (this.pushOptions) {
      this.push = new AbortController()
      void this.follow(this.pushOptions, this.push.signal)
    }
    await this.sync()
    this.timer = setInterval(() => void this.sync(), this.refreshMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.push?.abort()
    this.push = null
  }

  /** Follows the push stream until stopped: reconnects at once after a normal close, else after a growing pause. */
  private async follow(o: RevokedPushOptions, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const opened = Date.now()
      try {
        await this.readStream(o, signal)
        // A stream that closed at once counts as a failure: never a loop of reconnections.
        this.pushFailuresInARow = Date.now() - opened < 1_000 ? this.pushFailuresInARow + 1 : 0
      } catch (error) {
        if (signal.aborted) break
        this.pushFailuresInARow++
        if (this.pushFailuresInARow === 1)
          this.logger.warn(
            { message: (error as Error).message },
            '@actas/guard: the push of ends is unavailable; polling sessions.revoked until it is back',
          )
      } finally {
        this.pushConnected = false
      }
      if (signal.aborted) break
      const pause = Math.min(30_000, this.pushFailuresInARow * 1_000)
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause).unref())
    }
  }

  /** One connection of the push stream (server-sent events), until it closes. */
  private async readStream(o: RevokedPushOptions, signal: AbortSignal): Promise<void> {
    const token = await o.getToken()
    const res = await fetch(o.url, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal,
    })
    if (!res.ok || !res.body) {
      await res.body?.cancel()
      throw new Error(`GET ${new URL(o.url).pathname} answered ${res.status}`)
    }
    this.pushConnected = true
    // A poll now covers anything that ended while the stream was down.
    void this.sync()
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true })
      let end: number
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '')
        this.onEvent(block)
      }
    }
  }

  /** One server-sent event block (`event:` and `data:` lines; comments ignored). */
  private onEvent(block: string): void {
    let type = 'message'
    const data: string[] = []
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) type = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    if (type !== 'ended') return
    let parsed: ReturnType<typeof SessionEndedEventSchema.safeParse>
    try {
      parsed = SessionEndedEventSchema.safeParse(JSON.parse(data.join('\n')))
    } catch {
      return
    }
    if (!parsed.success) return
    const at = Date.parse(parsed.data.revokedAt)
    this.impersonations.set(parsed.data.impersonationId, at)
    if (parsed.data.sessionId) this.sessions.set(parsed.data.sessionId, at)
    this.pushed++
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
      pushConnected: this.pushConnected,
      pushed: this.pushed,
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
