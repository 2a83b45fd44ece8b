import { defineConfig, mergeConfig } from 'vitest/config'
import { sourceSsr, testInclude } from '../../vitest.shared.ts'
import viteConfig from './vite.config.ts'

// The console's Vite config plus the workspace preset's Node-side resolution (for the e2e
// harness, which imports workspace packages from their TypeScript source).
export default defineConfig((configEnv) =>
  mergeConfig(viteConfig(configEnv), {
    ssr: sourceSsr,
    test: {
      // Component and store tests run in happy-dom; test/e2e/* opt into node per file.
      environment: 'happy-dom',
      include: testInclude,
    },
  }),
)
