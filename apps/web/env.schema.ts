// The console's build-time configuration (VITE_* variables), validated with zod when Vite
// loads its config: a bad value fails `vite`/`vite build` with a clear message instead of
// shipping a broken console. src/env.ts reads the (then known-good) values at run time
// without zod, which keeps ~20 KB gzipped of validator out of the first route.
import { z } from 'zod'

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)

const LocalAccountsSchema = z.array(
  z.object({ role: z.string().min(1), identifier: z.string().min(1), password: z.string().min(1) }),
)

export const WebEnvSchema = z.object({
  VITE_CLERK_PUBLISHABLE_KEY: z.preprocess(
    blank,
    z
      .string()
      .regex(/^pk_(test|live)_[A-Za-z0-9+/=_-]+$/, 'must look like pk_test_… or pk_live_…')
      .optional(),
  ),
  VITE_CLERK_PROXY_URL: z.preprocess(
    blank,
    z
      .string()
      .regex(/^(\/[^/\\]|https?:\/\/)/, 'must be a path (/__clerk) or an http(s) URL')
      .optional(),
  ),
  VITE_API_URL: z.preprocess(
    blank,
    z
      .string()
      .regex(/^(\/|https?:\/\/)/, 'must be a path (/trpc) or an http(s) URL')
      .optional(),
  ),
  VITE_LOCAL_ACCOUNTS: z.preprocess(
    blank,
    z
      .string()
      .refine((v) => {
        try {
          return LocalAccountsSchema.safeParse(JSON.parse(v)).success
        } catch {
          return false
        }
      }, 'must be a JSON array of { role, identifier, password }')
      .optional(),
  ),
})

export function validateWebEnv(env: Record<string, string | undefined>): void {
  const parsed = WebEnvSchema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`)
    throw new Error(`Invalid console configuration (see apps/web/README.md):\n${lines.join('\n')}`)
  }
}
