import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createBapiRouter } from './bapi/index.js'
import { isControlRoute, isPublicControlRoute } from './bapi/control.js'
import { unauthenticated } from './bapi/errors.js'
import { isM2mRoute } from './bapi/m2m.js'
import { createFapiRouter } from './fapi/index.js'
import { FaultController, type FaultRule } from './faults.js'
import { createSigningKey, type JsonWebKey } from './jwt.js'
import { MachineRegistry, seedMachines, type SeededMachine } from './m2m.js'
import { RequestCounter } from './requests.js'
import type { SeededAccount } from './model.js'
import { originProblem } from './bapi/instance.js'
import { seedState } from './seed.js'
import { listen } from './server.js'
import { ClerkState } from './state.js'
import { WebhookSender, webhookUrlProblem, type WebhookRetryOptions } from './webhooks.js'

export type * from './model.js'
export {
  ACTOR_IDLE_MS,
  ClerkState,
  newId,
  passwordDigest,
  SESSION_LIFETIME_MS,
  verifyPassword,
  type ClerkStateSettings,
} from './state.js'
export { EVENT_TYPES, type EventType, type StateEvent } from './events.js'
export { createUser } from './search.js'
export {
  goJsonStringify,
  newWebhookSecret,
  WebhookSender,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookFault,
  type WebhookOptions,
  type WebhookPayload,
  type WebhookRetryOptions,
} from './webhooks.js'
export { RequestCounter, type RequestCounts } from './requests.js'
export { FaultController, faultRuleProblem, type FaultRule, type QuotaSettings } from './faults.js'
export {
  accountSummaries,
  seedState,
  SEEDED_PASSWORDS,
  type AccountSummary,
  IMPERSONATE_PERMISSION,
  SUPPORT_ORG_SLUG,
  type SeedOptions,
  type SeedResult,
} from './seed.js'
export { sessionJson, userJson, type UserJson } from './bapi/serialize.js'
export { originProblem } from './bapi/instance.js'
export { CLIENT_COOKIE, DEV_BROWSER_PARAM } from './fapi/index.js'
export { createSigningKey, signJwt, type JsonWebKey, type SigningKey } from './jwt.js'
export * from './testing.js'
export {
  ACTAS_MACHINE_NAME,
  MachineRegistry,
  machineId,
  SEEDED_MACHINES,
  type M2MToken,
  type Machine,
  type SeededMachine,
} from './m2m.js'
import { LOCAL_FRONTEND_API_HOST, LOCAL_SECRET_KEY_PREFIX } from '@actas/contracts/facts'

// The secret-key prefix (production refuses it) and the Frontend API host of local publishable
// keys (a `.clerk.accounts.dev` host: clerk-js dev-browser mode) are shared with the API and the
// console through @actas/contracts.
export { LOCAL_FRONTEND_API_HOST, LOCAL_SECRET_KEY_PREFIX }
export const LOCAL_PUBLISHABLE_KEY = `pk_test_${Buffer.from(`${LOCAL_FRONTEND_API_HOST}$`).toString('base64')}`
export const LOCAL_ISSUER = `https://${LOCAL_FRONTEND_API_HOST}`
/** `Machine.instance_id` of the local instance. */
export const LOCAL_INSTANCE_ID = 'ins_actaslocal0000000000000000000'

export interface ClerkLocalOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string
  /** Port (default 0: any free port). */
  port?: number
  /** Seeded customers (default 5,000). */
  users?: number
  /** Seed of the demo data (default 1): same seed, same users. */
  seed?: number
  /** Clock in epoch milliseconds (default Date.now); tests move it to expire tickets and sessions. */
  now?: () => number
  /** Mount point of the Frontend API (default '/fapi'). */
  fapiPath?: string
  /** Free-plan quota: 402 after 5 actor tokens per calendar month (default false). */
  quota?: boolean
  /** Faults injected from the start. */
  faults?: FaultRule[]
  /**
   * Inactivity after which an impersonation (actor) session is abandoned: Clerk's 10 minutes
   * (600) by default. Its hard cap is the actor token's `session_max_duration_in_seconds`.
   */
  actorSessionIdleSeconds?: number
  /** Webhook endpoints (loopback http(s) URLs) that receive Clerk's events, Svix-signed. */
  webhooks?: string[]
  /** The signing secret (`whsec_…`); generated when absent. */
  webhookSecret?: string
  /** Retry delays and attempt timeout of webhook deliveries. */
  webhookRetry?: WebhookRetryOptions
  /**
   * Browser origins (`http://127.0.0.1:5174`) that may call the Frontend API directly, cross-origin:
   * they get CORS with credentials, as a Clerk instance's `allowed_origins`. Apps that proxy
   * `/__clerk` to the FAPI (same origin) need none. See docs/cross-origin.md.
   */
  allowedOrigins?: string[]
}

