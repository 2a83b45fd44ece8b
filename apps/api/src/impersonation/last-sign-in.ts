// Clerk's `last_sign_in_at` counts an impersonation's ticket sign-in as the customer's own. A
// search row says when it was one: the audit log knows when each impersonation of the user was
// requested and when it signed in, and Clerk's last sign-in falls in that window.

import type { AuditStore } from '../audit/store.js'

/** Clock and recording slack between Clerk's sign-in time and ActAs's (its event is later). */
const SLACK_MS = 5_000

/**
 * Whether `lastSignInAt` (Clerk's, ms) was the ticket sign-in of `latest`, the user's latest
 * impersonation that signed in (null: none). Requested → signed in (as recorded) bounds it.
 */
export function lastSignInWasImpersonation(
  lastSignInAt: number | null,
  latest: { requestedAt: Date; signedInAt: Date } | undefined,
): boolean {
  if (lastSignInAt === null || !latest) return false
  return (
    lastSignInAt >= latest.requestedAt.getTime() - SLACK_MS &&
    lastSignInAt <= latest.signedInAt.getTime() + SLACK_MS
  )
}

type LatestSignIn = { requestedAt: Date; signedInAt: Date }

export interface SignedInMirrorOptions {
  audit: Pick<AuditStore, 'signedInSince' | 'latestImpersonatedSignIns'>
  /** How old the mirror may be before a search asks the log for what came since (default 1 s). */
  maxAgeMs?: number
  nowMs?: () => number
}

/** Rows read from the log per query while catching up. */
const PAGE = 5000

/**
 * Each user's latest impersonation that signed in, in memory, so that a search page costs no
 * query of the audit log (on PGlite each query is ~1 ms of the API's own CPU: the search's cost
 * doubled with one per page, docs/benchmarks.md). Caught up from the log by the `signed_in`
 * events' seq: at most once per `maxAgeMs` while searches come, and at once after this process
 * appends one (`invalidate`, from the store's `onAppended`); another instance's sign-in shows
 * within `maxAgeMs`. Before its first load completes, a page asks the log directly.
 */
export class SignedInMirror {
  private readonly latest = new Map<string, LatestSignIn>()
  private cursor = 0
  private loaded = false
  private checkedAt = Number.NEGATIVE_INFINITY
  /** Bumped by `invalidate`: a catch-up that began before it does not count as fresh. */
  private generation = 0
  private catchingUp: Promise<void> | null = null
  private readonly maxAgeMs: number
  private readonly nowMs: () => number

  constructor(private readonly o: SignedInMirrorOptions) {
    this.maxAgeMs = o.maxAgeMs ?? 1000
    this.nowMs = o.nowMs ?? Date.now
  }

  /** A sign-in was recorded here: the next read catches up first. */
  invalidate(): void {
    this.generation++
    this.checkedAt = Number.NEGATIVE_INFINITY
  }

  /** The latest signed-in impersonation of each of `userIds` that has one. */
  async of(userIds: readonly string[]): Promise<Map<string, LatestSignIn>> {
    if (userIds.length === 0) return new Map()
    if (!this.loaded) {
      // The first load reads the whole log once: in the background, this page asks directly.
      void this.catchUp().catch(() => undefined)
      return this.o.audit.latestImpersonatedSignIns(userIds)
    }
    // Twice at most: a catch-up already under way when a sign-in was recorded here may have read
    // before it; the one after it has not.
    for (let i = 0; i < 2 && this.nowMs() - this.checkedAt > this.maxAgeMs; i++)
      await this.catchUp()
    const found = new Map<string, LatestSignIn>()
    for (const id of userIds) {
      const latest = this.latest.get(id)
      if (latest) found.set(id, latest)
    }
    return found
  }

  private catchUp(): Promise<void> {
    this.catchingUp ??= (async () => {
      const started = this.nowMs()
      const generation = this.generation
      for (;;) {
        const rows = await this.o.audit.signedInSince(this.cursor, PAGE)
        for (const row of rows) {
          const known = this.latest.get(row.userId)
          if (!known || row.signedInAt >= known.signedInAt)
            this.latest.set(row.userId, {
              requestedAt: row.requestedAt,
              signedInAt: row.signedInAt,
            })
          this.cursor = row.seq
        }
        if (rows.length < PAGE) break
      }
      this.loaded = true
      if (generation === this.generation) this.checkedAt = started
    })().finally(() => {
      this.catchingUp = null
    })
    return this.catchingUp
  }
}
