import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

describe('the client entry, imported by a plain Node process', () => {
  let loaded: string[] = []

  beforeAll(() => {
    // Compile first so the process runs the package exactly as another service would (dist).
    execFileSync(
      process.execPath,
      [fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', 'tsconfig.build.json'],
      {
        cwd: root,
      },
    )
    const out = execFileSync(process.execPath, ['test/fixtures/import-client.mjs'], {
      cwd: root,
      encoding: 'utf8',
    })
    loaded = JSON.parse(out) as string[]
  }, 60_000)

  it('loads the client and its schemas', () => {
    expect(loaded.some((url) => url.includes('/packages/contracts/dist/client.js'))).toBe(true)
    expect(loaded.some((url) => url.includes('/@trpc/client/'))).toBe(true)
    expect(loaded.some((url) => url.includes('/zod/'))).toBe(true)
  })

  it.each([
    '/node_modules/fastify/',
    '/node_modules/@clerk/',
    '/node_modules/drizzle-orm/',
    '/node_modules/@electric-sql/',
    '/node_modules/pg/',
    '/node_modules/pino/',
    '/contracts/dist/server.js',
    '/contracts/dist/router/',
  ])('never loads %s', (needle) => {
    expect(loaded.filter((url) => url.includes(needle))).toEqual([])
  })
})
