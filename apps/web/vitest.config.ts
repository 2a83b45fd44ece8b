import { defineConfig, mergeConfig } from 'vitest/config'
import { sourceSsr } from '../../vitest.shared.ts'
import viteConfig from './vite.config.ts'

// The console's Vite config plus the workspace preset's Node-side resolution (for the e2e
// harness, which imports workspace packages from their TypeScript source). Two projects, run
// by two turbo tasks (`test` and `test:e2e`) so the test command can run them beside other
// packages' suites instead of one after the other (docs/benchmarks.md, "Test command timing");
// `npx vitest run` here runs both.
const API_GLOBAL_SETUP = '../api/test/support/global-setup.ts'

export default defineConfig((configEnv) =>
  mergeConfig(viteConfig(configEnv), {
    ssr: sourceSsr,
    test: {
      // Files share a worker's modules (no re-import of the console, the API and the Clerk SDKs
      // per file: a third of the component suite's time, measured in docs/benchmarks.md); each
      // still gets its own DOM environment, stack and Pinia, and restores what it changes (the
      // harness's fetch route, fake timers).
      isolate: false,
      testTimeout: 30_000,
      hookTimeout: 90_000,
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            include: ['src/**/*.test.ts'],
            // Component and store tests run in happy-dom, each file over its own API (called
            // in-process, test/support/harness.ts) and local Clerk server; its database loads
            // the API suite's migrated PGlite template.
            environment: 'happy-dom',
            // The page is at the console's origin (the API's authorized party, the tokens'
            // `azp`); its fetch reaches the in-process API and local Clerk server on other
            // loopback ports.
            environmentOptions: {
              happyDOM: {
                url: 'http://localhost:5173',
                settings: { fetch: { disableSameOriginPolicy: true } },
              },
            },
            globalSetup: [API_GLOBAL_SETUP],
          },
        },
        {
          extends: true,
          test: {
            name: 'e2e',
            include: ['test/**/*.test.ts'],
            environment: 'node',
            // One Chromium for the run, which the e2e files connect to (test/support/e2e.ts).
            globalSetup: [API_GLOBAL_SETUP, 'test/support/browser-setup.ts'],
          },
        },
      ],
    },
  }),
)
