// The whole stack for integration tests: the local Clerk-compatible server (in-process, real
// HTTP), the API built by buildApp with real @clerk/fastify + @clerk/backend, and PGlite in
// memory (or the Postgres server of DATABASE_URL, and the Redis of REDIS_URL, when set). Session tokens come from real password/ticket sign-ins over the local FAPI.
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { createFapiClient, newId, startClerkLocal, SUPPORT_ORG_SLUG } from '@actas/clerk-local'
import type {
  ClerkLocal,
  ClerkLocalOptions,
  FapiClient,
  LocalUser,
  Organization,
  SeededAccount,
  SeededMachine,
} from '@actas/clerk-local'
import { createActAsClient, getActAsError } from '@actas/contracts/client'
import type { ActAsClient } from '@actas/contracts/client'
import type { FastifyInstance } from 'fastify'
import {
  buildApp,
  createDeps,
  createLogger,
  localClerkEnvironment,
  loadConfig,
  openDatabase,
} from '../../src/index.js'
import type { AppDeps, OpenedDatabase } from '../../src/index.js'
import { pgliteTemplate } from './pglite-template.js'

export { freePort } from './servers.js'

/** Seeded customers anyone may impersonate: not staff, banned, locked, nor in any organization. */
export function customersAnyoneMayImpersonate(clerk: Pick<ClerkLocal, 'accounts' | 'state'>) {
  const staff = new Set(clerk.accounts.map((a) => a.userId))
  return [...clerk.state.users.values()].filter(
    (u) =>
      !staff.has(u.id) &&
      !u.banned &&
      !u.locked &&
      clerk.state.membershipsOfUser(u.id).length === 0,
  )
}

/**
 * A new organization on the local server, `roles` the permissions its admin and member roles
 * carry (none by default; `[IMPERSONATE_PERMISSION]` for admin is what adding the permission to
 * Clerk's instance-wide `org:admin` role does to every organization).
 */
export function addOrganization(
  clerk: Pick<ClerkLocal, 'state'>,
  slug: string,
  name: string,
  roles: { admin: string[]; member: string[] } = { admin: [], member: [] },
): Organization {
  const now = clerk.state.now()
  return clerk.state.addOrganization({
    id: newId('org'),
    name,
    slug,
    roles,
    createdAt: now,
    updatedAt: now,
  })
}

/** `userId` becomes a member of `org` on the local server, with `role`. */
export function join(
  clerk: Pick<ClerkLocal, 'state'>,
  org: Pick<Organization, 'id'>,
  userId: string,
  role: 'admin' | 'member',
): void {
  const now = clerk.state.now()
  clerk.state.addMembership({
    id: newId('orgmem'),
    organizationId: org.id,
    userId,
    role,
    createdAt: now,
    updatedAt: now,
  })
}

/** The console's origin: the `azp` of every token, and the API's authorized party. */
export const ORIGIN = 'http://localhost:5173'

export interface SignedIn {
  fapi: FapiClient
  userId: string
  sessionId: string
  /** A fresh session token (they live 60 s). */
  token(): Promise<string>
}

/**
 * A password sign-in over `clerk`'s Frontend API, as the console makes one: a seeded account (by
 * role) or any user given a password, with `organizationId` active (default: the support
 * organization; null: none). For the tests that run the API elsewhere (its own process).
 */
export async function signInOn(
  clerk: Pick<ClerkLocal, 'frontendApiUrl' | 'accounts' | 'state'>,
  who: SeededAccount['role'] | { identifier: string; password: string },
  options: { origin?: string; organizationId?: string | null } = {},
): Promise<SignedIn> {
  const fapi = createFapiClient({
    frontendApiUrl: clerk.frontendApiUrl,
    origin: options.origin ?? ORIGIN,
  })
  const account = typeof who === 'string' ? clerk.accounts.find((a) => a.role === who) : who
  if (!account) throw new Error(`no seeded ${typeof who === 'string' ? who : 'such'} account`)
  const support = [...clerk.state.organizations.values()].find((o) => o.slug === SUPPORT_ORG_SLUG)
  if (!support) throw new Error('the local server seeded no support organization')
  const signedIn = await fapi.signInWithPassword(account.identifier, account.password)
  const organizationId = options.organizationId === undefined ? support.id : options.organizationId
  const active = await fapi.touch(signedIn.sessionId, { activeOrganizationId: organizationId })
  return {
    fapi,
    userId: active.userId,
    sessionId: active.sessionId,
    token: () => fapi.getToken(active.sessionId),
  }
}

export interface StackOptions {
  /** Extra environment; a function receives the started local server (its keys, machines). */
  env?: Record<string, string> | ((clerk: ClerkLocal) => Record<string, string>)
  clerk?: ClerkLocalOptions
  database?: OpenedDatabase
  /** The API's clock (rate limits, audit times, flood-control minutes); default the real one. */
  now?: () => Date
}

