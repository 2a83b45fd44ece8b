// One zod schema over the environment: the only reader of process.env (via server.ts).
import { isIP } from 'node:net'
import {
  defaultMachinePermissions,
  IMPERSONATION_MODES,
  MACHINE_PROCEDURES,
  NEVER_FOR_MACHINES,
} from '@actas/contracts'
import { isSupportedCountry } from 'libphonenumber-js'
import type { CountryCode } from 'libphonenumber-js'
import { z } from 'zod'
import { jsonSetting, receiverUrl } from './json-setting.js'
import { LogStreamsEnvSchema } from './log-streams/config.js'
import { AlertsEnvShape, alertSettings } from './alerts/config.js'
import { parseSigningKey } from './audit/chain.js'
import {
  ProductionEnvShape,
  productionProblems,
  productionSettings,
} from './production/settings.js'
import { LOCAL_FRONTEND_API_HOST, LOCAL_SECRET_KEY_PREFIX } from '@actas/contracts'

// Duplicated from @actas/clerk-local (a devDependency, never loaded at runtime); a test asserts
// they still equal its exports. Production refuses keys and hosts of the local server.
export { LOCAL_FRONTEND_API_HOST, LOCAL_SECRET_KEY_PREFIX }

/**
 * The staff organization outside production when STAFF_ORGANIZATIONS is unset: the local
 * server's seeded Support organization, by slug. Duplicated from @actas/clerk-local
 * (`SUPPORT_ORG_SLUG`); a test asserts they are equal.
 */
export const LOCAL_STAFF_ORGANIZATION = 'support'

/** `ACTAS_DATA_DIR` value that keeps the embedded database in memory (tests). */
export const IN_MEMORY_DATA_DIR = 'memory://'

/** What a local Clerk-compatible server (`@actas/clerk-local`) tells the API to connect with. */
export interface LocalClerkServer {
  url: string
  secretKey: string
  publishableKey: string
  jwtPublicKeyPem: string
}

/**
 * The API's environment against a local Clerk-compatible server, for tests and benches: its keys,
 * Backend API URL and signing key, one console origin, an in-memory audit log, and
 * `NODE_ENV=test` (a production config refuses the local server's keys, by design).
 */
export function localClerkEnvironment(
  clerk: LocalClerkServer,
  origin: string,
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    CLERK_SECRET_KEY: clerk.secretKey,
    CLERK_PUBLISHABLE_KEY: clerk.publishableKey,
    CLERK_API_URL: clerk.url,
    CLERK_JWT_KEY: clerk.jwtPublicKeyPem,
    AUTHORIZED_PARTIES: origin,
    ACTAS_DATA_DIR: IN_MEMORY_DATA_DIR,
  }
}

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback)
const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)
const optionalString = z.preprocess(emptyAsUndefined, z.string().trim().min(1).optional())
/** `a, b,,c` → `['a', 'b', 'c']`; unset or empty → `[]`. */
const commaList = z
  .string()
  .optional()
  .transform((v) =>
    v
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
  )

/** A setting that names organizations: ids (`org_…`) or slugs, comma-separated. */
const organizationList = (setting: string) =>
  z.preprocess(
    emptyAsUndefined,
    commaList.pipe(
      z.array(
        z
          .string()
          .regex(
            /^[A-Za-z0-9_-]{1,128}$/,
            `${setting} must be organization ids (org_…) or slugs, comma-separated`,
          ),
      ),
    ),
  )

/** `whsec_` + standard base64 of 24–64 bytes, as the Standard Webhooks spec asks. */
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/

function webhookSecretProblem(secret: string): string | null {
  if (!WEBHOOK_SECRET.test(secret)) return 'must be whsec_ followed by base64'
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length
  if (bytes < 24 || bytes > 64) return `must encode 24–64 bytes (it encodes ${bytes})`
  return null
}

/**
 * WEBHOOK_ENDPOINTS: `[{"url":"https://app.example.com/hooks/actas","secret":"whsec_…"}]`. Error
 * messages name the entry and the field, never a secret (nor JSON.parse's message, which quotes
 * the text).
 */
const WebhookEndpointsSchema = jsonSetting(
  'WEBHOOK_ENDPOINTS must be a JSON array of {"url": "https://…", "secret": "whsec_…"}',
  [],
).pipe(
  z
    .array(
      z.strictObject(
        {
          url: receiverUrl(''),
          secret: z.string({ error: 'secret is required (whsec_…)' }).superRefine((s, ctx) => {
            const problem = webhookSecretProblem(s)
            if (problem) ctx.addIssue({ code: 'custom', message: `secret ${problem}` })
          }),
        },
        { error: 'each endpoint is {"url", "secret"} and nothing else' },
      ),
      { error: 'WEBHOOK_ENDPOINTS must be a JSON array of {"url", "secret"}' },
    )
    .max(20, 'WEBHOOK_ENDPOINTS: at most 20 endpoints')
    .superRefine((list, ctx) => {
      const seen = new Set<string>()
      list.forEach((e, i) => {
        const url = URL.canParse(e.url) ? new URL(e.url).href : e.url
        if (seen.has(url))
          ctx.addIssue({ code: 'custom', path: [i, 'url'], message: 'url is listed twice' })
        seen.add(url)
      })
    }),
)

