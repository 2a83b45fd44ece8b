import { defaultServerConditions } from 'vite'
import { defineConfig, mergeConfig } from 'vitest/config'
import viteConfig from './vite.config.ts'

// Node-side code (the e2e harness) resolves workspace packages to their TypeScript source too.
const serverConditions = ['@actas/source', ...defaultServerConditions]

export default defineConfig((configEnv) =>
  mergeConfig(viteConfig(configEnv), {
    ssr: { resolve: { conditions: serverConditions, externalConditions: ['@actas/source'] } },
    test: {
      // Component and store tests run in happy-dom; test/e2e/* opt into node per file.
      environment: 'happy-dom',
      // The page is at the console's origin (the API's authorized party, the tokens' `azp`); its
      // fetch reaches the in-process API and local Clerk server on other loopback ports.
      environmentOptions: {
        happyDOM: {
          url: 'http://localhost:5173',
          settings: { fetch: { disableSameOriginPolicy: true } },
        },
      },
      // Each test file starts its own API (PGlite) and local Clerk server.
      testTimeout: 30_000,
      hookTimeout: 90_000,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    },
  }),
)
