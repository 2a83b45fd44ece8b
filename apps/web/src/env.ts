// The console's configuration at run time. Its settings (publishable key, Clerk proxy, API
// endpoint, the local sign-in picker's accounts) come from the server at load, `GET /config.json`
// (the API renders it from its validated configuration; contracts' ConsoleConfigSchema), so one
// build runs in every environment. index.html preloads the document, so the request runs in
// parallel with the entry's. Read here without zod (first-route size): the API validated it.
import { CONSOLE_CONFIG_PATH, LOCAL_FRONTEND_API_HOST } from '@actas/contracts/facts'
import type { ConsoleConfig, LocalAccount } from '@actas/contracts'

export { LOCAL_FRONTEND_API_HOST }
export type { LocalAccount }
/** Its publishable key: `pk_test_` + base64("<host>$"). Not a secret. */
export const LOCAL_PUBLISHABLE_KEY = `pk_test_${btoa(`${LOCAL_FRONTEND_API_HOST}$`)}`

export interface AppEnv {
  /** Vite's `base` (BASE_URL): where the console is mounted. */
  baseUrl: string
  publishableKey: string
  proxyUrl: string | undefined
  /** True when the console talks to the local Clerk-compatible server. */
  local: boolean
  /** The API's tRPC endpoint (same origin by default; the dev/preview server proxies it). */
  apiUrl: string
  /** Where clerk-js's browser build is served from (our own origin, never a CDN). */
  clerkJsUrl: string
  /** Seeded staff accounts for the sign-in picker (local mode only). */
  localAccounts: LocalAccount[]
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== ''

function isLocalAccount(v: unknown): v is LocalAccount {
  if (!v || typeof v !== 'object') return false
  const a = v as Record<string, unknown>
  return isString(a['role']) && isString(a['identifier']) && isString(a['password'])
}

/** The settings document → the console's environment; throws when it is not one. */
export function parseConsoleConfig(raw: unknown, baseUrl: string, clerkJsVersion: string): AppEnv {
  const doc = (raw && typeof raw === 'object' ? raw : {}) as Partial<
    Record<keyof ConsoleConfig, unknown>
  >
  if (!isString(doc.publishableKey) || !/^pk_(test|live)_/.test(doc.publishableKey))
    throw new Error('the settings have no publishable key')
  const publishableKey = doc.publishableKey
  const local = publishableKey === LOCAL_PUBLISHABLE_KEY
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`
  return {
    baseUrl,
    publishableKey,
    proxyUrl: isString(doc.proxyUrl) ? doc.proxyUrl : undefined,
    local,
    apiUrl: isString(doc.apiUrl) ? doc.apiUrl : `${base}trpc`,
    clerkJsUrl: `${base}clerk-js/${clerkJsVersion}/clerk.browser.js`,
    localAccounts:
      local && Array.isArray(doc.localAccounts) ? doc.localAccounts.filter(isLocalAccount) : [],
  }
}

declare const __CLERK_JS_VERSION__: string

const BASE_URL = import.meta.env.BASE_URL

/** Where the settings are read from (the API serves them at the console's base). */
export const configUrl = `${BASE_URL.replace(/\/$/, '')}${CONSOLE_CONFIG_PATH}`

/**
 * The console's environment: the local server's until `loadEnv()` read the server's settings
 * (main.ts awaits it before anything is mounted; component tests use the default).
 */
export let env: AppEnv = parseConsoleConfig(
  { publishableKey: LOCAL_PUBLISHABLE_KEY, proxyUrl: '/__clerk', apiUrl: null, localAccounts: [] },
  BASE_URL,
  __CLERK_JS_VERSION__,
)

/** Reads the settings from the server (the preloaded response when index.html's link ran). */
export async function loadEnv(): Promise<AppEnv> {
  const res = await fetch(configUrl, { credentials: 'same-origin' })
  if (!res.ok) throw new Error(`${configUrl} answered ${res.status}`)
  env = parseConsoleConfig(await res.json(), BASE_URL, __CLERK_JS_VERSION__)
  return env
}