const EnvSchema = z
  .object({
    // Fail closed: without an explicit NODE_ENV the API runs as production, so the local Clerk
    // server's keys, a loopback CLERK_API_URL and a missing AUTHORIZED_PARTIES are refused unless a
    // development or test run says what it is (`pnpm dev` and the tests do).
    NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
    HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')),
    PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(4000)),
    LOG_LEVEL: z.preprocess(
      emptyAsUndefined,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),

    CLERK_SECRET_KEY: z
      .string({ error: 'CLERK_SECRET_KEY is required (sk_test_… or sk_live_…)' })
      .trim()
      .min(1, 'CLERK_SECRET_KEY is required'),
    CLERK_PUBLISHABLE_KEY: z
      .string({ error: 'CLERK_PUBLISHABLE_KEY is required (pk_test_… or pk_live_…)' })
      .trim()
      .regex(
        /^pk_(test|live)_[A-Za-z0-9+/=_-]+$/,
        'CLERK_PUBLISHABLE_KEY must look like pk_test_… or pk_live_…',
      ),
    CLERK_API_URL: z.preprocess(
      emptyAsUndefined,
      z.url({ protocol: /^https?$/ }).default('https://api.clerk.com'),
    ),
    /** PEM public key for offline verification; without it the JWKS at CLERK_API_URL is used. */
    CLERK_JWT_KEY: optionalString,
    AUTHORIZED_PARTIES: z.preprocess(
      emptyAsUndefined,
      commaList.pipe(
        z.array(z.url({ error: 'AUTHORIZED_PARTIES must be a comma-separated list of origins' })),
      ),
    ),
    /**
     * The staff organizations, ids (`org_…`) or slugs, comma-separated: only a session whose
     * active organization is one of them, holding org:admin:impersonate there, is staff; their
     * members (any role) are never impersonated. Required in production.
     */
    STAFF_ORGANIZATIONS: organizationList('STAFF_ORGANIZATIONS'),
    /**
     * Organizations (ids or slugs, comma-separated) whose members may only be impersonated
     * read-only: `impersonation.start` refuses `full` for them (403, rule read_only_target).
     */
    READ_ONLY_ORGANIZATIONS: organizationList('READ_ONLY_ORGANIZATIONS'),
    /**
     * The customer's consent before an impersonation (access requests): `off`, `all` users, or
     * `organizations` (members of ACCESS_CONSENT_ORGANIZATIONS). An organization's admins may
     * require it for their organization whatever this says.
     */
    ACCESS_CONSENT_REQUIRED: z.preprocess(
      emptyAsUndefined,
      z.enum(['off', 'all', 'organizations']).default('off'),
    ),
    ACCESS_CONSENT_ORGANIZATIONS: organizationList('ACCESS_CONSENT_ORGANIZATIONS'),
    /**
     * A second staff member's approval before an impersonation (the two-person rule): `off`,
     * `full` (only impersonations in full mode), `organizations` (members of
     * ACCESS_APPROVAL_ORGANIZATIONS), `roles` (members holding one of ACCESS_APPROVAL_ROLES in one
     * of ACCESS_APPROVAL_ORGANIZATIONS).
     */
    ACCESS_APPROVAL_REQUIRED: z.preprocess(
      emptyAsUndefined,
      z.enum(['off', 'full', 'organizations', 'roles']).default('off'),
    ),
    ACCESS_APPROVAL_ORGANIZATIONS: organizationList('ACCESS_APPROVAL_ORGANIZATIONS'),
    ACCESS_APPROVAL_ROLES: z.preprocess(
      emptyAsUndefined,
      commaList.pipe(
        z.array(
          z
            .string()
            .regex(/^org:[A-Za-z0-9_:-]{1,64}$/, 'ACCESS_APPROVAL_ROLES must be roles (org:…)'),
        ),
      ),
    ),
    /** Undecided access requests expire after this many days. */
    ACCESS_REQUEST_EXPIRY_DAYS: z.preprocess(
      emptyAsUndefined,
      positiveInt(14).pipe(z.number().max(365)),
    ),
    /** Access requests per staff member per minute (floods). */
    RATE_LIMIT_ACCESS_REQUEST_PER_MINUTE: z.preprocess(emptyAsUndefined, positiveInt(5)),
    /** How a customer sees the staff member in their history and requests: name, email, or `support` (no one named). */
    CUSTOMER_STAFF_DISPLAY: z.preprocess(
      emptyAsUndefined,
      z.enum(['name', 'email', 'support']).default('name'),
    ),
    /** Country of phone numbers typed in national format in the search box (ISO 3166-1 alpha-2). */
    DEFAULT_PHONE_COUNTRY: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .default('US')
        .transform((v) => v.toUpperCase())
        .refine(
          (v): v is CountryCode => isSupportedCountry(v),
          'DEFAULT_PHONE_COUNTRY must be a country code such as US, FR or GB',
        ),
    ),
    /** Renamed to STAFF_ORGANIZATIONS (whose meaning changed: see superRefine). */
    STAFF_ORGANIZATION_IDS: z.preprocess(emptyAsUndefined, z.string().optional()),

    /** Behind a reverse proxy: `true`, a hop count, or comma-separated proxy addresses (for audit IPs). */
    TRUST_PROXY: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .default('false')
        .transform((v): boolean | number | string[] =>
          v === 'true'
            ? true
            : v === 'false'
              ? false
              : /^\d+$/.test(v)
                ? Number(v)
                : v.split(',').map((s) => s.trim()),
        ),
    ),
    DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    /** Schema of the audit tables on a Postgres server (default public). */
    DATABASE_SCHEMA: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'DATABASE_SCHEMA must be a lower-case SQL identifier')
        .default('public'),
    ),
    ACTAS_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('.data/pglite')),
    /** Postgres server: `statement_timeout` (ms) and the longest wait for a pooled connection. */
    DATABASE_STATEMENT_TIMEOUT_MS: z.preprocess(
      emptyAsUndefined,
      positiveInt(2000).pipe(z.number().max(600_000)),
    ),
    DATABASE_ACQUIRE_TIMEOUT_MS: z.preprocess(
      emptyAsUndefined,
      positiveInt(5000).pipe(z.number().max(600_000)),
    ),

    IMPERSONATION_QUOTA: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(5)),
    /** `warn`: past the quota, starts go on (billable); `block`: refused before asking Clerk. */
    IMPERSONATION_QUOTA_MODE: z.preprocess(
      emptyAsUndefined,
      z.enum(['warn', 'block']).default('warn'),
    ),
    /**
     * Step-up: `impersonation.start` needs the staff session's first factor (the password)
     * verified within this many minutes (the token's `fva`); else Clerk's reverification error.
     * `off` only outside production.
     */
    STEP_UP_MINUTES: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .default('10')
        .transform((v, ctx): number | 'off' => {
          if (v === 'off') return 'off'
          const minutes = /^\d{1,4}$/.test(v) ? Number(v) : Number.NaN
          if (minutes >= 1 && minutes <= 1440) return minutes
          ctx.addIssue({
            code: 'custom',
            message: `must be a whole number of minutes (1–1440) or off (got ${JSON.stringify(v.slice(0, 20))})`,
          })
          return z.NEVER
        }),
    ),
    /** The mode of an impersonation whose `impersonation.start` names none. */
    IMPERSONATION_DEFAULT_MODE: z.preprocess(
      emptyAsUndefined,
      z.enum(IMPERSONATION_MODES).default('full'),
    ),
    APP_HOME_PATH: z.preprocess(
      emptyAsUndefined,
      z.string().startsWith('/', 'APP_HOME_PATH must start with /').default('/'),
    ),
    /**
     * The host application's origins, comma-separated: where an impersonation may land. The
     * first is the default landing (`landingUrl` = first origin + APP_HOME_PATH); a start may ask
     * for another URL only on one of these origins. Empty: the console's own APP_HOME_PATH.
     */
    APP_ORIGINS: z.preprocess(
      emptyAsUndefined,
      commaList.pipe(
        z.array(
          z
            .url({
              protocol: /^https?$/,
              error: 'APP_ORIGINS must be a comma-separated list of origins',
            })
            .refine((v) => new URL(v).origin === v.replace(/\/$/, ''), {
              error: 'APP_ORIGINS must list origins only (scheme, host and port; no path)',
            })
            .transform((v) => new URL(v).origin),
        ),
      ),
    ),
    ACTOR_TOKEN_TTL_SECONDS: z.preprocess(
      emptyAsUndefined,
      z.coerce.number().int().min(30).max(600).default(300),
    ),
    CLERK_TIMEOUT_MS: z.preprocess(
      emptyAsUndefined,
      positiveInt(3000).pipe(z.number().max(30_000)),
    ),

    /**
     * Optional: ActAs's own machine secret key (`ak_…`). When set, M2M tokens are verified as
     * that machine, so Clerk itself refuses tokens not granted to ActAs (401 instead of 403).
     */
    CLERK_MACHINE_SECRET_KEY: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^ak_\w+$/, 'CLERK_MACHINE_SECRET_KEY must be a machine secret key (ak_…)')
        .optional(),
    ),
    /** ActAs's own Clerk machine (`mch_…`): machines whose M2M scopes include it may call ActAs. */
    CLERK_MACHINE_ID: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^mch_\w{1,64}$/, 'CLERK_MACHINE_ID must be a Clerk machine id (mch_…)')
        .optional(),
    ),
    /**
     * JSON: machine id or scope → procedure names, e.g. {"mch_…":["users.search"]}. Default:
     * machines scoped to CLERK_MACHINE_ID may call the read procedures; without either, none.
     * The writes (`impersonation.actions`, the guard's action trail) and the on-behalf procedures
     * (`impersonation.start` / `.end` for a named staff member, `onBehalfOf`) are only ever
     * granted here; `impersonation.revoke` never.
     */
    MACHINE_PERMISSIONS: z.preprocess(
      emptyAsUndefined,
      jsonSetting('MACHINE_PERMISSIONS must be JSON', undefined).pipe(
        z
          .record(
            z.string().regex(/^mch_\w{1,64}$/, 'keys must be machine ids or scopes (mch_…)'),
            z.array(
              z.enum(MACHINE_PROCEDURES, {
                error: (issue) =>
                  NEVER_FOR_MACHINES.includes(String(issue.input))
                    ? `${String(issue.input)} can never be granted to a machine (a person's act in the console)`
                    : `machines may only be granted ${MACHINE_PROCEDURES.join(', ')} (impersonation.start and .end only on behalf of a named staff member: onBehalfOf)`,
              }),
            ),
          )
          .optional(),
      ),
    ),

    /** Svix signing secret of the Clerk webhook endpoint (POST /webhooks/clerk); unset: no endpoint. */
    CLERK_WEBHOOK_SIGNING_SECRET: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^whsec_[A-Za-z0-9+/=]+$/, 'CLERK_WEBHOOK_SIGNING_SECRET must look like whsec_…')
        .optional(),
    ),
    /** Period of the reconciler (seconds); 0 turns it off. */
    RECONCILER_INTERVAL_SECONDS: z.preprocess(
      emptyAsUndefined,
      z.coerce.number().int().min(0).max(3600).default(30),
    ),
    /** Clerk calls one reconciler run may make at most (≥ 7: one row's worst case). */
    RECONCILER_MAX_CLERK_CALLS: z.preprocess(
      emptyAsUndefined,
      z.coerce.number().int().min(7).max(10_000).default(60),
    ),
    /** `on`: Stop with the return secret hands back a sign-in token for the staff member. */
    RETURN_TO_CONSOLE: z.preprocess(emptyAsUndefined, z.enum(['on', 'off']).default('on')),
    /** Period of the backstop read of ended impersonations (every instance), ms. */
    REVOCATION_REFRESH_MS: z.preprocess(
      emptyAsUndefined,
      positiveInt(1000).pipe(z.number().min(100).max(60_000)),
    ),
    RATE_LIMIT_START_PER_MINUTE: z.preprocess(emptyAsUndefined, positiveInt(5)),
    /** Per client IP: credentials that Clerk must verify and has not accepted, per minute. */
    RATE_LIMIT_UNVERIFIED_PER_IP_PER_MINUTE: z.preprocess(emptyAsUndefined, positiveInt(60)),
    /** Shared rate limits across instances (redis:// or rediss://); without it, in memory. */
    REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
    REDIS_KEY_PREFIX: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'REDIS_KEY_PREFIX must be 1–64 letters, digits, _ . -')
        .default('actas'),
    ),
    /** Without CLERK_JWT_KEY: at most one JWKS fetch per this many seconds for unknown kids. */
    CLERK_JWKS_UNKNOWN_KID_INTERVAL_SECONDS: z.preprocess(
      emptyAsUndefined,
      positiveInt(30).pipe(z.number().max(3600)),
    ),
    RATE_LIMIT_SEARCH_PER_MINUTE: z.preprocess(emptyAsUndefined, positiveInt(120)),
    /**
     * How often the membership mirror (the organizations shown in search rows) is reloaded from
     * Clerk; the bound on how stale they may be. 0: no mirror, one membership read per user
     * (cached 30 s).
     */
    MEMBERSHIP_MIRROR_REFRESH_SECONDS: z.preprocess(
      emptyAsUndefined,
      z.coerce.number().int().min(0).max(86_400).default(60),
    ),

    /** Ed25519 key that signs audit checkpoints: PKCS#8 PEM or a 32-byte seed (base64 or hex). */
    AUDIT_SIGNING_KEY: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .optional()
        .superRefine((v, ctx) => {
          if (v === undefined) return
          try {
            parseSigningKey(v)
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: (error as Error).message })
          }
        }),
    ),
    /**
     * ActAs's webhooks to the host application: a JSON array of `{ "url", "secret" }`, the secret
     * `whsec_` + base64 of 24–64 random bytes (Standard Webhooks). Unset or `[]`: none are sent.
     */
    WEBHOOK_ENDPOINTS: z.preprocess(emptyAsUndefined, WebhookEndpointsSchema),
    /** Failed attempts after which a delivery is dead-lettered (shown on the audit page). */
    WEBHOOK_MAX_ATTEMPTS: z.preprocess(
      emptyAsUndefined,
      z.coerce.number().int().min(1).max(100).default(15),
    ),
    /** An attempt without an answer after this long fails (ms). */
    WEBHOOK_TIMEOUT_MS: z.preprocess(
      emptyAsUndefined,
      positiveInt(5000).pipe(z.number().min(100).max(60_000)),
    ),
    /** Backoff: the wait after the n-th failure is base × 2^(n−1) (with jitter), at most max (ms). */
    WEBHOOK_RETRY_BASE_MS: z.preprocess(
      emptyAsUndefined,
      positiveInt(5000).pipe(z.number().min(10).max(3_600_000)),
    ),
    WEBHOOK_RETRY_MAX_MS: z.preprocess(
      emptyAsUndefined,
      positiveInt(3_600_000).pipe(z.number().min(10).max(86_400_000)),
    ),
    /**
     * Log streams to SIEMs (issue 23), as JSON: `[{"id","kind":"https"|"splunk_hec"|"datadog",
     * "url","token", …}]` (src/log-streams/config.ts). Unset or `[]`: none.
     */
    LOG_STREAMS: z.preprocess(emptyAsUndefined, LogStreamsEnvSchema),
    /** How often each instance looks for due deliveries (ms); new events are sent at once too. */
    WEBHOOK_DISPATCH_INTERVAL_MS: z.preprocess(
      emptyAsUndefined,
      positiveInt(1000).pipe(z.number().min(50).max(600_000)),
    ),
    AUDIT_CHECKPOINT_EVERY: z.preprocess(emptyAsUndefined, positiveInt(1000)),
    AUDIT_CHECKPOINT_MINUTES: z.preprocess(emptyAsUndefined, positiveInt(10)),
    AUDIT_DENIED_FULL_PER_MINUTE: z.preprocess(emptyAsUndefined, positiveInt(10)),
    /**
     * Days kept of the tables outside the audit chain (delivered host-webhook outbox rows, Clerk
     * webhook de-duplication, machines' audit reads); at least 7 (Clerk retries a delivery for
     * days). The chain itself is never pruned.
     */
    AUDIT_RETENTION_DAYS: z.preprocess(
      emptyAsUndefined,
      positiveInt(90).pipe(z.number().min(7).max(36_500)),
    ),
    /** audit.verify per caller and minute. */
    RATE_LIMIT_VERIFY_PER_MINUTE: z.preprocess(emptyAsUndefined, positiveInt(6)),
    ...ProductionEnvShape,
    ...AlertsEnvShape,
  })
  .superRefine((env, ctx) => {
    productionProblems(env, (issue) => ctx.addIssue(issue))
    if (env.STAFF_ORGANIZATION_IDS !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['STAFF_ORGANIZATION_IDS'],
        message:
          'was replaced by STAFF_ORGANIZATIONS (ids or slugs of the organizations whose admins are staff; no other organization grants anything)',
      })
    }
    env.WEBHOOK_ENDPOINTS.forEach((endpoint, i) => {
      if (env.NODE_ENV === 'production' && new URL(endpoint.url).protocol !== 'https:')
        ctx.addIssue({
          code: 'custom',
          path: ['WEBHOOK_ENDPOINTS', i, 'url'],
          message: 'must use https in production (the messages carry who acted as whom)',
        })
    })
    env.LOG_STREAMS.forEach((stream, i) => {
      if (env.NODE_ENV === 'production' && new URL(stream.url).protocol !== 'https:')
        ctx.addIssue({
          code: 'custom',
          path: ['LOG_STREAMS', i, 'url'],
          message: 'must use https in production (the events carry who acted as whom)',
        })
    })
    if (env.WEBHOOK_RETRY_MAX_MS < env.WEBHOOK_RETRY_BASE_MS)
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_RETRY_MAX_MS'],
        message: 'must be at least WEBHOOK_RETRY_BASE_MS',
      })
    if (env.NODE_ENV !== 'production') return
    if (env.STEP_UP_MINUTES === 'off') {
      ctx.addIssue({
        code: 'custom',
        path: ['STEP_UP_MINUTES'],
        message:
          'cannot be off in production: starting an impersonation needs a recent password check (a number of minutes, default 10)',
      })
    }
    if (env.STAFF_ORGANIZATIONS.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['STAFF_ORGANIZATIONS'],
        message:
          'is required in production: the ids (org_…) or slugs of your support organizations, comma-separated. Only a session active in one of them, holding org:admin:impersonate there, is staff',
      })
    }
    if (env.CLERK_SECRET_KEY.startsWith(LOCAL_SECRET_KEY_PREFIX)) {
      ctx.addIssue({
        code: 'custom',
        path: ['CLERK_SECRET_KEY'],
        message:
          "is the local Clerk server's key; production needs your Clerk instance's secret key",
      })
    }
    if (publishableKeyHost(env.CLERK_PUBLISHABLE_KEY) === LOCAL_FRONTEND_API_HOST) {
      ctx.addIssue({
        code: 'custom',
        path: ['CLERK_PUBLISHABLE_KEY'],
        message:
          "is the local Clerk server's key; production needs your Clerk instance's publishable key",
      })
    }
    const apiUrl = new URL(env.CLERK_API_URL)
    if (apiUrl.protocol !== 'https:') {
      ctx.addIssue({
        code: 'custom',
        path: ['CLERK_API_URL'],
        message: `must use https in production (got ${apiUrl.protocol}//…): the secret key travels with every call`,
      })
    }
    const problem = forbiddenClerkHost(apiUrl.hostname)
    if (problem) {
      ctx.addIssue({
        code: 'custom',
        path: ['CLERK_API_URL'],
        message: `names ${problem} (${apiUrl.hostname}); production must talk to Clerk, not to this machine or its link`,
      })
    }
    if (env.AUTHORIZED_PARTIES.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTHORIZED_PARTIES'],
        message: "is required in production (the console's origins, comma-separated)",
      })
    }
  })

