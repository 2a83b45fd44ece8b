// The membership mirror against the local Clerk server: it pages through every membership of the
// instance (more than one page of 500), agrees with Clerk, and keeps its last load when a reload
// fails.
import { startClerkLocal } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../logger.js'
import { ClerkDirectory } from './clerk-directory.js'
import { MembershipMirror } from './membership-mirror.js'

let clerk: ClerkLocal
let directory: ClerkDirectory

beforeAll(async () => {
  // Every 40th customer joins Globex: 21,000 customers make more than one page of memberships.
  clerk = await startClerkLocal({ port: 0, users: 21_000, seed: 5 })
  directory = new ClerkDirectory({
    secretKey: clerk.secretKey,
    publishableKey: clerk.publishableKey,
    apiUrl: clerk.url,
    timeoutMs: 5000,
    retryDelaysMs: [],
  })
}, 60_000)
afterAll(async () => {
  directory.close()
  await clerk.stop()
})

describe('MembershipMirror', () => {
  it('holds every membership of the instance, by user, after one load', async () => {
    const mirror = new MembershipMirror({ directory, logger: createLogger('silent'), refreshMs: 0 })
    expect(mirror.of('user_x')).toBeUndefined()
    clerk.requests.reset()
    await mirror.refresh()
    const total = clerk.state.memberships.size
    expect(total).toBeGreaterThan(500)
    expect(clerk.requests.snapshot().routes).toEqual({
      'GET /v1/organization_memberships': Math.ceil(total / 500),
    })
    let seen = 0
    for (const user of clerk.state.users.values()) {
      const expected = clerk.state.membershipsOfUser(user.id).map((m) => ({
        organizationId: m.organizationId,
        role: `org:${m.role}`,
      }))
      const got = mirror.of(user.id)!.map((m) => ({
        organizationId: m.organizationId,
        role: m.role,
      }))
      expect(got).toEqual(expect.arrayContaining(expected))
      expect(got).toHaveLength(expected.length)
      seen += got.length
    }
    expect(seen).toBe(total)
  })

  it('keeps the last load when a reload fails', async () => {
    const mirror = new MembershipMirror({ directory, logger: createLogger('silent'), refreshMs: 0 })
    await mirror.refresh()
    const admin = clerk.accounts.find((a) => a.role === 'admin')!
    const before = mirror.of(admin.userId)
    expect(before).toHaveLength(1)
    clerk.faults.add({ route: 'GET /v1/organization_memberships', status: 503 })
    try {
      await expect(mirror.refresh()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    } finally {
      clerk.faults.clear()
    }
    expect(mirror.of(admin.userId)).toEqual(before)
  })
})
