// STAFF_ORGANIZATIONS resolved through the Clerk adapter against the local Clerk server: slugs and
// ids become ids once, an unknown entry is a 503 (never "one staff organization fewer"), and a
// Clerk outage is a 503 that recovers when Clerk answers again.
import { startClerkLocal, SUPPORT_ORG_SLUG } from '@actas/clerk-local'
import type { ClerkLocal } from '@actas/clerk-local'
import { ActAsError } from '@actas/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../logger.js'
import { ClerkDirectory } from './clerk-directory.js'
import { StaffOrganizations } from './staff-organizations.js'

let clerk: ClerkLocal
let directory: ClerkDirectory
let supportId: string
let globexId: string
const logger = createLogger('silent')

beforeAll(async () => {
  clerk = await startClerkLocal({ port: 0, users: 20, seed: 3 })
  directory = new ClerkDirectory({
    secretKey: clerk.secretKey,
    publishableKey: clerk.publishableKey,
    apiUrl: clerk.url,
    timeoutMs: 3000,
    retryDelaysMs: [],
  })
  const orgs = [...clerk.state.organizations.values()]
  supportId = orgs.find((o) => o.slug === SUPPORT_ORG_SLUG)!.id
  globexId = orgs.find((o) => o.slug === 'globex')!.id
})
afterAll(async () => {
  directory.close()
  await clerk.stop()
})

describe('StaffOrganizations', () => {
  it('resolves slugs and ids to ids, and keeps them (a renamed slug moves nothing)', async () => {
    const staff = new StaffOrganizations({ entries: ['support', globexId], directory, logger })
    expect([...(await staff.ids())].sort()).toEqual([supportId, globexId].sort())
    const support = clerk.state.organizations.get(supportId)!
    support.slug = 'support-renamed'
    try {
      expect(await staff.includes(supportId)).toBe(true)
    } finally {
      support.slug = SUPPORT_ORG_SLUG
    }
  })

  it('answers 503 naming an organization Clerk does not know, instead of dropping it', async () => {
    const staff = new StaffOrganizations({ entries: ['support', 'no-such-org'], directory, logger })
    const error = await staff.ids().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ActAsError)
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    expect((error as Error).message).toContain('no-such-org')
    expect((error as Error).message).toContain('STAFF_ORGANIZATIONS')
  })

  it('answers 503 while Clerk fails, and resolves once it answers again', async () => {
    let now = 0
    const staff = new StaffOrganizations({
      entries: ['support'],
      directory,
      logger,
      retryAfterMs: 1000,
      now: () => now,
    })
    clerk.faults.add({ route: 'GET /v1/organizations/:organization_id', status: 503 })
    try {
      await expect(staff.ids()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    } finally {
      clerk.faults.clear()
    }
    // Within retryAfterMs the failure is answered from memory, without asking Clerk.
    await expect(staff.includes(supportId)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    now += 1000
    expect(await staff.includes(supportId)).toBe(true)
    expect(await staff.includes(globexId)).toBe(false)
  })
})
