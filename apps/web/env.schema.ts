// The console has no build-time settings any more: it reads them from the API at load
// (`GET /config.json`, src/env.ts), so one build runs in every environment. A build or dev
// server given one of the former VITE_* variables fails with where the setting went, instead
// of silently ignoring it.
const MOVED: Record<string, string> = {
  VITE_CLERK_PUBLISHABLE_KEY: "the API's CLERK_PUBLISHABLE_KEY",
  VITE_CLERK_PROXY_URL: "the API's CLERK_PROXY_URL",
  VITE_API_URL: "the API's CONSOLE_API_URL",
  VITE_LOCAL_ACCOUNTS: "the API's CONSOLE_LOCAL_ACCOUNTS (never in production)",
}

export function validateWebEnv(env: Record<string, string | undefined>): void {
  const lines = Object.entries(MOVED)
    .filter(([name]) => (env[name] ?? '').trim() !== '')
    .map(([name, where]) => `  - ${name} is no longer read: set ${where}`)
  if (lines.length > 0)
    throw new Error(
      `The console reads its settings from the API at load (see apps/web/README.md):\n${lines.join('\n')}`,
    )
}
