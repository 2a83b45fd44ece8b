// The banner's words.
import type { ImpersonationMode } from '@actas/contracts/facts'

export function modeLabel(mode: ImpersonationMode): string {
  return mode === 'read_only' ? 'Read-only' : 'Full access'
}

/** `29:41`, or `1:02:05` past an hour. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const two = (n: number) => String(n).padStart(2, '0')
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`
}
