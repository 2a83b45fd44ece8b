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
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    },
  }),
)
