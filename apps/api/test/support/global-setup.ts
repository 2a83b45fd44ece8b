// vitest global set-up of every suite that starts the API's test stack (the API, the console,
// the guard): the migrated PGlite template each test database loads (pglite-template.ts). It is
// made by a child process with the API's own resolution (workspace packages from source), so a
// suite whose Vite config resolves them otherwise (the console's) gets the same template.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { templatePath } from './pglite-template.js'

const moduleUrl = import.meta.url
const apiDir = fileURLToPath(new URL('../..', moduleUrl))

export default function setup(project: TestProject): void {
  if (process.env['DATABASE_URL']) return project.provide('pgliteTemplate', null)
  const path = templatePath()
  if (!existsSync(path)) {
    const made = spawnSync(
      process.execPath,
      [
        `${apiDir}node_modules/tsx/dist/cli.mjs`,
        '--conditions=@actas/source',
        'test/support/pglite-template.ts',
      ],
      { cwd: apiDir, encoding: 'utf8' },
    )
    if (made.status !== 0 || !existsSync(path))
      throw new Error(`the PGlite template was not made (${made.status}):\n${made.stderr}`)
  }
  project.provide('pgliteTemplate', path)
}
