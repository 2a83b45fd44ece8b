// The staff organizations (STAFF_ORGANIZATIONS, ids or slugs) as organization ids.
//
// Staff is tied to these organizations and nothing else: a caller is staff only when its active
// organization is one of them (and it holds org:admin:impersonate there); a user is never
// impersonated when a member of one of them. Clerk's roles belong to the instance, so a
// customer organization's admin role may well carry org:admin:impersonate: it grants nothing.
//
// Each entry is resolved once through `GET /v1/organizations/{id or slug}` and the id is kept for
// the life of the process, so renaming a slug (or a customer later taking a freed slug) never
// moves staff to another organization. Every entry must resolve: an unknown one is an operator
// error, answered with 503 and a log line naming it (never "fewer staff organizations", which
// would make the missing one's members impersonable). A failed resolution is remembered for
// `retryAfterMs`, then tried again.
import { ActAsError } from '@actas/contracts'
import type { Logger } from 'pino'
import type { UserDirectory } from './user-directory.js'

export interface StaffOrganizationsOptions {
  /** Ids (`org_…`) or slugs, as configured. */
  entries: readonly string[]
  /**
   * The setting the entries come from, named in errors and logs (default STAFF_ORGANIZATIONS).
   * The same resolution serves READ_ONLY_ORGANIZATIONS, whose members are impersonated
   * read-only only.
   */
  setting?: string
  directory: Pick<UserDirectory, 'getOrganization'>
  logger: Logger
  /** How long a failed resolution is answered from memory before Clerk is asked again. */
  retryAfterMs?: number
  now?: () => number
}

export class StaffOrganizations {
  private resolved: ReadonlySet<string> | undefined
  private names: ReadonlyMap<string, string> = new Map()
  private pending: Promise<ReadonlySet<string>> | undefined
  private failure: { at: number; error: ActAsError } | undefined
  private readonly retryAfterMs: number
  private readonly now: () => number

  constructor(private readonly o: StaffOrganizationsOptions) {
    if (o.entries.length === 0) throw new Error(`${this.setting} needs at least one organization`)
    this.retryAfterMs = o.retryAfterMs ?? 10_000
    this.now = o.now ?? Date.now
  }

  private get setting(): string {
    return this.o.setting ?? 'STAFF_ORGANIZATIONS'
  }

  /** The organizations, id → name (resolved like `ids()`). */
  async named(): Promise<ReadonlyMap<string, string>> {
    await this.ids()
    return this.names
  }

  /** The ids, once resolved; undefined before (see `ids()`). */
  get known(): ReadonlySet<string> | undefined {
    return this.resolved
  }

  /** The staff organizations' ids. Rejects with SERVICE_UNAVAILABLE while they cannot be resolved. */
  ids(): Promise<ReadonlySet<string>> {
    if (this.resolved) return Promise.resolve(this.resolved)
    if (this.failure && this.now() - this.failure.at < this.retryAfterMs) {
      return Promise.reject(this.failure.error)
    }
    this.pending ??= this.resolve().finally(() => {
      this.pending = undefined
    })
    return this.pending
  }

  /** Whether `organizationId` is a staff organization. */
  async includes(organizationId: string): Promise<boolean> {
    return (await this.ids()).has(organizationId)
  }

  private async resolve(): Promise<ReadonlySet<string>> {
    try {
      const found = await Promise.all(
        this.o.entries.map(async (entry) => ({
          entry,
          org: await this.o.directory.getOrganization(entry),
        })),
      )
      const unknown = found.filter((f) => f.org === null).map((f) => f.entry)
      if (unknown.length > 0) {
        this.o.logger.error(
          { [this.setting]: unknown },
          `${this.setting} names organizations Clerk does not know; staff procedures answer 503 until it is fixed`,
        )
        throw new ActAsError(
          'SERVICE_UNAVAILABLE',
          this.o.setting
            ? `${this.setting} is misconfigured (Clerk does not know ${unknown.join(', ')}); an operator must fix it.`
            : `The staff organizations are misconfigured (Clerk does not know ${unknown.join(', ')}); an operator must fix STAFF_ORGANIZATIONS.`,
          { retryAfterSeconds: Math.ceil(this.retryAfterMs / 1000) },
        )
      }
      const ids = new Set(found.map((f) => f.org!.id))
      this.names = new Map(found.map((f) => [f.org!.id, f.org!.name]))
      this.resolved = ids
      this.failure = undefined
      this.o.logger.info(
        { [this.setting]: found.map((f) => ({ entry: f.entry, id: f.org!.id })) },
        `${this.setting} resolved`,
      )
      return ids
    } catch (caught) {
      const error =
        caught instanceof ActAsError
          ? caught
          : new ActAsError(
              'SERVICE_UNAVAILABLE',
              `The organizations of ${this.setting} could not be read from Clerk.`,
              {
                retryAfterSeconds: 5,
                cause: caught,
              },
            )
      this.failure = { at: this.now(), error }
      throw error
    }
  }
}
