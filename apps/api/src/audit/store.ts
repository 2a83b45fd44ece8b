// The audit log's queries. Domain-shaped: the impersonation use case never sees SQL.
import { and, asc, count, desc, eq, gte, inArray, isNotNull, lt, or } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import type { ImpersonationRecord, ImpersonationStatus } from '@actas/contracts'
import type { AuditDatabase } from './db.js'
import { auditReads, impersonations } from './schema.js'
import type {
  AuditReadRow,
  ImpersonationRow,
  NewAuditReadRow,
  NewImpersonationRow,
} from './schema.js'

export type RowPatch = Partial<
  Pick<
    ImpersonationRow,
    | 'status'
    | 'outcomeCode'
    | 'outcomeMessage'
    | 'clerkActorTokenId'
    | 'expiresAt'
    | 'sessionExpiresAt'
    | 'userEmail'
    | 'actorEmail'
    | 'revokedBy'
  >
>

export interface ListQuery {
  actorId?: string | undefined
  userId?: string | undefined
  status?: ImpersonationStatus | undefined
  /** ISO instant: rows created at or after it. */
  from?: string | undefined
  /** ISO instant: rows created before it. */
  to?: string | undefined
  cursor?: string | undefined
  limit: number
}

export class InvalidCursorError extends Error {}

function encodeCursor(row: ImpersonationRow): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url')
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string'
    ) {
      // Exactly what encodeCursor writes: an ISO instant that round-trips (so within the years
      // Postgres stores) and a UUID; anything else is forged and would make the query fail.
      const createdAt = new Date(value[0])
      if (
        /^\d{4}-\d{2}-\d{2}T/.test(value[0]) &&
        !Number.isNaN(createdAt.getTime()) &&
        createdAt.toISOString() === value[0] &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value[1])
      )
        return { createdAt, id: value[1] }
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError('This cursor was not returned by impersonation.list.')
}

export function toRecord(row: ImpersonationRow): ImpersonationRecord {
  return {
    id: row.id,
    actor: { id: row.actorId, email: row.actorEmail },
    user: { id: row.userId, email: row.userEmail },
    reason: row.reason,
    ticketUrl: row.ticketUrl,
    status: row.status,
    outcomeCode: row.outcomeCode,
    outcomeMessage: row.outcomeMessage,
    clerkActorTokenId: row.clerkActorTokenId,
    sessionMinutes: row.sessionMinutes,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    sessionExpiresAt: row.sessionExpiresAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    requestId: row.requestId,
    ip: row.ip,
    userAgent: row.userAgent,
  }
}

export class AuditStore {
  constructor(
    private readonly db: AuditDatabase,
    private readonly now: () => Date,
  ) {}

  async insert(
    row: Omit<NewImpersonationRow, 'createdAt' | 'updatedAt'>,
  ): Promise<ImpersonationRow> {
    const at = this.now()
    const [inserted] = await this.db
      .insert(impersonations)
      .values({ ...row, createdAt: at, updatedAt: at })
      .returning()
    if (!inserted) throw new Error('audit insert returned no row')
    return inserted
  }

  async update(id: string, patch: RowPatch): Promise<ImpersonationRow> {
    const [updated] = await this.db
      .update(impersonations)
      .set({ ...patch, updatedAt: this.now() })
      .where(eq(impersonations.id, id))
      .returning()
    if (!updated) throw new Error(`audit row ${id} vanished`)
    return updated
  }

  async get(id: string): Promise<ImpersonationRow | null> {
    const [row] = await this.db
      .select()
      .from(impersonations)
      .where(eq(impersonations.id, id))
      .limit(1)
    return row ?? null
  }

  async list(query: ListQuery): Promise<{ rows: ImpersonationRow[]; next: string | null }> {
    const where: SQL[] = []
    if (query.actorId) where.push(eq(impersonations.actorId, query.actorId))
    if (query.userId) where.push(eq(impersonations.userId, query.userId))
    if (query.status) where.push(eq(impersonations.status, query.status))
    if (query.from) where.push(gte(impersonations.createdAt, new Date(query.from)))
    if (query.to) where.push(lt(impersonations.createdAt, new Date(query.to)))
    if (query.cursor) {
      const c = decodeCursor(query.cursor)
      const older = or(
        lt(impersonations.createdAt, c.createdAt),
        and(eq(impersonations.createdAt, c.createdAt), lt(impersonations.id, c.id)),
      )
      if (older) where.push(older)
    }
    const rows = await this.db
      .select()
      .from(impersonations)
      .where(and(...where))
      .orderBy(desc(impersonations.createdAt), desc(impersonations.id))
      .limit(query.limit + 1)
    const page = rows.slice(0, query.limit)
    const last = page.at(-1)
    return { rows: page, next: rows.length > query.limit && last ? encodeCursor(last) : null }
  }

  /** Records a read of the audit log by a machine. */
  async insertAuditRead(row: Omit<NewAuditReadRow, 'createdAt' | 'kind'>): Promise<AuditReadRow> {
    const [inserted] = await this.db
      .insert(auditReads)
      .values({ ...row, kind: 'audit_read', createdAt: this.now() })
      .returning()
    if (!inserted) throw new Error('audit read insert returned no row')
    return inserted
  }

  /** Audit reads, oldest first (optionally by one machine). */
  async listAuditReads(machineId?: string): Promise<AuditReadRow[]> {
    return this.db
      .select()
      .from(auditReads)
      .where(machineId ? eq(auditReads.machineId, machineId) : undefined)
      .orderBy(asc(auditReads.createdAt), asc(auditReads.id))
  }

  /** Actor tokens Clerk issued since `since` (revoked ones were issued too, and count against the plan). */
  async countIssuedSince(since: Date): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(impersonations)
      .where(
        and(
          gte(impersonations.createdAt, since),
          inArray(impersonations.status, ['issued', 'revoked']),
          isNotNull(impersonations.clerkActorTokenId),
        ),
      )
    return row?.n ?? 0
  }
}
