import { mergeConfig } from 'vitest/config'
import preset from '../../vitest.shared.ts'

// The default run: the workspace preset, the whole suite on embedded PGlite, limits in memory.
// Every test database loads one migrated PGlite template (test/support/global-setup.ts).
// `test/servers/` holds the files that need a real Postgres and Redis;
// vitest.servers.config.ts runs them with the whole suite again (`pnpm test:servers`).
export default mergeConfig(preset, {
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    exclude: ['test/servers/**', '**/node_modules/**'],
  },
})
