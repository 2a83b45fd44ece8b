// `audit.export` (AuditExportPort): the chain in chain order, a page at a time, as ActAs's events
// or their OCSF form. A machine's read is recorded in audit_reads, like its other reads.
import { randomUUID } from 'node:crypto'
import type {
  AuditExportOutput,
  AuditExportParams,
  AuditExportPort,
  ReaderPrincipal,
  RequestInfo,
} from '@actas/contracts'
import type { AuditDatabase } from '../audit/db.js'
import type { AuditStore } from '../audit/store.js'
import { feedToOcsf, readFeed } from './feed.js'
import type { OcsfOptions } from './map.js'

export class AuditExporter implements AuditExportPort {
  constructor(
    private readonly o: {
      db: AuditDatabase
      audit: Pick<AuditStore, 'head' | 'insertAuditRead'>
      ocsf?: OcsfOptions
    },
  ) {}

  async export(
    principal: ReaderPrincipal,
    params: AuditExportParams,
    request: RequestInfo,
  ): Promise<AuditExportOutput> {
    const head = await this.o.audit.head()
    const page = await readFeed(this.o.db, {
      afterSeq: params.after,
      limit: params.limit,
      ...(params.from ? { from: new Date(params.from) } : {}),
      ...(params.to ? { to: new Date(params.to) } : {}),
    })
    if (principal.kind === 'machine')
      await this.o.audit.insertAuditRead({
        id: randomUUID(),
        machineId: principal.machineId,
        tokenId: principal.tokenId,
        procedure: 'audit.export',
        params: { ...params },
        rowCount: page.length,
        requestId: request.id,
        ip: request.ip,
        userAgent: request.userAgent,
      })
    return {
      format: params.format,
      events:
        params.format === 'events'
          ? page.map((f) => ({
              ...f.event,
              impersonationId: f.impersonation.id,
              actor: f.impersonation.actor,
              user: f.impersonation.user,
              mode: f.impersonation.mode,
            }))
          : [],
      ocsf: params.format === 'ocsf' ? page.map((f) => feedToOcsf(f, this.o.ocsf)) : [],
      next: page.at(-1)?.event.seq ?? params.after,
      more: page.length === params.limit,
      headSeq: head.seq,
    }
  }
}
