// Pages through `impersonation.list` for a date range and writes every record; for OCSF, pages
// through `audit.export` (the chain in chain order) and writes every event in OCSF form.
import type { ActAsClient } from '@actas/contracts/client'
import { csvHeader, csvLine, jsonLine, ocsfLine, toRow } from './format.js'
import type { Format } from './format.js'
import type { Progress } from './progress.js'

export interface ExportOptions {
  client: ActAsClient
  /** ISO instants: rows created at or after `from` and before `to`. */
  from: string
  to: string
  format: Format
  /** Rows per page (1–100, default 100; OCSF events: up to 1000). */
  pageSize?: number
  write: (chunk: string) => void | Promise<void>
  progress?: Progress
}

/**
 * Writes the header (CSV) and every row of the range, newest first; for `ocsf`, every event
 * appended in the range, in chain order. Returns the row count.
 */
export async function exportAuditLog(options: ExportOptions): Promise<number> {
  const { client, from, to, format, write, progress } = options
  const limit = options.pageSize ?? 100
  if (format === 'ocsf') return exportOcsf(options, limit)
  if (format === 'csv') await write(csvHeader())
  let rows = 0
  let cursor: string | undefined
  do {
    const page = await client.impersonation.list.query({
      from,
      to,
      limit,
      ...(cursor ? { cursor } : {}),
    })
    for (const record of page.items) {
      const row = toRow(record)
      await write(format === 'csv' ? csvLine(row) : jsonLine(row))
      rows++
    }
    const last = page.items.at(-1)
    progress?.update(rows, last ? Date.parse(last.createdAt) : null)
    cursor = page.next ?? undefined
  } while (cursor)
  progress?.done(rows)
  return rows
}

/** Every event appended in [from, to), in chain order, one OCSF event per line. */
async function exportOcsf(options: ExportOptions, limit: number): Promise<number> {
  const { client, from, to, write, progress } = options
  let rows = 0
  let after = 0
  for (;;) {
    const page = await client.audit.export.query({ format: 'ocsf', from, to, after, limit })
    for (const event of page.ocsf) {
      await write(ocsfLine(event))
      rows++
    }
    progress?.update(rows, page.ocsf.at(-1)?.time ?? null, 'oldest-first')
    after = page.next
    if (!page.more) break
  }
  progress?.done(rows)
  return rows
}
