// The way back to the console after an impersonation, kept by the tab that started it.
//
// At start the console makes a return secret (32 random bytes, base64url) and sends only its
// SHA-256 (hex) with `impersonation.start`; the secret stays in this tab's `sessionStorage`
// (never a URL, a cookie or localStorage: another tab, or another browser holding a leaked
// session token, does not have it) with the impersonation's id, the users page the staff member
// came from (its search) and whom they acted as. Stop sends the secret once
// (`impersonation.stop({ returnSecret })`) and removes it whatever the answer: it is single use.

const KEY = 'actas.return'

export interface ReturnRecord {
  impersonationId: string
  /** The return secret: only `impersonation.stop` ever receives it. */
  secret: string
  /** Where Stop lands: the users page with the search it had (`/users?q=…&page=…`). */
  returnTo: string
  /** Whom the staff member acts as, for the notice after Stop. */
  userName: string
}

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** SHA-256 of `value` (UTF-8), lower-case hex: what the API compares the secret with. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** A fresh return secret (32 random bytes, base64url) and its hash for `impersonation.start`. */
export async function createReturnSecret(): Promise<{ secret: string; hash: string }> {
  const bytes = new Uint8Array(32)
  crypto.getRandomValues(bytes)
  const secret = base64url(bytes)
  return { secret, hash: await sha256Hex(secret) }
}

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage
  } catch {
    return null // storage disabled: Stop then returns to the sign-in page
  }
}

export function saveReturn(record: ReturnRecord): void {
  try {
    storage()?.setItem(KEY, JSON.stringify(record))
  } catch {
    // full or disabled: no way back without a password, nothing else changes
  }
}

/** The way back kept for `impersonationId` in this tab, if any. */
export function readReturn(impersonationId: string | null | undefined): ReturnRecord | null {
  if (!impersonationId) return null
  try {
    const raw = storage()?.getItem(KEY)
    if (!raw) return null
    const value = JSON.parse(raw) as Partial<ReturnRecord>
    if (
      value.impersonationId !== impersonationId ||
      typeof value.secret !== 'string' ||
      typeof value.returnTo !== 'string' ||
      typeof value.userName !== 'string'
    )
      return null
    return value as ReturnRecord
  } catch {
    return null
  }
}

/** Forgets the way back (after Stop, a failed start, or an end elsewhere). */
export function clearReturn(): void {
  try {
    storage()?.removeItem(KEY)
  } catch {
    // disabled storage holds nothing
  }
}
