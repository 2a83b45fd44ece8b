// Setup file of vitest.servers.config.ts: this run is meaningless without its servers, so it
// fails (never skips) when they were not provided.
for (const name of ['DATABASE_URL', 'REDIS_URL']) {
  if (!process.env[name])
    throw new Error(
      `${name} is not set: run this suite through \`pnpm --filter @actas/api test:servers\`, ` +
        'which starts a throwaway Postgres and Redis',
    )
}