export interface Stack {
  clerk: ClerkLocal
  deps: AppDeps
  app: FastifyInstance
  /** Every log line the API wrote, raw. */
  logs: string[]
  supportOrgId: string
  account(role: SeededAccount['role']): SeededAccount
  /** Seeded customers anyone may impersonate: not staff, banned, locked, nor in any organization. */
  customers(): LocalUser[]
  /** A password sign-in of a seeded account, or of any user given a password; the support organization active by default. */
  signIn(
    who: SeededAccount['role'] | { identifier: string; password: string },
    options?: { origin?: string; organizationId?: string | null },
  ): Promise<SignedIn>
  signInWithTicket(ticket: string, options?: { origin?: string }): Promise<SignedIn>
  client(getToken: () => Promise<string | null> | string | null): ActAsClient
  /**
   * `fetch` answered by the API in this process (Fastify's inject: the whole app, its hooks and
   * the tRPC wire format, no socket). Any origin; only the path and query are read.
   */
  fetch: typeof fetch
  /**
   * Serves the API on a free loopback port (the first call starts listening) and returns its
   * tRPC endpoint, for clients that need real HTTP (a browser's fetch, timeouts, aborts).
   */
  listen(): Promise<string>
  /** A seeded machine of the local server (`helpdesk`, `audit-export`, `no-scope`, `actas-api`). */
  machine(name: string): SeededMachine
  /** An M2M token (`mt_…`) for a seeded machine, created with its secret key over BAPI. */
  m2mToken(
    name: string,
    options?: { secondsUntilExpiration?: number },
  ): Promise<{ id: string; token: string }>
  close(): Promise<void>
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  process.env['CLERK_TELEMETRY_DISABLED'] = '1'
  const clerk = await startClerkLocal({ port: 0, users: 200, seed: 1, ...options.clerk })
  const logs: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'))
      done()
    },
  })
  // With DATABASE_URL set, the audit log lives on that Postgres server, in a schema of its own
  // per stack (dropped on close), so test files running in parallel never see each other's rows.
  const postgres = process.env['DATABASE_URL']
  const redis = process.env['REDIS_URL']
  const schema = postgres ? `actas_test_${randomBytes(6).toString('hex')}` : undefined
  const config = loadConfig({
    ...localClerkEnvironment(clerk, ORIGIN),
    LOG_LEVEL: 'info',
    CLERK_MACHINE_ID: clerk.machines.find((m) => m.name === 'actas-api')?.id ?? '',
    // The reconciler runs when a test asks (deps.reconciler.run()), not on a timer.
    RECONCILER_INTERVAL_SECONDS: '0',
    ...(postgres && schema ? { DATABASE_URL: postgres, DATABASE_SCHEMA: schema } : {}),
    // With REDIS_URL set, rate limits live in that Redis under a prefix of this stack's own.
    ...(redis
      ? { REDIS_URL: redis, REDIS_KEY_PREFIX: `actas_test_${randomBytes(6).toString('hex')}` }
      : {}),
    ...(typeof options.env === 'function' ? options.env(clerk) : options.env),
  })
  // On PGlite in memory, a database loaded from the migrated template (see pglite-template.ts),
  // closed with the stack; a database the caller gave stays the caller's.
  const inMemory = config.database.kind === 'pglite' && config.database.dataDir === undefined
  const ownDatabase = options.database || !inMemory ? undefined : await openTestDatabase()
  const database = options.database ?? ownDatabase
  const deps = await createDeps(config, {
    logger: createLogger('info', sink),
    ...(database ? { database } : {}),
    ...(options.now ? { now: options.now } : {}),
  })
  const app = await buildApp(deps)
  await app.ready()

  const support = [...clerk.state.organizations.values()].find((o) => o.slug === SUPPORT_ORG_SLUG)
  if (!support) throw new Error('the local server seeded no support organization')

  const account = (role: SeededAccount['role']) => {
    const found = clerk.accounts.find((a) => a.role === role)
    if (!found) throw new Error(`no seeded ${role} account`)
    return found
  }

  const machine = (name: string) => {
    const found = clerk.machines.find((m) => m.name === name)
    if (!found) throw new Error(`no seeded machine ${name}`)
    return found
  }

  const session = (fapi: FapiClient, sessionId: string, userId: string): SignedIn => ({
    fapi,
    userId,
    sessionId,
    token: () => fapi.getToken(sessionId),
  })

  const injectFetch = (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    appFetch(app, input, init)

  let listening: Promise<string> | null = null

  return {
    clerk,
    deps,
    app,
    logs,
    supportOrgId: support.id,
    account,
    customers: () => customersAnyoneMayImpersonate(clerk),
    signIn: (who, opts) => signInOn(clerk, who, opts),
    async signInWithTicket(ticket, opts = {}) {
      const fapi = createFapiClient({
        frontendApiUrl: clerk.frontendApiUrl,
        origin: opts.origin ?? ORIGIN,
      })
      const signedIn = await fapi.signInWithTicket(ticket)
      return session(fapi, signedIn.sessionId, signedIn.userId)
    },
    client: (getToken) =>
      createActAsClient({ url: 'http://api.test/trpc', getToken, fetch: injectFetch }),
    fetch: injectFetch,
    listen: () =>
      (listening ??= app
        .listen({ host: '127.0.0.1', port: 0 })
        .then((address) => `${address}/trpc`)),
    machine,
    async m2mToken(name, opts = {}) {
      const res = await fetch(`${clerk.url}/m2m_tokens`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${machine(name).secretKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ seconds_until_expiration: opts.secondsUntilExpiration ?? 300 }),
      })
      if (res.status !== 201) throw new Error(`POST /m2m_tokens answered ${res.status}`)
      const body = (await res.json()) as { id: string; token: string }
      return { id: body.id, token: body.token }
    },
    async close() {
      // Every test file leaves a chain that verifies (tamper tests use databases of their own).
      const report = await deps.audit.verify({ full: true }).catch((error: unknown) => ({
        ok: false,
        firstBroken: { seq: -1, reason: `verification failed: ${String(error)}` },
      }))
      await app.close()
      await deps.close()
      await ownDatabase?.close()
      await clerk.stop()
      if (postgres && schema) await dropSchema(postgres, schema)
      if (!report.ok)
        throw new Error(`the audit chain does not verify: ${JSON.stringify(report.firstBroken)}`)
    },
  }
}

