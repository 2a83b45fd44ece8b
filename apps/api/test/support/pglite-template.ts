// A migrated PGlite data directory, dumped once and loaded by every test database: a fresh
// PGlite runs initdb (seconds, most of a stack's start), loading a dump skips it. The dump is
// made for the vitest global set-up (global-setup.ts, which runs this file as a script) and
// found by the workers through `inject('pgliteTemplate')`; outside vitest (benches) every
// database is created fresh.
import type { PGlite } from '@electric-sql/pglite'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// (Not `new URL('…', import.meta.url)` inline: Vite rewrites that form into an asset URL when
// the console's tests load this module.)
const moduleUrl = import.meta.url
const migrations = fileURLToPath(new URL('../../drizzle', moduleUrl))

/** The dump's file: keyed by the migrations and PGlite's version, so a change makes a new one. */
export function templatePath(): string {
  const hash = createHash('sha256')
  const pglite = JSON.parse(
    readFileSync(
      new URL('../../node_modules/@electric-sql/pglite/package.json', moduleUrl),
      'utf8',
    ),
  ) as { version: string }
  hash.update(pglite.version)
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else hash.update(entry.name).update(readFileSync(path))
    }
  }
  walk(migrations)
  return join(tmpdir(), `actas-pglite-template-${hash.digest('hex').slice(0, 16)}.tar`)
}

/**
 * Writes the template (unless this version of it exists already: the API, console and guard
 * suites of one test command share it) and returns its path.
 */
export async function ensurePgliteTemplate(): Promise<string> {
  const path = templatePath()
  if (existsSync(path)) return path
  const { openDatabase } = await import('../../src/audit/db.js')
  const opened = await openDatabase({ kind: 'pglite', dataDir: undefined })
  try {
    const client = (opened.db as unknown as { $client: PGlite }).$client
    // Uncompressed (41 MB in the temporary folder): a database loads it in ~0.45 s, the gzipped
    // dump (4.7 MB) in ~0.8 s, and a test run opens a hundred of them (docs/benchmarks.md).
    const dump = await client.dumpDataDir('none')
    // Written aside, then renamed: a concurrent run never reads half a file.
    const partial = `${path}.${process.pid}.partial`
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()))
    renameSync(partial, path)
  } finally {
    await opened.close()
  }
  return path
}

let loaded: Promise<Blob | undefined> | undefined

/** The template as a Blob for `loadDataDir`, or undefined outside vitest's global set-up. */
export function pgliteTemplate(): Promise<Blob | undefined> {
  return (loaded ??= (async () => {
    if (!process.env['VITEST']) return undefined
    const { inject } = await import('vitest')
    const path = inject('pgliteTemplate')
    if (!path) return undefined
    return new Blob([readFileSync(path)])
  })())
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the migrated PGlite dump (global-setup.ts), or null on a Postgres run. */
    pgliteTemplate: string | null
  }
}

// As a script (`tsx --conditions=@actas/source pglite-template.ts`): writes it, prints the path.
if (process.argv[1] && fileURLToPath(moduleUrl) === process.argv[1])
  process.stdout.write(`${await ensurePgliteTemplate()}\n`)
