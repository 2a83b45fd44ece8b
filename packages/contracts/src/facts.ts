// Facts several packages rely on, in one place. Browser-safe: no imports.

/** The server refuses batches above this size (tRPC `maxBatchSize`); the client never sends more. */
export const MAX_BATCH_SIZE = 20

/** An impersonation's reason, trimmed: at least this many characters… */
export const REASON_MIN_LENGTH = 10
/** …and at most this many (the audit row stores no more). */
export const REASON_MAX_LENGTH = 500

/**
 * Where the API serves the console's settings (`ConsoleConfigSchema`), on the console's origin:
 * the console reads them at load, so one build runs in every environment.
 */
export const CONSOLE_CONFIG_PATH = '/config.json'

/**
 * The local Clerk-compatible server (`@actas/clerk-local`): the Frontend API host its
 * publishable keys name (a `.clerk.accounts.dev` host, so clerk-js runs in dev-browser mode),
 * and the prefix of its secret keys. Production refuses both.
 */
export const LOCAL_FRONTEND_API_HOST = 'actas-local.clerk.accounts.dev'
export const LOCAL_SECRET_KEY_PREFIX = 'sk_test_actaslocal_'

/**
 * How much an impersonation may do as the customer: `read_only` (the application refuses every
 * non-safe request) or `full`. Chosen at `impersonation.start`, written into the actor token's
 * `actor` payload as `mode`, and so into the session token's `act.mode`.
 */
export const IMPERSONATION_MODES = ['read_only', 'full'] as const
export type ImpersonationMode = (typeof IMPERSONATION_MODES)[number]

/** The `act` claim of an impersonated session, as ActAs writes it into the actor token. */
export interface ActorClaim {
  /** The staff member's user id. */
  sub: string
  reason: string | null
  impersonationId: string | null
  /**
   * `act.mode`. Absent on sessions started before modes existed (they were full impersonations):
   * `full`. Any value other than `full` or `read_only` reads as `read_only` (fail closed).
   */
  mode: ImpersonationMode
}

/** `act.mode` as read from a claim: see `ActorClaim.mode`. */
export function actorMode(value: unknown): ImpersonationMode {
  if (value === undefined || value === null || value === 'full') return 'full'
  return 'read_only'
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/** Reads an `act` claim (a session token's, or Clerk's `session.actor`); null when absent or without `sub`. */
export function parseActorClaim(act: unknown): ActorClaim | null {
  if (!act || typeof act !== 'object') return null
  const a = act as Record<string, unknown>
  const sub = text(a['sub'])
  if (!sub) return null
  return {
    sub,
    reason: text(a['reason']),
    impersonationId: text(a['impersonation_id']),
    mode: actorMode(a['mode']),
  }
}

/**
 * The console's page that ends an impersonation and brings the staff member back, signed in
 * (`<console origin>/return?impersonation=<id>`): where the host kit's Stop leads. The same tab
 * holds the return secret in the console origin's `sessionStorage`.
 */
export const CONSOLE_RETURN_PATH = '/return'

/** The most actions one `impersonation.actions` call may carry. */
export const MAX_ACTIONS_PER_BATCH = 100

/** The most actions `impersonation.get` returns (oldest first; `actionsTotal` counts them all). */
export const MAX_ACTIONS_IN_GET = 1000
