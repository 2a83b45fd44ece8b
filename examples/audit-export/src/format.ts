// CSV (RFC 4180) and JSON Lines rows of the audit log. One row per impersonation record, the
// same columns in both formats. `ocsf`: one OCSF event per line, each event of the audit chain
// (ActAs maps them; see `audit.export`).
import type { ImpersonationRecord, OcsfEventOutput } from '@actas/contracts'

export const FORMATS = ['csv', 'jsonl', 'ocsf'] as const
export type Format = (typeof FORMATS)[number]

export const COLUMNS = [
  'id',
  'createdAt',
  'updatedAt',
  'status',
  'actorId',
  'actorEmail',
  'userId',
  'userEmail',
  'reason',
  'ticketUrl',
  'mode',
  'sessionMinutes',
  'expiresAt',
  'sessionExpiresAt',
  'outcomeCode',
  'outcomeMessage',
  'clerkActorTokenId',
  'requestId',
  'ip',
  'userAgent',
] as const

export type Column = (typeof COLUMNS)[number]
export type ExportRow = Record<Column, string | number | null>

export function toRow(r: ImpersonationRecord): ExportRow {
  return {
    id: r.id,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    status: r.status,
    actorId: r.actor.id,
    actorEmail: r.actor.email,
    userId: r.user.id,
    userEmail: r.user.email,
    reason: r.reason,
    ticketUrl: r.ticketUrl,
    mode: r.mode,
    sessionMinutes: r.sessionMinutes,
    expiresAt: r.expiresAt,
    sessionExpiresAt: r.sessionExpiresAt,
    outcomeCode: r.outcomeCode,
    outcomeMessage: r.outcomeMessage,
    clerkActorTokenId: r.clerkActorTokenId,
    requestId: r.requestId,
    ip: r.ip,
    userAgent: r.userAgent,
  }
}

/**
 * One CSV field. Quoted when it holds a comma, quote or line break; a text that a spreadsheet
 * would run as a formula (=, +, -, @, tab, CR first) gets a leading `'` (the reason and the user
 * agent are typed by people).
 */
export function csvField(value: string | number | null): string {
  if (value === null) return ''
  if (typeof value === 'number') return String(value)
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export function csvHeader(): string {
  return `${COLUMNS.join(',')}\r\n`
}

export function csvLine(row: ExportRow): string {
  return `${COLUMNS.map((c) => csvField(row[c])).join(',')}\r\n`
}

export function jsonLine(row: ExportRow): string {
  return `${JSON.stringify(row)}\n`
}

export function ocsfLine(event: OcsfEventOutput): string {
  return `${JSON.stringify(event)}\n`
}
