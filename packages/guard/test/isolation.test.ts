// The core entry, imported by a plain Node process, loads the contracts' client and
// @clerk/backend, never Fastify (the plugin is `@actas/guard/fastify`). Same method as
// contracts' client isolation test: a module-load hook records every URL.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'))

describe('the core entry, imported by a plain Node process', () => {
  let loaded: string[] = []

  beforeAll(() => {
    // Compile contracts and the guard so the process runs them as another service would (dist).
    for (const dir of ['../contracts', '.'])
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
        cwd: fileURLToPath(new URL(dir, new URL('..', import.meta.url))),
      })
    const out = execFileSync(process.execPath, ['test/fixtures/import-core.mjs'], {
      cwd: root,
      encoding: 'utf8',
    })
    loaded = JSON.parse(out) as string[]
  }, 300_000)

  it('loads the guard, the contracts client and @clerk/backend', () => {
    expect(loaded.some((url) => url.includes('/packages/guard/dist/index.js'))).toBe(true)
    expect(loaded.some((url) => url.includes('/packages/contracts/dist/client.js'))).toBe(true)
    expect(loaded.some((url) => url.includes('/@clerk/backend/'))).toBe(true)
  })

  it.each([
    '/node_modules/fastify/',
    '/node_modules/fastify-plugin/',
    '/node_modules/@fastify/',
    '/node_modules/@clerk/fastify/',
    '/node_modules/drizzle-orm/',
    '/node_modules/pino/',
    '/guard/dist/fastify.js',
    '/contracts/dist/server.js',
    '/contracts/dist/router/',
  ])('never loads %s', (needle) => {
    expect(loaded.filter((url) => url.includes(needle))).toEqual([])
  })
})