export type Env = z.output<typeof EnvSchema>

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** The host encoded in a publishable key (`pk_test_` + base64("<host>$")), or null. */
export function publishableKeyHost(key: string): string | null {
  const encoded = key.replace(/^pk_(test|live)_/, '')
  try {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8')
    return decoded.endsWith('$') ? decoded.slice(0, -1) : null
  } catch {
    return null
  }
}

/** The 8 hextets of an IPv6 address (`::` expanded, an embedded IPv4 tail converted), or null. */
function ipv6Hextets(address: string): number[] | null {
  let text = address
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4?.[1]) {
    const octets = v4[1].split('.').map(Number)
    if (octets.some((o) => o > 255)) return null
    const [a = 0, b = 0, c = 0, d = 0] = octets
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const part = (s: string) => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)))
  const left = part(head)
  const right = tail === undefined ? [] : part(tail)
  const fill = 8 - left.length - right.length
  if (tail === undefined ? left.length !== 8 : fill < 0) return null
  return [...left, ...Array<number>(tail === undefined ? 0 : fill).fill(0), ...right]
}

/** Why an IPv4 address may not be Clerk's (loopback, unspecified, link-local), or null. */
function ipv4Problem(octets: number[]): string | null {
  const [a, b] = octets
  if (a === 127) return 'a loopback address'
  if (a === 0) return 'an unspecified address (0.0.0.0/8)'
  if (a === 169 && b === 254) return 'a link-local address'
  return null
}

