// The settings of running ActAs for real (issue 24): what the console is told at load
// (`GET /config.json`), where its build is served from, and the metrics endpoint. Part of the one
// environment schema (config.ts spreads `ProductionEnvShape` into it and calls the two functions
// below), kept here so the serving code and its settings live together.
import { LOCAL_FRONTEND_API_HOST, LocalAccountSchema } from '@actas/contracts'
import type { LocalAccount } from '@actas/contracts'
import { createPublicKey } from 'node:crypto'
import { z } from 'zod'

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g

/**
 * AUDIT_PREVIOUS_PUBLIC_KEYS: the Ed25519 public keys (SPKI PEM, as `audit:public-key` prints
 * them; several concatenated, `\n` escapes allowed) of signing keys used before a rotation of
 * AUDIT_SIGNING_KEY, so the checkpoints they signed still verify.
 */
export const PreviousPublicKeysSchema = z.preprocess(
  blank,
  z
    .string()
    .optional()
    .transform((v, ctx): string[] => {
      if (v === undefined) return []
      const blocks = v.replace(/\\n/g, '\n').match(PEM_BLOCK) ?? []
      const bad =
        blocks.length === 0 ||
        blocks.some((pem) => {
          try {
            return createPublicKey(pem).asymmetricKeyType !== 'ed25519'
          } catch {
            return true
          }
        })
      if (bad) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be Ed25519 public keys in SPKI PEM (-----BEGIN PUBLIC KEY-----), as audit:public-key prints them',
        })
        return z.NEVER
      }
      return blocks
    }),
)

export const ProductionEnvShape = {
  AUDIT_PREVIOUS_PUBLIC_KEYS: PreviousPublicKeysSchema,
  /** clerk-js `proxyUrl` the console uses: a path (`/__clerk`) or an http(s) URL. */
  CLERK_PROXY_URL: z.preprocess(
    blank,
    z
      .string()
      .trim()
      .regex(/^(\/[^/\\]|https?:\/\/)/, 'must be a path (/__clerk) or an http(s) URL')
      .optional(),
  ),
  /** The tRPC endpoint the console calls; unset: `/trpc` on its own origin. */
  CONSOLE_API_URL: z.preprocess(
    blank,
    z
      .string()
      .trim()
      .regex(/^(\/|https?:\/\/)/, 'must be a path (/trpc) or an http(s) URL')
      .optional(),
  ),
  /** JSON `[{role, identifier, password}]`: the sign-in picker's accounts (local server only). */
  CONSOLE_LOCAL_ACCOUNTS: z.preprocess(
    blank,
    z
      .string()
      .optional()
      .transform((v, ctx): LocalAccount[] => {
        if (v === undefined) return []
        try {
          const parsed = z.array(LocalAccountSchema).safeParse(JSON.parse(v))
          if (parsed.success) return parsed.data
        } catch {
          // reported below
        }
        ctx.addIssue({
          code: 'custom',
          message: 'must be a JSON array of {role, identifier, password}',
        })
        return z.NEVER
      }),
  ),
  /** The built console (`apps/web/dist`) to serve on this origin; unset: not served. */
  CONSOLE_DIR: z.preprocess(blank, z.string().optional()),
  /** Port of the Prometheus endpoint (`GET /metrics`, its own listener); unset: no listener. */
  METRICS_PORT: z.preprocess(blank, z.coerce.number().int().min(0).max(65535).optional()),
  METRICS_HOST: z.preprocess(blank, z.string().default('127.0.0.1')),
  /** Bearer token for `GET /metrics` on the API's own port; unset: not served there. */
  METRICS_TOKEN: z.preprocess(
    blank,
    z.string().min(24, 'METRICS_TOKEN must be at least 24 characters').optional(),
  ),
}

interface ProductionEnv {
  NODE_ENV: string
  CLERK_PUBLISHABLE_KEY: string
  CLERK_PROXY_URL?: string | undefined
  CONSOLE_API_URL?: string | undefined
  CONSOLE_LOCAL_ACCOUNTS: LocalAccount[]
  CONSOLE_DIR?: string | undefined
  METRICS_PORT?: number | undefined
  METRICS_HOST: string
  METRICS_TOKEN?: string | undefined
  AUDIT_PREVIOUS_PUBLIC_KEYS: string[]
}

type AddIssue = (issue: { code: 'custom'; path: string[]; message: string }) => void

/** Problems of these settings in production (fail closed). */
export function productionProblems(env: ProductionEnv, addIssue: AddIssue): void {
  if (env.NODE_ENV !== 'production') return
  if (env.CONSOLE_LOCAL_ACCOUNTS.length > 0)
    addIssue({
      code: 'custom',
      path: ['CONSOLE_LOCAL_ACCOUNTS'],
      message: 'is for the local Clerk server only; production never shows passwords',
    })
  if (env.CLERK_PROXY_URL?.startsWith('http://'))
    addIssue({ code: 'custom', path: ['CLERK_PROXY_URL'], message: 'must use https in production' })
}

/** The publishable key's Frontend API host is the local server's (`pk_test_` + base64(host$)). */
function isLocalKey(key: string): boolean {
  try {
    return (
      Buffer.from(key.replace(/^pk_(test|live)_/, ''), 'base64').toString('utf8') ===
      `${LOCAL_FRONTEND_API_HOST}$`
    )
  } catch {
    return false
  }
}

export function productionSettings(e: ProductionEnv) {
  return {
    /** What `GET /config.json` tells the console (contracts' ConsoleConfigSchema). */
    console: {
      publishableKey: e.CLERK_PUBLISHABLE_KEY,
      // The local server is reached through the same origin's /__clerk (dev, preview, tests).
      proxyUrl: e.CLERK_PROXY_URL ?? (isLocalKey(e.CLERK_PUBLISHABLE_KEY) ? '/__clerk' : null),
      apiUrl: e.CONSOLE_API_URL ?? null,
      localAccounts: e.CONSOLE_LOCAL_ACCOUNTS,
    },
    /** The built console to serve (a directory), or null. */
    consoleDir: e.CONSOLE_DIR ?? null,
    metrics: { port: e.METRICS_PORT ?? null, host: e.METRICS_HOST, token: e.METRICS_TOKEN ?? null },
    /** Public keys (PEM) of earlier AUDIT_SIGNING_KEYs: their checkpoints still verify. */
    auditPreviousPublicKeys: e.AUDIT_PREVIOUS_PUBLIC_KEYS,
  }
}
