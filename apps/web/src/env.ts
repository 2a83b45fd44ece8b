// The console's configuration at run time: the only reader of import.meta.env. Vite inlines
// the VITE_* values at build time, after env.schema.ts (zod) validated them in vite.config.ts.

import { LOCAL_FRONTEND_API_HOST } from '@actas/contracts/facts'

export { LOCAL_FRONTEND_API_HOST }
/** Its publishable key: `pk_test_` + base64("<host>$"). Not a secret. */
export const LOCAL_PUBLISHABLE_KEY = `pk_test_${btoa(`${LOCAL_FRONTEND_API_HOST}$`)}`

export interface LocalAccount {
  role: string
  identifier: string
  password: string
}

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

export interface RawEnv {
  VITE_CLERK_PUBLISHABLE_KEY?: string
  VITE_CLERK_PROXY_URL?: string
  VITE_API_URL?: string
  VITE_LOCAL_ACCOUNTS?: string
  BASE_URL: string
}

const present = (v: string | undefined) => (v && v.trim() !== '' ? v.trim() : undefined)

function isLocalAccount(v: unknown): v is LocalAccount {
  if (!v || typeof v !== 'object') return false
  const a = v as Record<string, unknown>
  return (
    typeof a['role'] === 'string' &&
    typeof a['identifier'] === 'string' &&
    typeof a['password'] === 'string'
  )
}

function parseAccounts(raw: string | undefined): LocalAccount[] {
  if (!raw) return []
  try {
    const value: unknown = JSON.parse(raw)
    return Array.isArray(value) ? value.filter(isLocalAccount) : []
  } catch {
    return []
  }
}

export function parseEnv(raw: RawEnv, clerkJsVersion: string): AppEnv {
  // Without a key the console is built for the local server (its key is public and fixed);
  // the API refuses that key in production, so a misdeployed build fails closed.
  const publishableKey = present(raw.VITE_CLERK_PUBLISHABLE_KEY) ?? LOCAL_PUBLISHABLE_KEY
  const local = publishableKey === LOCAL_PUBLISHABLE_KEY
  const base = raw.BASE_URL.endsWith('/') ? raw.BASE_URL : `${raw.BASE_URL}/`
  return {
    baseUrl: raw.BASE_URL,
    publishableKey,
    proxyUrl: present(raw.VITE_CLERK_PROXY_URL) ?? (local ? '/__clerk' : undefined),
    local,
    apiUrl: present(raw.VITE_API_URL) ?? `${base}trpc`,
    clerkJsUrl: `${base}clerk-js/${clerkJsVersion}/clerk.browser.js`,
    localAccounts: local ? parseAccounts(present(raw.VITE_LOCAL_ACCOUNTS)) : [],
  }
}

declare const __CLERK_JS_VERSION__: string

export const env: AppEnv = parseEnv(import.meta.env, __CLERK_JS_VERSION__)
