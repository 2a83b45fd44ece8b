// vitest global set-up of every suite that starts the API's test stack (the API, the console,
// the guard): the migrated PGlite template each test database loads (pglite-template.ts).
import type { TestProject } from 'vitest/node'
import { ensurePgliteTemplate } from './pglite-template.js'

export default async function setup(project: TestProject): Promise<void> {
  project.provide(
    'pgliteTemplate',
    process.env['DATABASE_URL'] ? null : await ensurePgliteTemplate(),
  )
}
