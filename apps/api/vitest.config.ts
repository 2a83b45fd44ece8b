import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// Workspace packages are resolved to their TypeScript source (the `@actas/source` export
// condition), so tests never run against a stale build.
const conditions = ['@actas/source', ...defaultServerConditions]

// The default run: the whole suite on embedded PGlite, limits in memory. `test/servers/` holds
// the files that need a real Postgres and Redis; vitest.servers.config.ts runs them with the
// whole suite again (`pnpm test:servers`).
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@actas/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/servers/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
