// Text cleaning before storage: no input can make an audit write fail, or flood a row.
// Postgres refuses NUL in text (and `\u0000` in JSON); lone surrogates are not UTF-8; control and
// bidirectional-override characters forge lines and text direction in logs and on screen.

import { REASON_MAX_LENGTH } from '@actas/contracts'

/** Upper bounds, in characters, of the text the audit log stores. */
export const TEXT_LIMITS = {
  userAgent: 512,
  reason: REASON_MAX_LENGTH,
  userId: 128,
  ticketUrl: 2000,
  requestId: 64,
  ip: 64,
  email: 320,
  message: 1000,
  id: 128,
} as const

// C0/C1 controls (tab, CR, LF become a space) and the bidi embedding/override/isolate marks.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g
const BREAKS = /[\t\n\r]/g
// A surrogate without its pair is not UTF-8: it becomes U+FFFD.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** NUL, control and bidi characters removed (tab/CR/LF → space), trimmed, well-formed, at most `max` characters. */
export function cleanText(value: string, max: number): string {
  let text = value
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(BREAKS, ' ')
    .replace(CONTROL, '')
    .trim()
  if (text.length > max) {
    // Cut by code points, never inside a surrogate pair.
    text = Array.from(text).slice(0, max).join('')
  }
  return text
}

export function cleanOptional(value: string | null | undefined, max: number): string | null {
  return value === null || value === undefined ? null : cleanText(value, max)
}
