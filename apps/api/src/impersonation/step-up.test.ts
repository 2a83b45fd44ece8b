import { reverificationHint } from '@actas/contracts'
import { createCheckAuthorization } from '@clerk/shared/authorization'
import { isReverificationHint, reverificationError } from '@clerk/shared/authorization-errors'
import { describe, expect, it } from 'vitest'
import { firstFactorIsRecent, requireRecentFirstFactor } from './step-up.js'

/** Clerk's own verdict: `has({ reverification: { level: 'first_factor', afterMinutes } })`. */
function clerkSays(fva: [number, number] | null, afterMinutes: number): boolean {
  return createCheckAuthorization({
    userId: 'user_staff',
    orgId: 'org_support',
    orgRole: 'org:admin',
    orgPermissions: ['org:admin:impersonate'],
    factorVerificationAge: fva,
    features: null,
    plans: null,
  })({ reverification: { level: 'first_factor', afterMinutes } })
}

describe('step-up', () => {
  it("decides as Clerk's has({ reverification: first_factor }) does, for every age", () => {
    const ages = [-1, 0, 1, 9, 10, 11, 30, 1439, 1440, 100_000]
    for (const afterMinutes of [1, 10, 60, 1440])
      for (const first of ages)
        for (const second of [-1, 0, 5, 20]) {
          const fva: [number, number] = [first, second]
          expect(
            firstFactorIsRecent(fva, afterMinutes),
            JSON.stringify({ fva, afterMinutes }),
          ).toBe(clerkSays(fva, afterMinutes))
        }
    // Malformed or missing fva: never recent (Clerk: "fail").
    for (const fva of [null, [Number.NaN, -1], [-2, -1], [5]] as never[])
      expect(firstFactorIsRecent(fva, 10)).toBe(false)
  })

  it("refuses with Clerk's reverification error shape, which Clerk's isReverificationHint knows", () => {
    let thrown: unknown
    try {
      requireRecentFirstFactor([25, -1], 10)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({
      code: 'REVERIFICATION_REQUIRED',
      reverification: { level: 'first_factor', afterMinutes: 10 },
    })
    const requirement = { level: 'first_factor', afterMinutes: 10 } as const
    // contracts writes the hint by hand (it never imports Clerk): exactly Clerk's.
    expect(reverificationHint(requirement)).toEqual(reverificationError(requirement))
    expect(isReverificationHint(reverificationHint(requirement))).toBe(true)
    expect(() => requireRecentFirstFactor([3, -1], 10)).not.toThrow()
    // off (outside production only: config refuses it there)
    expect(() => requireRecentFirstFactor(null, null)).not.toThrow()
  })
})