/**
 * Why `hostname` (as `new URL()` gives it) may not be Clerk's in production: a loopback,
 * unspecified or link-local address in any spelling (URL parsing already turns decimal, hex,
 * octal and short IPv4 forms into dotted quads), `localhost` and its subdomains with or without
 * a trailing dot, and IPv4-mapped, -compatible or NAT64 IPv6 forms of those. Null when fine.
 */
export function forbiddenClerkHost(hostname: string): string | null {
  const h = hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.+$/, '')
  if (h === 'localhost' || h.endsWith('.localhost')) return 'the loopback name localhost'
  if (isIP(h) === 4) return ipv4Problem(h.split('.').map(Number))
  if (isIP(h) === 6 || h.includes(':')) {
    const x = ipv6Hextets(h.split('%')[0] ?? h)
    if (!x) return 'an IPv6 address that cannot be read'
    const zeros = (n: number) => x.slice(0, n).every((v) => v === 0)
    if (zeros(7) && x[7] === 1) return 'a loopback address (::1)'
    if (zeros(8)) return 'an unspecified address (::)'
    if (((x[0] ?? 0) & 0xffc0) === 0xfe80) return 'a link-local address (fe80::/10)'
    const embedded = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255]
    const mapped = zeros(5) && (x[5] === 0xffff || x[5] === 0)
    const nat64 = x[0] === 0x64 && x[1] === 0xff9b && x.slice(2, 6).every((v) => v === 0)
    if (mapped || nat64) {
      const problem = ipv4Problem(embedded(x[6] ?? 0, x[7] ?? 0))
      if (problem) return `${problem}, written as IPv6`
    }
  }
  return null
}

