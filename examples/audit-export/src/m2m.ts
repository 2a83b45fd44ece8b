// A Clerk M2M token for this service, from its machine secret key: `POST {clerkApiUrl}/m2m_tokens`
// with `Authorization: Bearer <machine secret key>` (Clerk's Backend API; @clerk/backend's
// `m2m.createToken` calls the same path, without a version). Plain fetch: no Clerk SDK needed.
// The token is cached and replaced a minute before it expires. Never logged.

export interface M2MTokenSourceOptions {
  /** Clerk's Backend API, e.g. https://api.clerk.com (or the local server's url). */
  clerkApiUrl: string
  /** The machine's secret key (`ak_…`). */
  machineSecretKey: string
  /** Lifetime asked for each token (default 600 s). */
  secondsUntilExpiration?: number
  fetch?: typeof globalThis.fetch
  now?: () => number
}

export class M2MTokenError extends Error {
  override readonly name = 'M2MTokenError'
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message)
  }
}

interface CreatedToken {
  token?: unknown
  expiration?: unknown
}

/** Returns `getToken` for `createActAsClient`: a fresh-enough M2M token on every call. */
export function m2mTokenSource(options: M2MTokenSourceOptions): () => Promise<string> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  const now = options.now ?? Date.now
  const seconds = options.secondsUntilExpiration ?? 600
  let cached: { token: string; expiresAt: number } | undefined
  let pending: Promise<string> | undefined

  async function create(): Promise<string> {
    let res: Response
    try {
      res = await doFetch(`${options.clerkApiUrl.replace(/\/+$/, '')}/m2m_tokens`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${options.machineSecretKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ seconds_until_expiration: seconds }),
        signal: AbortSignal.timeout(10_000),
      })
    } catch (error) {
      throw new M2MTokenError(
        `Clerk could not be reached for an M2M token (${error instanceof Error ? error.message : String(error)}).`,
        null,
      )
    }
    if (!res.ok) {
      throw new M2MTokenError(
        res.status === 401
          ? 'Clerk refused the machine secret key (401): check CLERK_MACHINE_SECRET_KEY.'
          : `Clerk answered ${res.status} when asked for an M2M token.`,
        res.status,
      )
    }
    const body = (await res.json()) as CreatedToken
    if (typeof body.token !== 'string' || !body.token.startsWith('mt_'))
      throw new M2MTokenError('Clerk answered without an M2M token.', res.status)
    const expiresAt = typeof body.expiration === 'number' ? body.expiration : now() + seconds * 1000
    cached = { token: body.token, expiresAt }
    return body.token
  }

  return async () => {
    if (cached && now() < cached.expiresAt - 60_000) return cached.token
    pending ??= create().finally(() => {
      pending = undefined
    })
    return pending
  }
}
