// The access model's store: reads of its projections, and every write as events appended to the
// audit chain (AuditWrites.withChain) with the row they project to (model.ts), in one
// transaction under the chain head's lock. The only writer of `access_requests` and
// `organization_access_settings`.
import { randomUUID } from 'node:crypto'
import { and, desc, eq, inArray, isNotNull, isNull, lt, ne, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { ACCESS_WEBHOOK_TYPES, OPEN_ACCESS_STATUSES } from '@actas/contracts'
import type { AccessEventType, AccessWebhook, OrganizationAccessSetting } from '@actas/contracts'
import type { EventDataValue } from '../audit/chain.js'
import { cleanData } from '../audit/projection.js'
import type { AuditDatabase } from '../audit/db.js'
import { encodeCursor, olderThan } from '../audit/keyset.js'
import { impersonations, sqlList } from '../audit/schema.js'
import type { AuditEventRow, ImpersonationRow } from '../audit/schema.js'
import type { AuditStore } from '../audit/store.js'
import type { SubjectEventInput } from '../audit/writes.js'
import { applyAccessEvent } from './model.js'
import type { AccessProjection } from './model.js'
import { accessRequests, organizationAccessSettings } from './schema.js'
import type { AccessRequestRow, OrganizationAccessSettingRow } from './schema.js'

export class AccessNotFoundError extends Error {}

type ChainWork = Parameters<AuditStore['withChain']>[0]
type ChainTx = Parameters<ChainWork>[0]
type Chain = Parameters<ChainWork>[1]

/** One event to append to an access request's timeline. */
export interface AccessEventInput {
  type: AccessEventType
  cause?: string | null
  by?: string | null
  reason?: string | null
  data?: Record<string, EventDataValue | undefined>
}

export type AccessAppend =
  | { appended: true; row: AccessRequestRow; events: AuditEventRow[] }
  /** The event cannot happen now (model.ts): nothing written. */
  | { appended: false; row: AccessRequestRow }

const OPEN = sql`${accessRequests.status} in (${sqlList(OPEN_ACCESS_STATUSES)})`
const WEBHOOK_TYPES: ReadonlySet<string> = new Set(ACCESS_WEBHOOK_TYPES)

export class AccessStore {
  constructor(
    private readonly db: AuditDatabase,
    private readonly audit: Pick<AuditStore, 'withChain'>,
    private readonly now: () => Date,
  ) {}

  /** Starts a timeline (`access.requested`, or `access.granted` unasked) and its row. */
  async create(first: AccessEventInput, then: AccessEventInput[] = []): Promise<AccessRequestRow> {
    const id = randomUUID()
    const result = await this.append(id, null, [first, ...then])
    if (!result.appended) throw new Error(`access: ${first.type} cannot start a timeline`)
    return result.row
  }

  /**
   * Appends `events` in order to the request's timeline (those the model refuses are left out;
   * none possible: `appended: false`). ACCESS_NOT_FOUND for an unknown id.
   */
  appendEvents(id: string, events: AccessEventInput[]): Promise<AccessAppend> {
    return this.append(id, 'existing', events)
  }

  /**
   * In one transaction: `withdraw` appended to `oldId`'s timeline only while it is still
   * `pending` (a decision that came in meanwhile wins), and a new timeline started by `first`.
   * `superseded: false` when the old request was no longer pending (nothing written).
   */
  async supersede(
    oldId: string,
    withdraw: AccessEventInput,
    first: AccessEventInput,
  ): Promise<
    { superseded: true; withdrawn: AccessRequestRow; row: AccessRequestRow } | { superseded: false }
  > {
    const id = randomUUID()
    return this.audit.withChain(async (tx, chain) => {
      const old = await this.appendIn(tx, chain, oldId, 'existing', [withdraw], 'pending')
      if (!old.appended) return { superseded: false as const }
      const created = await this.appendIn(tx, chain, id, null, [first])
      if (!created.appended) throw new Error(`access: ${first.type} cannot start a timeline`)
      return { superseded: true as const, withdrawn: old.row, row: created.row }
    })
  }

  private append(
    id: string,
    existing: 'existing' | null,
    inputs: AccessEventInput[],
  ): Promise<AccessAppend> {
    return this.audit.withChain((tx, chain) => this.appendIn(tx, chain, id, existing, inputs))
  }

  private async appendIn(
    tx: ChainTx,
    chain: Chain,
    id: string,
    existing: 'existing' | null,
    inputs: AccessEventInput[],
    onlyWhile?: AccessRequestRow['status'],
  ): Promise<AccessAppend> {
    let before: AccessRequestRow | null = null
    if (existing) {
      const [found] = await tx
        .select()
        .from(accessRequests)
        .where(eq(accessRequests.id, id))
        .for('update')
      if (!found) throw new AccessNotFoundError(id)
      before = found
      if (onlyWhile && found.status !== onlyWhile) return { appended: false as const, row: found }
    }
    let row: AccessProjection | null = before ? stripId(before) : null
    const accepted: SubjectEventInput[] = []
    for (const input of inputs) {
      const at = this.now()
      const data = cleanData(input.data)
      const next = applyAccessEvent(row, {
        type: input.type,
        cause: input.cause ?? null,
        by: input.by ?? null,
        reason: input.reason ?? null,
        data,
        // Stored instants have millisecond precision: the model sees what verify will.
        createdAt: new Date(at.getTime()),
      })
      if (!next) continue
      row = next
      accepted.push({ ...input, data, at })
    }
    if (accepted.length === 0 || !row) {
      if (!before) throw new Error('access: no event could start the timeline')
      return { appended: false as const, row: before }
    }
    // The row first (migration 0009: an event's subject must exist), then its events.
    const [written] = before
      ? await tx.update(accessRequests).set(row).where(eq(accessRequests.id, id)).returning()
      : await tx
          .insert(accessRequests)
          .values({ id, ...row })
          .returning()
    if (!written) throw new Error(`access row ${id} vanished`)
    const events = await chain.append(id, accepted)
    for (const event of events) {
      const message = webhookOf(written, event, this.now())
      if (message) chain.announce(id, event.seq, message)
    }
    return { appended: true as const, row: written, events }
  }

  async get(id: string): Promise<AccessRequestRow | null> {
    const [row] = await this.db.select().from(accessRequests).where(eq(accessRequests.id, id))
    return row ?? null
  }

  /** A page, newest first, of the rows `where` selects. */
  async page(
    where: SQL | undefined,
    params: { cursor?: string | undefined; limit: number },
    procedure: string,
  ): Promise<{ rows: AccessRequestRow[]; next: string | null }> {
    const conditions = [where]
    if (params.cursor)
      conditions.push(
        olderThan(accessRequests.createdAt, accessRequests.id, params.cursor, procedure),
      )
    const rows = await this.db
      .select()
      .from(accessRequests)
      .where(and(...conditions))
      .orderBy(desc(accessRequests.createdAt), desc(accessRequests.id))
      .limit(params.limit + 1)
    const page = rows.slice(0, params.limit)
    const last = page.at(-1)
    return { rows: page, next: rows.length > params.limit && last ? encodeCursor(last) : null }
  }

  /** Pending requests that wait for a staff approval, not the caller's own. */
  toDecide(callerId: string): SQL {
    return and(
      eq(accessRequests.status, 'pending'),
      eq(accessRequests.needsApproval, true),
      isNull(accessRequests.approvedBy),
      or(isNull(accessRequests.requestedBy), ne(accessRequests.requestedBy, callerId)),
    )!
  }

  async count(where: SQL): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(accessRequests)
      .where(where)
    return row?.n ?? 0
  }

  /** Open requests and grants of `userIds` (the policy's facts; small partial index). */
  async openFor(userIds: readonly string[]): Promise<AccessRequestRow[]> {
    if (userIds.length === 0) return []
    return this.db
      .select()
      .from(accessRequests)
      .where(and(inArray(accessRequests.userId, [...userIds]), OPEN))
  }

  /**
   * How the last grant `actorId` could use for `userId` ended (`expired` or `revoked`), or null:
   * why a live impersonation that needed one ends.
   */
  async lastEnded(userId: string, actorId: string): Promise<'expired' | 'revoked' | null> {
    const [row] = await this.db
      .select({ status: accessRequests.status })
      .from(accessRequests)
      .where(
        and(
          eq(accessRequests.userId, userId),
          or(isNull(accessRequests.requestedBy), eq(accessRequests.requestedBy, actorId)),
          inArray(accessRequests.status, ['expired', 'revoked']),
          sql`${accessRequests.grantedAt} is not null`,
        ),
      )
      .orderBy(desc(accessRequests.settledAt))
      .limit(1)
    return row?.status === 'expired' || row?.status === 'revoked' ? row.status : null
  }

  /** Open rows past their deadline (undecided requests, grants whose window ended), oldest first. */
  async due(limit = 100): Promise<AccessRequestRow[]> {
    const now = this.now()
    return this.db
      .select()
      .from(accessRequests)
      .where(
        and(
          OPEN,
          or(
            and(eq(accessRequests.status, 'pending'), lt(accessRequests.decideBy, now)),
            and(eq(accessRequests.status, 'granted'), lt(accessRequests.grantEndsAt, now)),
          ),
        ),
      )
      .orderBy(accessRequests.createdAt)
      .limit(limit)
  }

  // ---- who acted as whom (the customer's history; a read of the impersonations projection) --

  /** Impersonations of `userIds` that became sessions, newest first. */
  async signedInHistory(
    userIds: readonly string[],
    params: { cursor?: string | undefined; limit: number },
  ): Promise<{ rows: ImpersonationRow[]; next: string | null }> {
    const where = [
      inArray(impersonations.userId, [...userIds]),
      isNotNull(impersonations.signedInAt),
    ]
    if (params.cursor)
      where.push(
        olderThan(impersonations.createdAt, impersonations.id, params.cursor, 'customer.history'),
      )
    const rows = await this.db
      .select()
      .from(impersonations)
      .where(and(...where))
      .orderBy(desc(impersonations.createdAt), desc(impersonations.id))
      .limit(params.limit + 1)
    const page = rows.slice(0, params.limit)
    const last = page.at(-1)
    return { rows: page, next: rows.length > params.limit && last ? encodeCursor(last) : null }
  }

  /**
   * The users impersonations signed in as, at most `limit` (null: more than that): a large
   * organization's history asks Clerk which of them are members, 100 ids a read.
   */
  async impersonatedUsers(limit: number): Promise<string[] | null> {
    const rows = await this.db
      .selectDistinct({ userId: impersonations.userId })
      .from(impersonations)
      .where(isNotNull(impersonations.signedInAt))
      .limit(limit + 1)
    return rows.length > limit ? null : rows.map((r) => r.userId)
  }

  // ---- organizations' settings ------------------------------------------------------------

  /** Every organization whose setting is not `allowed` (few: the policy reads them all). */
  async restrictedOrganizations(): Promise<OrganizationAccessSettingRow[]> {
    return this.db
      .select()
      .from(organizationAccessSettings)
      .where(ne(organizationAccessSettings.setting, 'allowed'))
  }

  async organizationSetting(organizationId: string): Promise<OrganizationAccessSettingRow | null> {
    const [row] = await this.db
      .select()
      .from(organizationAccessSettings)
      .where(eq(organizationAccessSettings.organizationId, organizationId))
    return row ?? null
  }

  /** An organization admin's change: the row and its event, in one transaction. */
  async setOrganizationSetting(
    organization: { id: string; name: string },
    setting: OrganizationAccessSetting,
    by: string,
  ): Promise<OrganizationAccessSettingRow> {
    const organizationId = organization.id
    return this.audit.withChain(async (tx, chain) => {
      const [before] = await tx
        .select()
        .from(organizationAccessSettings)
        .where(eq(organizationAccessSettings.organizationId, organizationId))
        .for('update')
      const at = this.now()
      const row = {
        organizationId,
        organizationName: organization.name,
        subjectId: before?.subjectId ?? randomUUID(),
        setting,
        changedBy: by,
        changedAt: at,
      }
      const [written] = before
        ? await tx
            .update(organizationAccessSettings)
            .set(row)
            .where(eq(organizationAccessSettings.organizationId, organizationId))
            .returning()
        : await tx.insert(organizationAccessSettings).values(row).returning()
      if (!written) throw new Error('organization setting write returned no row')
      await chain.append(row.subjectId, [
        {
          type: 'organization.access_setting_changed',
          by,
          data: {
            organizationId,
            organizationName: organization.name,
            from: before?.setting ?? 'allowed',
            to: setting,
          },
          at,
        },
      ])
      return written
    })
  }
}

function stripId(row: AccessRequestRow): AccessProjection {
  const { id: _id, ...rest } = row
  return rest
}

/** The host's message for an access event (ACCESS_WEBHOOK_TYPES), or null. */
export function webhookOf(
  row: AccessRequestRow,
  event: AuditEventRow,
  timestamp: Date,
): AccessWebhook | null {
  if (!WEBHOOK_TYPES.has(event.type)) return null
  const data = JSON.parse(event.data) as Record<string, unknown>
  const approver = data['approver']
  return {
    type: event.type as AccessWebhook['type'],
    timestamp: timestamp.toISOString(),
    data: {
      accessId: row.id,
      user: { id: row.userId },
      requestedBy: row.requestedBy ? { id: row.requestedBy } : null,
      reason: row.reason,
      mode: row.grantMode ?? row.mode,
      status: row.status,
      by: event.by,
      approver: approver === 'customer' || approver === 'staff' ? approver : null,
      cause: event.cause,
      grantEndsAt: row.grantEndsAt?.toISOString() ?? null,
      seq: event.seq,
      occurredAt: event.createdAt.toISOString(),
    },
  }
}