/** Validates the environment; throws a ConfigError listing every problem, one per line. */
/** The validated environment, shaped as the API's configuration. */
const ConfigSchema = EnvSchema.transform((e) => ({
  env: e.NODE_ENV,
  isDev: e.NODE_ENV === 'development',
  host: e.HOST,
  port: e.PORT,
  trustProxy: e.TRUST_PROXY,
  logLevel: e.LOG_LEVEL,
  clerk: {
    secretKey: e.CLERK_SECRET_KEY,
    publishableKey: e.CLERK_PUBLISHABLE_KEY,
    apiUrl: e.CLERK_API_URL,
    jwtKey: e.CLERK_JWT_KEY?.replace(/\\n/g, '\n'),
    /** Verify M2M tokens as ActAs's machine (see CLERK_MACHINE_SECRET_KEY). */
    machineSecretKey: e.CLERK_MACHINE_SECRET_KEY,
    authorizedParties: e.AUTHORIZED_PARTIES,
    timeoutMs: e.CLERK_TIMEOUT_MS,
    actorTokenTtlSeconds: e.ACTOR_TOKEN_TTL_SECONDS,
    jwksUnknownKidIntervalSeconds: e.CLERK_JWKS_UNKNOWN_KID_INTERVAL_SECONDS,
  },
  /** Ids or slugs (STAFF_ORGANIZATIONS; outside production `support` when unset). */
  staffOrganizations:
    e.STAFF_ORGANIZATIONS.length > 0 ? e.STAFF_ORGANIZATIONS : [LOCAL_STAFF_ORGANIZATION],
  /** READ_ONLY_ORGANIZATIONS: ids or slugs whose members are impersonated read-only only. */
  readOnlyOrganizations: e.READ_ONLY_ORGANIZATIONS,
  /** Country of phone numbers typed in national format (DEFAULT_PHONE_COUNTRY). */
  defaultPhoneCountry: e.DEFAULT_PHONE_COUNTRY,
  machines: {
    /** ActAs's own machine id (the scope callers need), if configured. */
    actasMachineId: e.CLERK_MACHINE_ID ?? null,
    /** Machine id or scope → procedures (deny by default). */
    permissions:
      e.MACHINE_PERMISSIONS ??
      (e.CLERK_MACHINE_ID ? defaultMachinePermissions(e.CLERK_MACHINE_ID) : {}),
  },
  database: e.DATABASE_URL
    ? {
        kind: 'postgres' as const,
        url: e.DATABASE_URL,
        schema: e.DATABASE_SCHEMA,
        statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
        acquireTimeoutMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
      }
    : {
        kind: 'pglite' as const,
        dataDir: e.ACTAS_DATA_DIR === IN_MEMORY_DATA_DIR ? undefined : e.ACTAS_DATA_DIR,
      },
  impersonationQuota: e.IMPERSONATION_QUOTA,
  impersonationQuotaMode: e.IMPERSONATION_QUOTA_MODE,
  impersonationDefaultMode: e.IMPERSONATION_DEFAULT_MODE,
  /** STEP_UP_MINUTES; null = off (never in production). */
  stepUpMinutes: e.STEP_UP_MINUTES === 'off' ? null : e.STEP_UP_MINUTES,
  appHomePath: e.APP_HOME_PATH,
  appOrigins: e.APP_ORIGINS,
  returnToConsole: e.RETURN_TO_CONSOLE === 'on',
  revocationRefreshMs: e.REVOCATION_REFRESH_MS,
  /** Reload period of the membership mirror in ms; 0 = no mirror. */
  membershipMirrorRefreshMs: e.MEMBERSHIP_MIRROR_REFRESH_SECONDS * 1000,
  reconciler: {
    intervalSeconds: e.RECONCILER_INTERVAL_SECONDS,
    maxClerkCalls: e.RECONCILER_MAX_CLERK_CALLS,
  },
  /** The Clerk webhook endpoint's signing secret; null: POST /webhooks/clerk is not served. */
  webhookSigningSecret: e.CLERK_WEBHOOK_SIGNING_SECRET ?? null,
  rateLimits: {
    'impersonation.start': { perMinute: e.RATE_LIMIT_START_PER_MINUTE },
    'users.search': { perMinute: e.RATE_LIMIT_SEARCH_PER_MINUTE },
    'audit.verify': { perMinute: e.RATE_LIMIT_VERIFY_PER_MINUTE },
    'access.request': { perMinute: e.RATE_LIMIT_ACCESS_REQUEST_PER_MINUTE },
  },
  /** Access requests (ACCESS_*): the consent and two-person rules, expiry, how staff are shown. */
  access: {
    consent: e.ACCESS_CONSENT_REQUIRED,
    consentOrganizations: e.ACCESS_CONSENT_ORGANIZATIONS,
    approval: e.ACCESS_APPROVAL_REQUIRED,
    approvalOrganizations: e.ACCESS_APPROVAL_ORGANIZATIONS,
    approvalRoles: e.ACCESS_APPROVAL_ROLES,
    requestExpiryDays: e.ACCESS_REQUEST_EXPIRY_DAYS,
    staffDisplay: e.CUSTOMER_STAFF_DISPLAY,
  },
  audit: {
    /** AUDIT_SIGNING_KEY as given (validated); deps parses it. */
    signingKey: e.AUDIT_SIGNING_KEY,
    checkpointEvery: e.AUDIT_CHECKPOINT_EVERY,
    checkpointMinutes: e.AUDIT_CHECKPOINT_MINUTES,
    deniedFullPerMinute: e.AUDIT_DENIED_FULL_PER_MINUTE,
    retentionDays: e.AUDIT_RETENTION_DAYS,
  },
  /** ActAs's webhooks to the host (WEBHOOK_*); no endpoints: nothing is written to the outbox. */
  webhooks: {
    /** URL → secret. The secrets are never logged. */
    endpoints: e.WEBHOOK_ENDPOINTS.map((x) => ({ url: x.url, secret: x.secret })),
    maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
    dispatchIntervalMs: e.WEBHOOK_DISPATCH_INTERVAL_MS,
  },
  /** Log streams to SIEMs (src/log-streams/). Tokens are never logged. */
  logStreams: e.LOG_STREAMS,
  /** Per client IP: verifications Clerk has not accepted, per minute. */
  unverifiedPerIpPerMinute: e.RATE_LIMIT_UNVERIFIED_PER_IP_PER_MINUTE,
  /** Shared rate limits; null keeps them in this process's memory. */
  redis: e.REDIS_URL ? { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX } : null,
  /** The console's settings and build, the metrics endpoint (production/settings.ts). */
  ...productionSettings(e),
  /** Alert rules' thresholds (ALERT_*, src/alerts/config.ts). */
  ...alertSettings(e),
}))

