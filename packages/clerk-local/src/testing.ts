// A small, real Frontend API client for Node tests and other packages. It speaks FAPI over HTTP
// the way @clerk/clerk-js 6.40 does: a dev browser (`POST /v1/dev_browser`, then
// `__clerk_db_jwt=<id>` on every call), form-encoded bodies, PATCH/DELETE tunnelled as
// `POST ?_method=`, the `Origin` header (it becomes the token's `azp`), and the same
// sign-in → setActive (touch) → token sequence. Nothing is faked: every call hits the server.

/** The FAPI version and clerk-js version clerk-js 6.40 sends on every call. */
const CLERK_API_VERSION = '2026-08-20'
const CLERK_JS_VERSION = '6.40.0'

export interface FapiClientOptions {
  /** e.g. `http://127.0.0.1:4010/fapi` (`startClerkLocal().frontendApiUrl`). */
  frontendApiUrl: string
  /** The browser origin to present (the session token's `azp`), e.g. `http://localhost:5173`. */
  origin?: string
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch
}

export interface FapiSession {
  sessionId: string
  userId: string
  /** The session's active organization (`null` = personal account). */
  activeOrganizationId: string | null
  /** The impersonator (`act` claim) on actor sessions, else `null`. */
  actor: Record<string, unknown> | null
  /** A fresh session JWT (60 s) for `Authorization: Bearer`. */
  token: string
}

export interface FapiErrorDetail {
  code: string
  message: string
  longMessage?: string
  meta?: Record<string, unknown>
}

/** A non-2xx FAPI answer, with Clerk's error codes (e.g. `form_password_incorrect`, `ticket_expired_code`). */
export class FapiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: FapiErrorDetail[],
  ) {
    super(`FAPI ${status}: ${errors.map((e) => e.code).join(', ') || 'error'}`)
    this.name = 'FapiError'
  }

  get code(): string | undefined {
    return this.errors[0]?.code
  }
}

export interface FapiResponse {
  status: number
  body: unknown
  headers: Headers
}

export interface FapiClient {
  readonly frontendApiUrl: string
  /** The dev browser id once created (the first call creates it). */
  readonly devBrowserId: string | undefined
  signInWithPassword(identifier: string, password: string): Promise<FapiSession>
  signInWithTicket(ticket: string): Promise<FapiSession>
  /** A fresh JWT for the session (default: the last active one), for its active organization. */
  getToken(sessionId?: string): Promise<string>
  /** `setActive`: makes the session active and switches its organization (`null` = personal). */
  touch(sessionId: string, options?: { activeOrganizationId?: string | null }): Promise<FapiSession>
  /**
   * Step-up: `session.startVerification({ level })` then
   * `attemptFirstFactorVerification({ strategy: 'password', password })`, as clerk-js sends them;
   * resolves with a fresh token whose `fva[0]` is 0.
   */
  reverifyWithPassword(
    password: string,
    options?: { sessionId?: string; level?: 'first_factor' | 'second_factor' | 'multi_factor' },
  ): Promise<string>
  /** Ends every session of this client (`clerk.signOut()`). */
  signOut(): Promise<void>
  /** One raw FAPI call, with the dev browser and the clerk-js query parameters. */
  request(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    body?: Record<string, string>,
  ): Promise<FapiResponse>
}

interface SessionJson {
  id: string
  status: string
  last_active_organization_id: string | null
  actor: Record<string, unknown> | null
  user?: { id: string }
  last_active_token?: { jwt: string } | null
}

interface ClientJson {
  sessions: SessionJson[]
  last_active_session_id: string | null
}

interface Envelope<T> {
  response: T
  client: ClientJson | null
}

