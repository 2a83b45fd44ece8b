// The authorization matrix: every procedure × every kind of caller, each cell asserted
// through app.inject with tokens from real sign-ins on the local Clerk-compatible server.
import {
  defaultMachinePermissions,
  MACHINE_EXPLICIT_READ_PROCEDURES,
  MACHINE_ON_BEHALF_PROCEDURES,
  MACHINE_READ_PROCEDURES,
  MACHINE_WRITE_PROCEDURES,
} from '@actas/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actasCode, callRaw, startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let clockOffsetMs = 0
const tokens: Record<string, () => Promise<string | null>> = {}
let admin: SignedIn
let adminSessionToken = ''
let impersonatedToken: () => Promise<string> = () => Promise.reject(new Error('not signed in'))

const customers = () => stack.customers()
let nextCustomer = 0
const customer = () => customers()[nextCustomer++]!.id

async function startImpersonation(): Promise<{ impersonationId: string; ticket: string }> {
  const res = await callRaw(stack.app, 'impersonation.start', {
    type: 'mutation',
    token: await admin.token(),
    input: { userId: customer(), reason: 'Matrix set-up: a fresh ticket' },
  })
  expect(res.status).toBe(200)
  return (res.body as { result: { data: { impersonationId: string; ticket: string } } }).result.data
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

beforeAll(async () => {
  stack = await startStack({
    clerk: { now: () => Date.now() + clockOffsetMs },
    env: (clerk) => ({
      // The default map, and impersonation.start/.end granted to audit-export by its id (on
      // behalf of a named staff member). Step-up stays on (the default): a machine cannot pass it.
      MACHINE_PERMISSIONS: JSON.stringify({
        ...defaultMachinePermissions(clerk.machines.find((m) => m.name === 'actas-api')!.id),
        [clerk.machines.find((m) => m.name === 'audit-export')!.id]: [
          ...MACHINE_ON_BEHALF_PROCEDURES,
        ],
      }),
      RATE_LIMIT_START_PER_MINUTE: '1000',
      RATE_LIMIT_SEARCH_PER_MINUTE: '1000',
      // Every cell with a bad token counts against the per-IP limit of unverified credentials.
      RATE_LIMIT_UNVERIFIED_PER_IP_PER_MINUTE: '1000',
    }),
  })
  admin = await stack.signIn('admin')
  const agent = await stack.signIn('agent')

  // A token minted ten minutes ago (the local server's clock moved back), long expired now.
  clockOffsetMs = -10 * 60_000
  const old = await stack.signIn('admin')
  const expired = await old.token()
  clockOffsetMs = 0

  const foreign = await stack.signIn('admin', { origin: 'https://evil.example.com' })
  const valid = await admin.token()
  const [, payload] = valid.split('.')
  const algNone = `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`

  const { ticket } = await startImpersonation()
  const impersonated = await stack.signInWithTicket(ticket)
  impersonatedToken = () => impersonated.token()

  // Machines (Clerk M2M tokens): helpdesk's scopes include ActAs's machine, no-scope's do not.
  const scoped = await stack.m2mToken('helpdesk')
  const unscoped = await stack.m2mToken('no-scope')
  const revoked = await stack.m2mToken('helpdesk')
  const revoke = await fetch(`${stack.clerk.url}/m2m_tokens/${revoked.id}/revoke`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.clerk.secretKey}`,
      'content-type': 'application/json',
    },
    body: '{}',
  })
  expect(revoke.status).toBe(200)
  // Created ten minutes ago for one minute (the local server's clock moved back).
  clockOffsetMs = -10 * 60_000
  const expiredM2m = await stack.m2mToken('helpdesk', { secondsUntilExpiration: 60 })
  clockOffsetMs = 0
  adminSessionToken = await admin.token()

  tokens['no token'] = () => Promise.resolve(null)
  tokens['expired'] = () => Promise.resolve(expired)
  tokens['wrong azp'] = () => foreign.token()
  tokens['alg none'] = () => Promise.resolve(algNone)
  tokens['agent without the permission'] = () => agent.token()
  tokens['admin'] = () => admin.token()
  tokens["admin's impersonated session"] = () => impersonated.token()
  tokens['machine with scope'] = () => Promise.resolve(scoped.token)
  tokens['machine without scope'] = () => Promise.resolve(unscoped.token)
  const onBehalf = await stack.m2mToken('audit-export')
  tokens['machine granted start and end'] = () => Promise.resolve(onBehalf.token)
  tokens['revoked M2M token'] = () => Promise.resolve(revoked.token)
  tokens['expired M2M token'] = () => Promise.resolve(expiredM2m.token)
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

type Caller =
  | 'no token'
  | 'expired'
  | 'wrong azp'
  | 'alg none'
  | 'agent without the permission'
  | 'admin'
  | "admin's impersonated session"
  | 'machine with scope'
  | 'machine without scope'
  | 'machine granted start and end'
  | 'revoked M2M token'
  | 'expired M2M token'

interface ProcedureCase {
  path: string
  type: 'query' | 'mutation'
  /** The input `caller` sends (a machine granted start and end names the admin: onBehalfOf). */
  input: (caller?: Caller) => Promise<unknown>
}

/** A machine granted start and end acts on behalf of the admin; anyone else in their own name. */
const onBehalfOfAdmin = (caller?: Caller) =>
  caller === 'machine granted start and end' ? { onBehalfOf: admin.userId } : {}

const NO_SUCH_ACCESS = '00000000-0000-4000-8000-000000000000'
/** The customer's side: for signed-in customers only (the admin is staff: refused). */
const CUSTOMER_ONLY = (path: string) => path.startsWith('customer.')

const procedures: ProcedureCase[] = [
  { path: 'me', type: 'query', input: () => Promise.resolve(undefined) },
  { path: 'quota', type: 'query', input: () => Promise.resolve(undefined) },
  { path: 'users.search', type: 'query', input: () => Promise.resolve({ query: '' }) },
  { path: 'impersonation.list', type: 'query', input: () => Promise.resolve({ limit: 5 }) },
  {
    path: 'sessions.inspect',
    type: 'mutation',
    input: () => Promise.resolve({ token: adminSessionToken }),
  },
  {
    path: 'impersonation.start',
    type: 'mutation',
    input: (caller) =>
      Promise.resolve({
        userId: customer(),
        reason: 'Matrix cell: may this caller start?',
        ...onBehalfOfAdmin(caller),
      }),
  },
  {
    path: 'impersonation.revoke',
    type: 'mutation',
    input: async () => ({ impersonationId: (await startImpersonation()).impersonationId }),
  },
  {
    path: 'impersonation.get',
    type: 'query',
    input: async () => ({ impersonationId: (await startImpersonation()).impersonationId }),
  },
  { path: 'audit.verify', type: 'query', input: () => Promise.resolve(undefined) },
  { path: 'audit.export', type: 'query', input: () => Promise.resolve({ limit: 1 }) },
  { path: 'logStreams.status', type: 'query', input: () => Promise.resolve(undefined) },
  { path: 'alerts.recent', type: 'query', input: () => Promise.resolve(undefined) },
  { path: 'sessions.revoked', type: 'query', input: () => Promise.resolve({}) },
  {
    // A machine write: only for machines MACHINE_PERMISSIONS grants it to (none here).
    path: 'impersonation.actions',
    type: 'mutation',
    input: () =>
      Promise.resolve({
        sessionId: 'sess_matrix0000',
        actions: [{ method: 'GET', route: '/orders', status: 200, at: new Date().toISOString() }],
      }),
  },
  { path: 'impersonation.active', type: 'query', input: () => Promise.resolve(undefined) },
  {
    path: 'impersonation.end',
    type: 'mutation',
    input: async (caller) => ({
      impersonationId: (await startImpersonation()).impersonationId,
      reason: 'Matrix: may this caller end it?',
      ...onBehalfOfAdmin(caller),
    }),
  },
  {
    path: 'impersonation.signInFailed',
    type: 'mutation',
    input: async () => ({
      impersonationId: (await startImpersonation()).impersonationId,
      code: 'ticket_expired',
    }),
  },
  {
    path: 'impersonation.signedIn',
    type: 'mutation',
    input: async () => ({ sessionToken: await impersonatedToken() }),
  },
  { path: 'webhooks.deliveries', type: 'query', input: () => Promise.resolve({ limit: 5 }) },
  {
    path: 'webhooks.retry',
    type: 'mutation',
    // No such delivery: the cell shows whether the caller got past authorization.
    input: () => Promise.resolve({ deliveryId: '00000000-0000-4000-8000-000000000000' }),
  },
  // Access requests (staff) and the customer's side (signed-in customers only, never staff).
  {
    path: 'access.request',
    type: 'mutation',
    input: () =>
      Promise.resolve({ userId: customer(), reason: 'Matrix cell: may this caller ask?' }),
  },
  { path: 'access.list', type: 'query', input: () => Promise.resolve({}) },
  {
    path: 'access.decide',
    type: 'mutation',
    input: () => Promise.resolve({ accessId: NO_SUCH_ACCESS, decision: 'approve' }),
  },
  { path: 'customer.requests', type: 'query', input: () => Promise.resolve(undefined) },
  {
    path: 'customer.decide',
    type: 'mutation',
    input: () => Promise.resolve({ accessId: NO_SUCH_ACCESS, decision: 'approve' }),
  },
  { path: 'customer.grant', type: 'mutation', input: () => Promise.resolve({}) },
  {
    path: 'customer.revoke',
    type: 'mutation',
    input: () => Promise.resolve({ accessId: NO_SUCH_ACCESS }),
  },
  { path: 'customer.history', type: 'query', input: () => Promise.resolve({}) },
  {
    path: 'customer.orgSetting.get',
    type: 'query',
    input: () => Promise.resolve({ organizationId: 'org_matrix0' }),
  },
  {
    path: 'customer.orgSetting.set',
    type: 'mutation',
    input: () => Promise.resolve({ organizationId: 'org_matrix0', setting: 'off' }),
  },
  {
    path: 'customer.orgHistory',
    type: 'query',
    input: () => Promise.resolve({ organizationId: 'org_matrix0' }),
  },
  // Last: Stop by the impersonated session ends it (its later cells would all be 401).
  { path: 'impersonation.stop', type: 'mutation', input: () => Promise.resolve({}) },
]

/** Procedures only an impersonated session itself may call. */
const IMPERSONATED_ONLY = new Set(['impersonation.stop', 'impersonation.signedIn'])

const UNAUTHENTICATED = { status: 401, code: 'UNAUTHENTICATED' }
const FORBIDDEN = { status: 403, code: 'FORBIDDEN' }
const OK = { status: 200, code: undefined }
/** What the default machine map grants: the reads but those needing an explicit grant. */
const MACHINE_READS = new Set<string>(
  MACHINE_READ_PROCEDURES.filter((p) => !MACHINE_EXPLICIT_READ_PROCEDURES.includes(p)),
)
const MACHINE_WRITES = new Set<string>(MACHINE_WRITE_PROCEDURES)

/** The expected answer of each cell. */
const expected: Record<Caller, (path: string) => { status: number; code: string | undefined }> = {
  'no token': () => UNAUTHENTICATED,
  expired: () => UNAUTHENTICATED,
  'wrong azp': () => UNAUTHENTICATED,
  'alg none': () => UNAUTHENTICATED,
  'agent without the permission': (path) => (path === 'me' ? OK : FORBIDDEN),
  admin: (path) =>
    IMPERSONATED_ONLY.has(path) || MACHINE_WRITES.has(path) || CUSTOMER_ONLY(path)
      ? FORBIDDEN
      : // Past authorization; this stack sends no webhooks, so there is nothing to retry; no
        // rule asks for consent or approval, so there is nothing to request or decide.
        path === 'webhooks.retry' || path === 'access.request'
        ? { status: 400, code: 'INVALID_INPUT' }
        : path === 'access.decide'
          ? { status: 404, code: 'ACCESS_NOT_FOUND' }
          : OK,
  "admin's impersonated session": (path) =>
    path === 'me' || IMPERSONATED_ONLY.has(path) ? OK : FORBIDDEN,
  // Machines read (search, the audit log, session inspection); starting, revoking, `me` and
  // `quota` stay for people.
  'machine with scope': (path) => (MACHINE_READS.has(path) ? OK : FORBIDDEN),
  'machine without scope': () => FORBIDDEN,
  // Granted start and end explicitly (and scoped to ActAs: the default reads), on behalf of the
  // admin: the start is judged as the admin's (no step-up: a machine has no session to prove a
  // person at; the grant is what lets it act); the end only of what it started itself (not the
  // admin's).
  'machine granted start and end': (path) =>
    MACHINE_READS.has(path) || path === 'impersonation.start' ? OK : FORBIDDEN,
  'revoked M2M token': () => UNAUTHENTICATED,
  'expired M2M token': () => UNAUTHENTICATED,
}

const callers = Object.keys(expected) as Caller[]
const cells = procedures.flatMap((p) => callers.map((caller) => [p.path, caller, p] as const))

describe('authorization matrix', () => {
  it('covers every procedure of the router', async () => {
    const { createAppRouter } = await import('@actas/contracts/server')
    const paths = Object.keys(createAppRouter({ isDev: false })._def.procedures).sort()
    expect(procedures.map((p) => p.path).sort()).toEqual(paths)
  })

  it.each(cells)('%s × %s', async (path, caller, procedure) => {
    const want = expected[caller](path)
    const tokensBefore = stack.clerk.state.actorTokens.size
    const input =
      want.status === 200
        ? await procedure.input(caller)
        : await procedure.input(caller).catch(() => undefined)
    const token = await tokens[caller]!()
    const before = stack.clerk.state.actorTokens.size
    const res = await callRaw(stack.app, path, { type: procedure.type, input, token })
    expect({ status: res.status, code: actasCode(res) }).toEqual(want)
    if (want.status !== 200) {
      // Refused before any side effect: no actor token asked for.
      expect(stack.clerk.state.actorTokens.size).toBe(before)
    }
    expect(tokensBefore).toBeLessThanOrEqual(before)
  })
})

describe('session verdict cache (plugins/auth.ts)', () => {
  it('answers a cached token like Clerk, and never lets a look-alike through', async () => {
    // The cache's own counters say which path each request took (a verification or a kept
    // verdict), so nothing here depends on how fast the requests follow each other.
    // A session of its own: its tokens were never sent before (a token minted in the same second
    // as an earlier one of the same session is the same string, possibly already kept).
    const cache = stack.deps.sessionVerifier.tokens
    const seen = () => ({ verified: cache.misses, kept: cache.hits })
    const token = await (await stack.signIn('admin')).token()
    const me = (t: string, headers?: Record<string, string>) =>
      callRaw(stack.app, 'me', { type: 'query', token: t, ...(headers ? { headers } : {}) })
    const before = seen()
    const first = await me(token)
    expect(first.status).toBe(200)
    expect(seen()).toEqual({ verified: before.verified + 1, kept: before.kept })
    const second = await me(token)
    expect(second.body).toEqual(first.body)
    expect(seen()).toEqual({ verified: before.verified + 1, kept: before.kept + 1 })
    // Same header and payload, another signature: Clerk verifies it (a different key) and refuses,
    // every time (a refusal is never kept, the look-alike never answered from the kept verdict).
    const [header, payload, signature] = token.split('.')
    const flipped = signature!.startsWith('A')
      ? `B${signature!.slice(1)}`
      : `A${signature!.slice(1)}`
    for (let i = 0; i < 2; i++) {
      const forged = await me(`${header}.${payload}.${flipped}`)
      expect({ status: forged.status, code: actasCode(forged) }).toEqual(UNAUTHENTICATED)
    }
    expect(seen()).toEqual({ verified: before.verified + 3, kept: before.kept + 1 })
    // A cached token is a header-only verdict: cookies make no difference to it.
    const withCookie = await me(token, { cookie: '__session=junk; __client_uat=0' })
    expect(withCookie.body).toEqual(first.body)
    expect(seen()).toEqual({ verified: before.verified + 3, kept: before.kept + 2 })
    // The wrong azp stays refused however often it is sent: verified each time, never kept.
    for (let i = 0; i < 2; i++) {
      const res = await me((await tokens['wrong azp']!())!)
      expect(res.status).toBe(401)
    }
    expect(seen()).toEqual({ verified: before.verified + 5, kept: before.kept + 2 })
  })
})
