// Small things that were wrong: request ids, forged cursors, cookies, the embedded database's
// file modes, and the monthly quota in block mode.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../src/index.js'
import { actasCode, callRaw, startStack } from './support/stack.js'
import { useAdminStack } from './support/use-admin-stack.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const file = useAdminStack({ limits: 'default' })

describe('x-request-id', () => {
  it('is used only when it matches the pattern (≤ 64 characters); otherwise a fresh id', async () => {
    const send = async (id: string) =>
      (await file.stack.app.inject({ url: '/healthz', headers: { 'x-request-id': id } })).headers[
        'x-request-id'
      ]
    expect(await send('req-1234_abcd.ef')).toBe('req-1234_abcd.ef')
    for (const bad of [
      `<script>alert(1)</script>${'a'.repeat(3000)}`,
      'a'.repeat(65),
      'short',
      'has space in it',
    ])
      expect(await send(bad)).toMatch(UUID)
  })
})

describe('impersonation.list cursors', () => {
  it('answers 400 to a forged cursor, never a 500', async () => {
    const token = await file.admin.token()
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    for (const cursor of [
      forge(['2026-01-01T00:00:00.000Z', '-'.repeat(36)]),
      forge(['+275760-09-13T00:00:00.000Z', '00000000-0000-4000-8000-000000000000']),
      forge(['-271821-04-20T00:00:00.000Z', '00000000-0000-4000-8000-000000000000']),
      forge(['2026-01-01', 'ffffffff-ffff-ffff-ffff-ffffffffffff-']),
      forge([0, 1]),
      'not a cursor at all',
    ]) {
      const res = await callRaw(file.stack.app, 'impersonation.list', {
        type: 'query',
        token,
        input: { cursor },
      })
      expect({ status: res.status, code: actasCode(res) }).toEqual({
        status: 400,
        code: 'INVALID_INPUT',
      })
    }
  })
})

describe('Bearer only', () => {
  it('refuses a Clerk session cookie without a Bearer header: 401, never a 307', async () => {
    const token = await file.admin.token()
    const res = await file.stack.app.inject({
      method: 'GET',
      url: '/trpc/me',
      headers: {
        cookie: `__session=${token}; __client_uat=${Math.floor(Date.now() / 1000)}`,
        accept: 'text/html',
        'sec-fetch-dest': 'document',
      },
    })
    expect(res.statusCode).toBe(401)
    expect(res.headers['location']).toBeUndefined()
  })
})

describe('the embedded database directory', () => {
  it('is created 0700 and its files are 0600', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'actas-mode-'))
    const dataDir = join(parent, 'pglite')
    const modes = () => {
      const found = { dirs: new Set<string>(), files: new Set<string>() }
      const walk = (dir: string) => {
        found.dirs.add((statSync(dir).mode & 0o777).toString(8))
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name)
          if (entry.isDirectory()) walk(path)
          else found.files.add((statSync(path).mode & 0o777).toString(8))
        }
      }
      walk(dataDir)
      return { dirs: [...found.dirs], files: [...found.files] }
    }
    try {
      const db = await openDatabase({ kind: 'pglite', dataDir })
      expect(modes()).toEqual({ dirs: ['700'], files: ['600'] })
      await db.close()
      expect(modes()).toEqual({ dirs: ['700'], files: ['600'] })
    } finally {
      rmSync(parent, { recursive: true, force: true })
    }
  }, 90_000)
})

describe('IMPERSONATION_QUOTA_MODE=block', () => {
  it('lets exactly the last slot through when starts race for it, before asking Clerk for the others', async () => {
    const quota = await startStack({
      env: {
        IMPERSONATION_QUOTA: '2',
        IMPERSONATION_QUOTA_MODE: 'block',
        RATE_LIMIT_START_PER_MINUTE: '100',
      },
    })
    try {
      const staff = await quota.signIn('admin')
      const token = await staff.token()
      const [first, ...others] = quota.customers()
      const start = (userId: string) =>
        callRaw(quota.app, 'impersonation.start', {
          type: 'mutation',
          token,
          input: { userId, reason: 'Quota race, block mode' },
        })
      expect((await start(first!.id)).status).toBe(200)
      // One slot left; eight starts race for it.
      const race = await Promise.all(others.slice(0, 8).map((u) => start(u.id)))
      const statuses = race.map((r) => r.status).sort()
      expect(statuses).toEqual([200, 402, 402, 402, 402, 402, 402, 402])
      for (const r of race.filter((x) => x.status === 402))
        expect(actasCode(r)).toBe('QUOTA_EXCEEDED')
      // Clerk was asked for exactly the two tickets handed out.
      expect(quota.clerk.state.actorTokens.size).toBe(2)
      const q = await quota.client(() => token).quota.query()
      expect(q).toMatchObject({ used: 2, limit: 2, remaining: 0 })
    } finally {
      await quota.close()
    }
  })

  it('only warns by default: starts past the limit still get a ticket', async () => {
    const quota = await startStack({
      env: { IMPERSONATION_QUOTA: '1', RATE_LIMIT_START_PER_MINUTE: '100' },
    })
    try {
      const token = await (await quota.signIn('admin')).token()
      const [a, b] = quota.customers()
      for (const user of [a!, b!]) {
        const res = await callRaw(quota.app, 'impersonation.start', {
          type: 'mutation',
          token,
          input: { userId: user.id, reason: 'Quota warn mode, past the limit' },
        })
        expect(res.status).toBe(200)
      }
    } finally {
      await quota.close()
    }
  })
})
