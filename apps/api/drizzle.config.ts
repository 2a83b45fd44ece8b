import { defineConfig } from 'drizzle-kit'

// `pnpm db:generate` writes SQL migrations to ./drizzle from the schema; they are committed
// and applied at start-up (src/audit/db.ts), on PGlite and on a Postgres server alike.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/audit/schema.ts', './src/access/schema.ts'],
  out: './drizzle',
})
