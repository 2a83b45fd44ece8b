// Clerk's sign-in errors, in plain words. Never echoes the ticket or the password.
import { isClerkAPIResponseError } from '@clerk/shared/error'
import { AuthError } from './types'

/** A sign-in whose request did not get through: the network, not Clerk, not the console. */
export function networkAuthError(): AuthError {
  return new AuthError(
    'network',
    'The network failed during the sign-in. Check your connection, then try again.',
  )
}

export function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error
  if (isClerkAPIResponseError(error)) {
    const first = error.errors[0]
    // clerk's ClerkAPIError types `meta` as `any` by default.
    const paramName = (first?.meta as { paramName?: string } | undefined)?.paramName
    const code = first?.code ?? ''
    switch (code) {
      case 'form_identifier_not_found':
        return new AuthError(
          'identifier_not_found',
          'No account uses that email or username.',
          'identifier',
        )
      case 'form_password_incorrect':
        return new AuthError(
          'password_incorrect',
          'That password is not right. Try again.',
          'password',
        )
      case 'form_param_missing':
      case 'form_param_format_invalid':
        return new AuthError(
          'invalid_input',
          paramName === 'password' ? 'Enter your password.' : 'Enter your email or username.',
          paramName === 'password' ? 'password' : 'identifier',
        )
      case 'user_banned':
        return new AuthError('banned', 'This account is banned and cannot sign in.')
      case 'user_locked':
        return new AuthError(
          'locked',
          'This account is locked after too many attempts. Try again later or ask an administrator.',
        )
      case 'session_exists':
        return new AuthError('session_exists', 'You are already signed in.')
      case 'ticket_expired_code':
        return new AuthError(
          'ticket_expired',
          'The impersonation ticket expired before it was used. Start again.',
        )
      case 'actor_token_already_used_code':
        return new AuthError(
          'ticket_used',
          'This impersonation ticket was already used. Start again.',
        )
      case 'ticket_invalid_code':
      case 'actor_token_revoked_code':
      case 'actor_token_subject_not_found':
        return new AuthError(
          'ticket_invalid',
          'The impersonation ticket is no longer valid (revoked or unknown). Start again.',
        )
    }
    if (error.status === 429)
      return new AuthError('rate_limited', 'Too many attempts. Wait a minute and try again.')
    if (error.status >= 500)
      return new AuthError('unavailable', 'Clerk is unavailable right now. Try again in a moment.')
    return new AuthError('unknown', first?.longMessage ?? first?.message ?? 'Sign-in failed.')
  }
  // The network: fetch() failures surface as TypeError ("Failed to fetch", "NetworkError …"),
  // clerk-js's own as a ClerkRuntimeError whose code says so (read by its code: the class
  // would weigh on the first route)
  if (error instanceof TypeError || (error as { code?: unknown } | null)?.code === 'network_error')
    return networkAuthError()
  return new AuthError('unknown', 'Sign-in failed. Try again.')
}
