// The rule for a reason a staff member types (impersonate, end, request access, deny): the API's
// own bounds (REASON_MIN_LENGTH…REASON_MAX_LENGTH, trimmed), said as the form shows it.
import { REASON_MAX_LENGTH, REASON_MIN_LENGTH } from '@actas/contracts/facts'

/** What is wrong with `text` as a reason, or null. */
export function reasonProblem(text: string): string | null {
  const r = text.trim()
  if (r.length === 0) return 'A reason is required.'
  if (r.length < REASON_MIN_LENGTH) return `Give at least ${REASON_MIN_LENGTH} characters.`
  if (r.length > REASON_MAX_LENGTH) return `Keep it under ${REASON_MAX_LENGTH} characters.`
  return null
}
