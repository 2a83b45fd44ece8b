// Every organization membership of the Clerk instance, in memory, for showing each search row's
// organizations without one Clerk call per user.
//
// Loaded at start-up from `GET /v1/organization_memberships` (500 a page) and reloaded every
// `refreshMs` (a full reload replaces the map: memberships created, changed or deleted since are
// picked up then; Clerk's `organizationMembership.*` webhooks could keep it current in between,
// not wired yet). What the mirror shows is for
// display only: the policy never decides on it (search verdicts come from a fresh read per page,
// `impersonation.start` reads the target's memberships fresh).
import type { Logger } from 'pino'
import type { DirectoryMembership, UserDirectory } from './user-directory.js'

/** Clerk's largest page of `GET /v1/organization_memberships`. */
const PAGE_SIZE = 500

export interface MembershipMirrorOptions {
  directory: Pick<UserDirectory, 'listOrganizationMemberships'>
  logger: Logger
  /** How often the whole mirror is reloaded from Clerk (the bound on its staleness without webhooks). */
  refreshMs: number
  now?: () => number
}

export class MembershipMirror {
  private byUser = new Map<string, DirectoryMembership[]>()
  private loadedAt: number | null = null
  private loading: Promise<void> | undefined
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly now: () => number

  constructor(private readonly o: MembershipMirrorOptions) {
    this.now = o.now ?? Date.now
  }

  /** Whether a load has completed (before that, `of()` answers undefined). */
  get ready(): boolean {
    return this.loadedAt !== null
  }

  /** When the last full load finished (ms), or null. */
  get lastLoadedAt(): number | null {
    return this.loadedAt
  }

  /** A user's memberships as last seen; undefined until the mirror is loaded. */
  of(userId: string): DirectoryMembership[] | undefined {
    if (!this.ready) return undefined
    return this.byUser.get(userId) ?? []
  }

  /** Loads now (one load at a time), then every `refreshMs`; failures are logged and retried then. */
  start(): void {
    void this.refresh().catch(() => undefined)
    if (this.o.refreshMs > 0) {
      this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.o.refreshMs)
      this.timer.unref()
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Reloads every membership from Clerk and swaps the map in when complete. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined
    })
    return this.loading
  }

  private async load(): Promise<void> {
    const started = this.now()
    const next = new Map<string, DirectoryMembership[]>()
    let count = 0
    try {
      for (let offset = 0; ; offset += PAGE_SIZE) {
        const page = await this.o.directory.listOrganizationMemberships({
          limit: PAGE_SIZE,
          offset,
        })
        for (const { userId, ...membership } of page.data) {
          const list = next.get(userId)
          if (list) list.push(membership)
          else next.set(userId, [membership])
          count++
        }
        if (page.data.length < PAGE_SIZE || offset + PAGE_SIZE >= page.total) break
      }
    } catch (error) {
      this.o.logger.warn({ err: error }, 'membership mirror: reload failed; keeping the last one')
      throw error
    }
    this.byUser = next
    this.loadedAt = this.now()
    this.o.logger.debug(
      { memberships: count, users: next.size, ms: this.loadedAt - started },
      'membership mirror reloaded',
    )
  }
}