/**
 * `fetch` answered by `app` in this process through Fastify's inject (no socket): the method,
 * path, query, headers and body of the request; an aborted `signal` rejects the call as a
 * browser's fetch does (the API may still finish the request, as it would over HTTP).
 */
export async function appFetch(
  app: FastifyInstance,
  input: Parameters<typeof fetch>[0],
  init: RequestInit = {},
): Promise<Response> {
  const request = typeof input === 'object' && !('href' in input) ? input : undefined
  const url = new URL(typeof input === 'string' ? input : 'href' in input ? input.href : input.url)
  const signal = init.signal ?? request?.signal
  const method = (init.method ?? request?.method ?? 'GET').toUpperCase()
  const headers = Object.fromEntries(new Headers(init.headers ?? request?.headers).entries())
  const body =
    typeof init.body === 'string'
      ? init.body
      : init.body !== undefined && init.body !== null
        ? await new Response(init.body).text()
        : request && method !== 'GET' && method !== 'HEAD'
          ? await request.text()
          : undefined
  signal?.throwIfAborted()
  const answer = app.inject({
    method: method as 'GET',
    url: url.pathname + url.search,
    headers,
    ...(body !== undefined ? { payload: body } : {}),
  })
  const res = await (signal
    ? Promise.race([
        answer,
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
        }),
      ])
    : answer)
  const out = new Headers()
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, String(v))
  }
  const empty = res.statusCode === 204 || res.statusCode === 304 || method === 'HEAD'
  return new Response(empty ? null : res.body, { status: res.statusCode, headers: out })
}

/**
 * An audit database of its own: the Postgres server at DATABASE_URL (a fresh schema, dropped on
 * close) or PGlite in memory (loaded from the migrated template under vitest). Migrated.
 */
export async function openTestDatabase(): Promise<OpenedDatabase> {
  const postgres = process.env['DATABASE_URL']
  if (!postgres) {
    const template = await pgliteTemplate()
    return openDatabase({
      kind: 'pglite',
      dataDir: undefined,
      ...(template ? { loadDataDir: template } : {}),
    })
  }
  const schema = `actas_test_${randomBytes(6).toString('hex')}`
  const opened = await openDatabase({ kind: 'postgres', url: postgres, schema })
  return {
    ...opened,
    close: async () => {
      await opened.close()
      await dropSchema(postgres, schema)
    },
  }
}

export interface TrpcResponse {
  status: number
  body: unknown
  headers: Record<string, string | string[] | number | undefined>
  raw: string
}