/** The API's configuration: what `ConfigSchema` makes of the environment. */
export type Config = z.output<typeof ConfigSchema>

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = ConfigSchema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  - ${i.path.join('.') || 'environment'}: ${i.message}`,
    )
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  return parsed.data
}

/** What the audit commands (`audit:verify`, `audit:public-key`) need: the database and the key. */
export interface AuditToolConfig {
  database: Config['database']
  signingKey: string | undefined
  /** PEM public keys of earlier signing keys (AUDIT_PREVIOUS_PUBLIC_KEYS). */
  previousPublicKeys: string[]
  /** The checkpoints' cadence `audit:verify` expects. */
  checkpointEvery: number
  checkpointMinutes: number
}

/** The subset of the environment the audit commands read (no Clerk keys needed). */
export function loadAuditToolConfig(env: Record<string, string | undefined>): AuditToolConfig {
  const shape = EnvSchema.shape
  const parsed = z
    .object({
      DATABASE_URL: shape.DATABASE_URL,
      DATABASE_SCHEMA: shape.DATABASE_SCHEMA,
      ACTAS_DATA_DIR: shape.ACTAS_DATA_DIR,
      DATABASE_STATEMENT_TIMEOUT_MS: shape.DATABASE_STATEMENT_TIMEOUT_MS,
      DATABASE_ACQUIRE_TIMEOUT_MS: shape.DATABASE_ACQUIRE_TIMEOUT_MS,
      AUDIT_SIGNING_KEY: shape.AUDIT_SIGNING_KEY,
      AUDIT_PREVIOUS_PUBLIC_KEYS: shape.AUDIT_PREVIOUS_PUBLIC_KEYS,
      AUDIT_CHECKPOINT_EVERY: shape.AUDIT_CHECKPOINT_EVERY,
      AUDIT_CHECKPOINT_MINUTES: shape.AUDIT_CHECKPOINT_MINUTES,
    })
    .safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  - ${i.path.join('.') || 'environment'}: ${i.message}`,
    )
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  return {
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          schema: e.DATABASE_SCHEMA,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
          acquireTimeoutMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
        }
      : {
          kind: 'pglite',
          dataDir: e.ACTAS_DATA_DIR === IN_MEMORY_DATA_DIR ? undefined : e.ACTAS_DATA_DIR,
        },
    signingKey: e.AUDIT_SIGNING_KEY,
    previousPublicKeys: e.AUDIT_PREVIOUS_PUBLIC_KEYS,
    checkpointEvery: e.AUDIT_CHECKPOINT_EVERY,
    checkpointMinutes: e.AUDIT_CHECKPOINT_MINUTES,
  }
}
