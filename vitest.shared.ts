// The one vitest preset of the workspace. Each package's vitest.config.ts re-exports it
// (apps/web merges its parts into its Vite config). Workspace packages are resolved to their
// TypeScript source (the `@actas/source` export condition), so tests never run against a
// stale build.
import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

const conditions = ['@actas/source', ...defaultServerConditions]

/** Node-side resolution (vitest runs tests through Vite's SSR pipeline). */
export const sourceSsr = { resolve: { conditions, externalConditions: ['@actas/source'] } }

export const testInclude = ['src/**/*.test.ts', 'test/**/*.test.ts']

export default defineConfig({
  resolve: { conditions },
  ssr: sourceSsr,
  test: {
    include: testInclude,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A worker's files share its modules (no re-import of the API, the Clerk SDKs, PGlite and
    // the local server per file); each file still starts its own stack and restores what it
    // changes. 12 API files, one worker: 56 s → 26 s wall, 54 s → 30 s CPU (docs/benchmarks.md,
    // "Test command timing").
    isolate: false,
  },
})