/** One raw tRPC call through app.inject (no client), for status-code assertions. */
export async function callRaw(
  app: FastifyInstance,
  path: string,
  options: {
    type: 'query' | 'mutation'
    input?: unknown
    token?: string | null
    headers?: Record<string, string>
  },
): Promise<TrpcResponse> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token) headers['authorization'] = `Bearer ${options.token}`
  const res =
    options.type === 'query'
      ? await app.inject({
          method: 'GET',
          url: `/trpc/${path}${options.input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(options.input))}`}`,
          headers,
        })
      : await app.inject({
          method: 'POST',
          url: `/trpc/${path}`,
          headers: { ...headers, 'content-type': 'application/json' },
          payload: options.input === undefined ? '' : JSON.stringify(options.input),
        })
  let body: unknown = null
  try {
    body = JSON.parse(res.body)
  } catch {
    body = res.body
  }
  return { status: res.statusCode, body, headers: res.headers, raw: res.body }
}

/** `error.data.actasCode` of a tRPC error response. */
export function actasCode(res: TrpcResponse): string | undefined {
  const body = res.body as { error?: { data?: { actasCode?: string } } } | null
  return body?.error?.data?.actasCode
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`drop schema if exists "${schema}" cascade`)
  } finally {
    await client.end()
  }
}

export interface AdminStack {
  stack: Stack
  /** The seeded admin, signed in with the support organization active. */
  admin: SignedIn
  /** The typed client as the admin. */
  api: ActAsClient
  /** A seeded customer anyone may impersonate that this stack has not handed out yet. */
  nextCustomer: () => LocalUser
  /**
   * The admin impersonates a fresh customer: the start, the ticket's sign-in, and (unless
   * `report: false`) the `impersonation.signedIn` report made from the impersonated session.
   */
  impersonate: (options?: ImpersonateOptions) => Promise<Impersonated>
}

export interface ImpersonateOptions {
  reason?: string
  returnSecretHash?: string
  /** Report the sign-in (`impersonation.signedIn`); default true. */
  report?: boolean
}

export interface Impersonated {
  user: LocalUser
  started: { impersonationId: string; ticket: string }
  /** The impersonation's id. */
  id: string
  /** The impersonated session (signed in with the ticket). */
  session: SignedIn
  /** The typed client as the impersonated session. */
  client: ActAsClient
}

export interface AdminStackOptions extends StackOptions {
  /**
   * `raised` (default): impersonation starts not rate-limited (1000 a minute) unless `env`
   * says otherwise; `default`: the API's own limits, for the tests of those limits.
   */
  limits?: 'raised' | 'default'
}

/**
 * The usual preamble of an API test file: the stack, the admin signed in and its client, fresh
 * customers, and impersonations of them.
 */
export async function startAdminStack(options: AdminStackOptions = {}): Promise<AdminStack> {
  const { limits = 'raised', ...stackOptions } = options
  const stack = await startStack({
    ...stackOptions,
    env: (clerk) => ({
      ...(limits === 'raised' ? { RATE_LIMIT_START_PER_MINUTE: '1000' } : {}),
      ...(typeof options.env === 'function' ? options.env(clerk) : options.env),
    }),
  })
  const admin = await stack.signIn('admin')
  const api = stack.client(() => admin.token())
  let cursor = 0
  const nextCustomer = () => {
    const user = stack.customers()[cursor++]
    if (!user) throw new Error('out of customers')
    return user
  }
  return {
    stack,
    admin,
    api,
    nextCustomer,
    async impersonate(opts = {}) {
      const user = nextCustomer()
      const started = await api.impersonation.start.mutate({
        userId: user.id,
        reason: opts.reason ?? 'Customer reports a broken invoice page',
        ...(opts.returnSecretHash ? { returnSecretHash: opts.returnSecretHash } : {}),
      })
      const session = await stack.signInWithTicket(started.ticket)
      const client = stack.client(() => session.token())
      if (opts.report !== false)
        await client.impersonation.signedIn.mutate({ sessionToken: await session.token() })
      return { user, started, id: started.impersonationId, session, client }
    },
  }
}

/**
 * Runs `run` while the seeded `who` holds `role` in the support organization (in the local
 * Clerk server's state, as if changed in Clerk's dashboard), then gives the old role back.
 */
export async function withSupportRole<T>(
  stack: Stack,
  who: SeededAccount['role'],
  role: string,
  run: () => Promise<T>,
): Promise<T> {
  const membership = stack.clerk.state
    .membershipsOfUser(stack.account(who).userId)
    .find((m) => m.organizationId === stack.supportOrgId)
  if (!membership) throw new Error(`the seeded ${who} is not in the support organization`)
  const before = membership.role
  membership.role = role
  try {
    return await run()
  } finally {
    membership.role = before
  }
}

/**
 * One call to Clerk's Backend API on the stack's local server with its secret key (as an
 * operator's script would make it); throws unless it answers 200. The JSON answer.
 */
export async function clerkBapi<T = unknown>(
  stack: Stack,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${stack.clerk.url}/v1/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.clerk.secretKey}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (res.status !== 200)
    throw new Error(`${method} /v1/${path} answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as T
}

/** The ActAs error a call failed with; throws when it did not fail. */
export async function failure(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    return getActAsError(error)
  }
  throw new Error('expected the call to fail')
}
