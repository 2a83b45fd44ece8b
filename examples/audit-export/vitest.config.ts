import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// Workspace packages are resolved to their TypeScript source (the `@actas/source` export
// condition), so tests never run against a stale build.
const conditions = ['@actas/source', ...defaultServerConditions]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@actas/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
