// The console's settings, served by the API at run time (`GET /config.json`) from its validated
// configuration, so one build of the console runs in every environment. The console reads the
// document without zod (first-route size); the API validates what it serves with this schema.
import { z } from 'zod'

export const LocalAccountSchema = z.object({
  role: z.string().min(1),
  identifier: z.string().min(1),
  password: z.string().min(1),
})

export const ConsoleConfigSchema = z.object({
  /** The Clerk instance's publishable key (not a secret). */
  publishableKey: z.string().regex(/^pk_(test|live)_[A-Za-z0-9+/=_-]+$/),
  /** clerk-js `proxyUrl`: a path (`/__clerk`) or an http(s) URL; null: Clerk's own FAPI host. */
  proxyUrl: z
    .string()
    .regex(/^(\/[^/\\]|https?:\/\/)/)
    .nullable(),
  /** The API's tRPC endpoint: a path (`/trpc`) or an http(s) URL; null: `<base>trpc`. */
  apiUrl: z
    .string()
    .regex(/^(\/|https?:\/\/)/)
    .nullable(),
  /** Seeded staff accounts for the sign-in picker (never in production). */
  localAccounts: z.array(LocalAccountSchema),
})
export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>
export type LocalAccount = z.infer<typeof LocalAccountSchema>
