// What the console remembers across the switch from the staff session to the impersonated
// one (same tab): who started it, for the banner and to pre-fill sign-in after Stop.
// sessionStorage holds display data only: never the ticket, never a token.
export interface Handoff {
  impersonationId: string
  staffIdentifier: string
  staffName: string | null
  userName: string | null
  userEmail: string | null
  reason: string
}

const KEY = 'actas.handoff'

export function saveHandoff(handoff: Handoff): void {
  sessionStorage.setItem(KEY, JSON.stringify(handoff))
}

export function readHandoff(): Handoff | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    return raw ? (JSON.parse(raw) as Handoff) : null
  } catch {
    return null
  }
}

export function clearHandoff(): void {
  sessionStorage.removeItem(KEY)
}
