// Whether ActAs still lets this impersonation live, asked of the host application's own server.
//
// The banner asks `statusUrl` (GET, `Authorization: Bearer <session token>`): a route of the
// host application behind @actas/guard, which already knows every impersonation ActAs ended
// (it follows `sessions.revoked`) and refuses their sessions with 401 `IMPERSONATION_ENDED`.
// So the end reaches the banner by the same path as every refusal, with no second mechanism
// and no call to ActAs from the browser. The route answers 200 with JSON; it may add
// `actor.email` (e.g. from ActAs's `impersonation.started` webhook) for the banner to show.

export type StatusAnswer =
  /** The session lives (as an impersonation or not). */
  | { state: 'live'; actorEmail: string | null }
  /** ActAs ended the impersonation (the guard refuses the session). */
  | { state: 'ended' }
  /** No session any more (Clerk ended it, or no token could be had). */
  | { state: 'signed-out' }
  /** No answer (network, 5xx, a guard waiting on ActAs): ask again later. */
  | { state: 'unknown' }

export interface StatusOptions {
  statusUrl: string
  token: string | null
  fetch?: typeof fetch
  /** Give up on one request after this long (default 5,000 ms). */
  timeoutMs?: number
}

function errorCode(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null
  const error = (body as { error?: unknown }).error
  if (!error || typeof error !== 'object') return null
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : null
}

export async function askStatus(options: StatusOptions): Promise<StatusAnswer> {
  if (!options.token) return { state: 'signed-out' }
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  let res: Response
  try {
    res = await doFetch(options.statusUrl, {
      headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    })
  } catch {
    return { state: 'unknown' }
  }
  const body: unknown = await res.json().catch(() => null)
  if (res.status === 401)
    return errorCode(body) === 'IMPERSONATION_ENDED' ? { state: 'ended' } : { state: 'signed-out' }
  if (!res.ok) return { state: 'unknown' }
  const actor = (body as { actor?: { email?: unknown } } | null)?.actor
  return {
    state: 'live',
    actorEmail: typeof actor?.email === 'string' && actor.email !== '' ? actor.email : null,
  }
}
