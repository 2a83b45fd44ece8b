// The audit log's queries. Domain-shaped: the impersonation use cases never see SQL.
//
// Model: one `impersonations` row per attempt (who, whom, why, how long, request metadata) and
// an append-only, hash-chained `audit_events` timeline per row; the row is a projection of its
// events that only the event append writes. One class in layers, a file each:
//   store-base.ts  the database, the clock, the options
//   counts.ts      how many (list totals, the monthly quota)
//   reads.ts       rows, timelines, pages, the chain
//   writes.ts      the event append (and the projection it writes), checkpoints, retention
//   verify.ts      the chain, the projection and the checkpoints' cadence checked
//   projection.ts  which column each event sets (pure)
import { AuditVerification } from './verify.js'

export type { AuditStoreOptions } from './store-base.js'
export type { ListQuery } from './counts.js'
export { toEvent, toRecord } from './projection.js'
export { ImpersonationNotFoundError } from './writes.js'
export type { AppendResult, EventInput, NewImpersonation, PruneReport } from './writes.js'
export type { VerifyOptions, VerifyReport } from './verify.js'
export { InvalidCursorError } from './keyset.js'

export class AuditStore extends AuditVerification {}