export function createFapiClient(options: FapiClientOptions): FapiClient {
  const base = options.frontendApiUrl.replace(/\/+$/, '')
  const doFetch = options.fetch ?? fetch
  let devBrowserId: string | undefined
  let lastActiveSessionId: string | null = null
  const sessions = new Map<string, SessionJson>()

  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(options.origin ? { Origin: options.origin } : {}),
    ...extra,
  })

  async function ensureDevBrowser(): Promise<string> {
    if (devBrowserId) return devBrowserId
    const res = await doFetch(`${base}/v1/dev_browser`, { method: 'POST', headers: headers() })
    const body = (await res.json()) as { id?: string; errors?: FapiErrorDetail[] }
    if (!res.ok || !body.id) throw toError(res.status, body)
    devBrowserId = body.id
    return devBrowserId
  }

  async function request(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    body?: Record<string, string>,
  ): Promise<FapiResponse> {
    const dvb = await ensureDevBrowser()
    const url = new URL(`${base}${path}`)
    url.searchParams.append('__clerk_api_version', CLERK_API_VERSION)
    url.searchParams.append('_clerk_js_version', CLERK_JS_VERSION)
    if (method !== 'GET' && method !== 'POST') url.searchParams.append('_method', method)
    url.searchParams.append('__clerk_db_jwt', dvb)
    const init: RequestInit = { method: method === 'GET' ? 'GET' : 'POST', headers: headers() }
    if (method !== 'GET') {
      init.headers = headers({ 'Content-Type': 'application/x-www-form-urlencoded' })
      init.body = new URLSearchParams(body ?? {}).toString()
    }
    const res = await doFetch(url, init)
    const text = await res.text()
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as unknown) : null,
      headers: res.headers,
    }
  }

  async function call<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    body?: Record<string, string>,
  ): Promise<T> {
    const res = await request(method, path, body)
    if (res.status < 200 || res.status > 299) throw toError(res.status, res.body)
    const envelope = res.body as Partial<Envelope<unknown>> | null
    if (envelope && typeof envelope === 'object' && 'client' in envelope)
      remember(envelope.client ?? null)
    return res.body as T
  }

  function remember(client: ClientJson | null): void {
    if (!client) return
    sessions.clear()
    for (const s of client.sessions) sessions.set(s.id, s)
    lastActiveSessionId = client.last_active_session_id
  }

  async function setActive(
    sessionId: string,
    activeOrganizationId: string | null,
  ): Promise<FapiSession> {
    const { response: session } = await call<Envelope<SessionJson>>(
      'POST',
      `/v1/client/sessions/${encodeURIComponent(sessionId)}/touch`,
      {
        active_organization_id: activeOrganizationId ?? '',
        intent: 'select_session',
      },
    )
    sessions.set(session.id, session)
    lastActiveSessionId = session.id
    const token = session.last_active_token?.jwt ?? (await getToken(session.id))
    return {
      sessionId: session.id,
      userId: session.user?.id ?? '',
      activeOrganizationId: session.last_active_organization_id,
      actor: session.actor ?? null,
      token,
    }
  }

  async function finishSignIn(body: Record<string, string>): Promise<FapiSession> {
    const { response: signIn } = await call<
      Envelope<{ status: string; created_session_id: string | null }>
    >('POST', '/v1/client/sign_ins', {
      ...body,
      locale: 'en-US',
    })
    if (signIn.status !== 'complete' || !signIn.created_session_id)
      throw new Error(`sign-in not complete: ${signIn.status}`)
    const created = sessions.get(signIn.created_session_id)
    return setActive(signIn.created_session_id, created?.last_active_organization_id ?? null)
  }

  async function getToken(sessionId?: string): Promise<string> {
    const sid = sessionId ?? lastActiveSessionId
    if (!sid) throw new Error('no active session: sign in first')
    const session = sessions.get(sid)
    const res = await call<{ object: 'token'; jwt: string }>(
      'POST',
      `/v1/client/sessions/${encodeURIComponent(sid)}/tokens`,
      {
        organization_id: session?.last_active_organization_id ?? '',
      },
    )
    return res.jwt
  }

  return {
    frontendApiUrl: base,
    get devBrowserId() {
      return devBrowserId
    },
    signInWithPassword: (identifier, password) =>
      finishSignIn({ strategy: 'password', identifier, password }),
    signInWithTicket: (ticket) => finishSignIn({ strategy: 'ticket', ticket }),
    getToken,
    touch: (sessionId, touchOptions = {}) =>
      setActive(
        sessionId,
        touchOptions.activeOrganizationId === undefined
          ? (sessions.get(sessionId)?.last_active_organization_id ?? null)
          : touchOptions.activeOrganizationId,
      ),
    async reverifyWithPassword(password, reverifyOptions = {}) {
      const sid = reverifyOptions.sessionId ?? lastActiveSessionId
      if (!sid) throw new Error('no active session: sign in first')
      const base = `/v1/client/sessions/${encodeURIComponent(sid)}/verify`
      await call('POST', base, { level: reverifyOptions.level ?? 'first_factor' })
      const { response } = await call<Envelope<{ status: string }>>(
        'POST',
        `${base}/attempt_first_factor`,
        { strategy: 'password', password },
      )
      if (response.status !== 'complete')
        throw new Error(`reverification not complete: ${response.status}`)
      return getToken(sid)
    },
    async signOut() {
      await call('DELETE', '/v1/client/sessions')
      sessions.clear()
      lastActiveSessionId = null
    },
    request,
  }
}

function toError(status: number, body: unknown): FapiError {
  const raw =
    (
      body as {
        errors?: Array<{
          code?: string
          message?: string
          long_message?: string
          meta?: Record<string, unknown>
        }>
      } | null
    )?.errors ?? []
  return new FapiError(
    status,
    raw.map((e) => ({
      code: e.code ?? 'unknown',
      message: e.message ?? '',
      ...(e.long_message ? { longMessage: e.long_message } : {}),
      ...(e.meta ? { meta: e.meta } : {}),
    })),
  )
}
