// Counts Backend API requests per route, as Clerk's rate limits would see them: what a client
// of the local server costs in Clerk calls (ActAs's bench prints Clerk calls per search page).
// The control API (`/__local/...`) is not counted.

export interface RequestCounts {
  /** Every counted BAPI request. */
  total: number
  /** Router name (`GET /v1/users`, `GET /v1/organizations/:organization_id/memberships`) → count. */
  routes: Record<string, number>
}

export class RequestCounter {
  private readonly counts = new Map<string, number>()
  private total = 0

  record(route: string): void {
    this.total++
    this.counts.set(route, (this.counts.get(route) ?? 0) + 1)
  }

  snapshot(): RequestCounts {
    return { total: this.total, routes: Object.fromEntries(this.counts) }
  }

  reset(): void {
    this.counts.clear()
    this.total = 0
  }
}
