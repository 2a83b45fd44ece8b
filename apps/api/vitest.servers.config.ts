import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

const conditions = ['@actas/source', ...defaultServerConditions]

// The second run (`pnpm test:servers`, through test/support/with-servers.ts): the whole suite
// again with DATABASE_URL (a throwaway Postgres cluster) and REDIS_URL set, plus the files in
// test/servers/ that need those servers (faults, two API processes sharing one Redis).
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@actas/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles: ['test/support/require-servers.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
