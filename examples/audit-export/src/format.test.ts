import { describe, expect, it } from 'vitest'
import { csvField, csvHeader, csvLine, jsonLine, toRow } from './format.js'
import type { ImpersonationRecord } from '@actas/contracts'

const record: ImpersonationRecord = {
  id: '6f1c2f4e-5b7a-4c1e-9a55-0d2b8f3c1a77',
  actor: { id: 'user_admin', email: 'ada@support.actas.test' },
  user: { id: 'user_cust', email: null },
  reason: 'Says "hi", twice',
  ticketUrl: null,
  mode: 'read_only',
  status: 'issued',
  outcomeCode: null,
  outcomeMessage: null,
  clerkActorTokenId: 'act_1',
  sessionMinutes: 30,
  expiresAt: '2026-10-01T09:05:00.000Z',
  sessionExpiresAt: '2026-10-01T09:35:00.000Z',
  clerkSessionId: null,
  signedInAt: null,
  endedAt: null,
  endCause: null,
  endedBy: null,
  endReason: null,
  attempts: 1,
  createdAt: '2026-10-01T09:00:00.000Z',
  updatedAt: '2026-10-01T09:00:00.000Z',
  requestId: 'req-1',
  ip: '127.0.0.1',
  userAgent: null,
}

describe('CSV and JSON Lines rows', () => {
  it('quotes only what needs quoting, and leaves null empty', () => {
    expect(csvField(null)).toBe('')
    expect(csvField(30)).toBe('30')
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "x"')).toBe('"say ""x"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
  })

  it('neutralises text a spreadsheet would run as a formula', () => {
    expect(csvField('=1+1')).toBe("'=1+1")
    expect(csvField('+33 1 23')).toBe("'+33 1 23")
    expect(csvField('-x')).toBe("'-x")
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)")
    expect(csvField('=HYPERLINK("u")')).toBe(`"'=HYPERLINK(""u"")"`)
  })

  it('writes the same columns in both formats', () => {
    const row = toRow(record)
    const header = csvHeader().trimEnd().split(',')
    expect(Object.keys(row)).toEqual(header)
    expect(csvLine(row)).toBe(
      '6f1c2f4e-5b7a-4c1e-9a55-0d2b8f3c1a77,2026-10-01T09:00:00.000Z,2026-10-01T09:00:00.000Z,issued,user_admin,ada@support.actas.test,user_cust,,"Says ""hi"", twice",,read_only,30,2026-10-01T09:05:00.000Z,2026-10-01T09:35:00.000Z,,,act_1,req-1,127.0.0.1,\r\n',
    )
    expect(JSON.parse(jsonLine(row))).toEqual(row)
    expect(jsonLine(row).endsWith('}\n')).toBe(true)
  })
})