export interface ClerkLocal {
  /** BAPI base (the SDK's `apiUrl`), e.g. http://127.0.0.1:PORT */
  url: string
  /** FAPI base = url + fapiPath */
  frontendApiUrl: string
  fapiPath: string
  publishableKey: string
  secretKey: string
  /** `iss` of session tokens. */
  issuer: string
  /** RSA-2048 SPKI PEM: the `jwtKey` / CLERK_JWT_KEY for offline verification. */
  jwtPublicKeyPem: string
  jwks: { keys: JsonWebKey[] }
  /** admin, agent, banned, locked: identifier, password and user id. */
  accounts: SeededAccount[]
  /** Seeded machines (M2M): `actas-api` (ActAs itself), `helpdesk` and `audit-export` (scoped to it), `no-scope`. */
  machines: SeededMachine[]
  /** Machines and their M2M tokens. */
  machineRegistry: MachineRegistry
  state: ClerkState
  faults: FaultController
  /** The secret webhook consumers verify with (`CLERK_WEBHOOK_SIGNING_SECRET`). */
  webhookSecret: string
  /** Webhook endpoints, delivery faults and the delivery log (src/webhooks.ts). */
  webhooks: WebhookSender
  /** Backend API requests per route since start (or `reset()`); not the control API. */
  requests: RequestCounter
  stop(): Promise<void>
}

/** `whsec_` + a base64 key of at least 16 bytes. */
export function isWebhookSecret(secret: string): boolean {
  const key = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : ''
  return /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length >= 16
}

function bearerMatches(header: string | string[] | undefined, secretKey: string): boolean {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false
  const given = Buffer.from(header.slice('Bearer '.length).trim())
  const expected = Buffer.from(secretKey)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Starts a seeded local Clerk-compatible server (BAPI at `/v1`, FAPI at `fapiPath`). */
export async function startClerkLocal(options: ClerkLocalOptions = {}): Promise<ClerkLocal> {
  const fapiPath = `/${(options.fapiPath ?? '/fapi').replace(/^\/+|\/+$/g, '')}`
  if (
    fapiPath === '/' ||
    fapiPath === '/v1' ||
    fapiPath.startsWith('/v1/') ||
    fapiPath.startsWith('/__local')
  ) {
    throw new Error(`fapiPath ${JSON.stringify(options.fapiPath)} would hide the Backend API`)
  }
  const idle = options.actorSessionIdleSeconds
  if (idle !== undefined && !(Number.isInteger(idle) && idle >= 1))
    throw new Error('actorSessionIdleSeconds must be a positive integer')
  for (const url of options.webhooks ?? []) {
    const problem = webhookUrlProblem(url)
    if (problem) throw new Error(problem)
  }
  const allowedOrigins = new Set<string>()
  for (const origin of options.allowedOrigins ?? []) {
    const problem = originProblem(origin)
    if (problem) throw new Error(problem)
    allowedOrigins.add(origin)
  }
  if (options.webhookSecret !== undefined && !isWebhookSecret(options.webhookSecret))
    throw new Error('webhookSecret must be whsec_ followed by a base64 key')
  const state = new ClerkState(options.now ?? Date.now, {
    ...(idle !== undefined ? { actorIdleMs: idle * 1000 } : {}),
  })
  const faults = new FaultController(options.faults ?? [], options.quota ?? false)
  const requests = new RequestCounter()
  const signingKey = createSigningKey()
  const secretKey = `${LOCAL_SECRET_KEY_PREFIX}${randomBytes(24).toString('base64url')}`
  const issuer = LOCAL_ISSUER
  let frontendApiUrl = ''
  const machineRegistry = new MachineRegistry(state.now)
  const machines = seedMachines(machineRegistry, options.seed ?? 1)

  const webhooks = new WebhookSender(state, LOCAL_INSTANCE_ID, {
    urls: options.webhooks ?? [],
    ...(options.webhookSecret ? { secret: options.webhookSecret } : {}),
    ...(options.webhookRetry ? { retry: options.webhookRetry } : {}),
  })

  const bapi = createBapiRouter({
    webhooks,
    state,
    signingKey,
    faults,
    requests,
    frontendApiUrl: () => frontendApiUrl,
    m2m: { machines: machineRegistry, secretKey, instanceId: LOCAL_INSTANCE_ID },
    allowedOrigins,
  })
  const fapi = createFapiRouter({ state, signingKey, issuer })

  const server = await listen({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    fapiPath,
    bapi,
    fapi,
    corsOrigins: (origin) => allowedOrigins.has(origin),
    before: async (api, routeName, req) => {
      if (api === 'bapi') {
        if (isPublicControlRoute(routeName)) return undefined
        if (!isControlRoute(routeName)) requests.record(routeName)
        // M2M routes take a machine secret key too; they check the caller themselves.
        if (isM2mRoute(routeName)) return faults.apply(api, routeName)
        if (!bearerMatches(req.headers.authorization, secretKey)) return unauthenticated()
        if (isControlRoute(routeName)) return undefined
      }
      return faults.apply(api, routeName)
    },
  })
  frontendApiUrl = `${server.url}${fapiPath}`

  try {
    seedState(state, { users: options.users ?? 5000, seed: options.seed ?? 1, baseUrl: server.url })
  } catch (error) {
    await server.close()
    throw error
  }
  // Events from now on (the seed announces nothing).
  state.onEvent((event) => webhooks.enqueue(event))

  let stopped: Promise<void> | undefined
  return {
    url: server.url,
    frontendApiUrl,
    fapiPath,
    publishableKey: LOCAL_PUBLISHABLE_KEY,
    secretKey,
    issuer,
    jwtPublicKeyPem: signingKey.publicKeyPem,
    jwks: { keys: [signingKey.jwk] },
    accounts: state.accounts.slice(),
    machines,
    machineRegistry,
    state,
    faults,
    webhookSecret: webhooks.secret,
    webhooks,
    requests,
    stop: () => {
      webhooks.stop()
      return (stopped ??= server.close())
    },
  }
}
