import { mergeConfig } from 'vitest/config'
import preset from '../../vitest.shared.ts'

// The second run (`pnpm test:servers`, through test/support/with-servers.ts), with DATABASE_URL
// (a throwaway Postgres cluster) and REDIS_URL set. It runs only what depends on those engines
// (README, "What runs where"): the files in test/servers/ that need the servers (Postgres
// terminated, restarted and frozen; two API processes sharing one Redis; concurrency), and the
// files whose subject is a store query, a migration, the webhook outbox or the rate limiter's
// storage. Everything else (input validation, authorization, Clerk faults, the process, pure
// units) exercises nothing engine-specific and runs once, on PGlite, in the default run.
export const engineSpecific = [
  'test/servers/**/*.test.ts',
  // the audit store: chain, reads, records, plans, quota, verification, the CLI on a database
  'test/audit-*.test.ts',
  // every procedure's store queries: list filters and cursors, get, the board, the kill switch
  'test/procedures.test.ts',
  'test/lifecycle.test.ts',
  'test/reconciler.test.ts',
  'test/modes.test.ts',
  'test/guard-api.test.ts',
  // the webhook outbox and deliveries
  'test/webhooks.test.ts',
  'test/host-webhooks.test.ts',
  // the database going away under a request (503, never a ticket without its audit row)
  'test/clerk-faults.test.ts',
  // rate limits in Redis instead of memory
  'test/rate-limit.test.ts',
]

// (mergeConfig concatenates arrays: the preset's include, every test file, is left out first.)
const { include: _everything, ...shared } = preset.test ?? {}

export default mergeConfig(
  { ...preset, test: shared },
  {
    test: {
      include: engineSpecific,
      setupFiles: ['test/support/require-servers.ts'],
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  },
)
