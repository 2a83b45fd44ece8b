// Stop from the host application: the same tab goes back to the console's origin, whose
// `sessionStorage` (in this tab only) holds the return secret; the console's return page ends the
// impersonation with it and signs the staff member back in. The URL carries the impersonation's
// id only (not a secret).
import { CONSOLE_RETURN_PATH } from '@actas/contracts/facts'

export function consoleReturnUrl(consoleUrl: string, impersonationId: string | null): string {
  const url = new URL(CONSOLE_RETURN_PATH, consoleUrl)
  if (impersonationId) url.searchParams.set('impersonation', impersonationId)
  return url.href
}
