import { __experimental_JWTPayloadToAuthObjectProperties as toAuthProperties } from '@clerk/shared/jwtPayloadParser'
import { createCheckAuthorization } from '@clerk/shared/authorization'
import { describe, expect, it } from 'vitest'
import { encodeOrgPermissions, mintSessionToken } from '../src/session-token.js'
import { createSigningKey } from '../src/jwt.js'
import { ClerkState } from '../src/state.js'
import type { Session } from '../src/model.js'

// The v2 organization claims must decode, with Clerk's own parser, to exactly the permission
// set the role holds, for any set: several features, many permissions, shared names.

const key = createSigningKey()

function decodeWithClerk(permissions: string[]) {
  const state = new ClerkState(() => 1_700_000_000_000)
  state.organizations.set('org_1', {
    id: 'org_1',
    name: 'Org',
    slug: 'org',
    roles: { custom: permissions },
    createdAt: 0,
    updatedAt: 0,
  })
  state.memberships.set('mem_1', {
    id: 'mem_1',
    organizationId: 'org_1',
    userId: 'user_1',
    role: 'custom',
    createdAt: 0,
    updatedAt: 0,
  })
  const session: Session = {
    id: 'sess_1',
    clientId: 'client_1',
    userId: 'user_1',
    status: 'active',
    actor: null,
    lastActiveOrganizationId: 'org_1',
    expireAt: 2e12,
    abandonAt: 2e12,
    lastActiveAt: 0,
    firstFactorVerifiedAt: 1_700_000_000_000,
    createdAt: 1_700_000_000_000,
    updatedAt: 0,
  }
  const jwt = mintSessionToken(
    { state, signingKey: key, issuer: 'https://x.clerk.accounts.dev' },
    session,
    undefined,
  )
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >
  return { claims, auth: toAuthProperties(claims as never) }
}

describe('v2 organization claims', () => {
  it('encodes one permission as fea o:admin, per impersonate, fpm 1', () => {
    const { claims, auth } = decodeWithClerk(['org:admin:impersonate'])
    expect(claims).toMatchObject({
      v: 2,
      fea: 'o:admin',
      o: { id: 'org_1', rol: 'custom', slg: 'org', per: 'impersonate', fpm: '1' },
    })
    expect(auth.orgPermissions).toEqual(['org:admin:impersonate'])
    const has = createCheckAuthorization({
      userId: 'user_1',
      orgId: auth.orgId,
      orgRole: auth.orgRole,
      orgPermissions: auth.orgPermissions,
      factorVerificationAge: null,
      features: null,
      plans: null,
    })
    expect(has({ permission: 'org:admin:impersonate' })).toBe(true)
    expect(has({ permission: 'org:admin:manage' })).toBe(false)
  })

  it('round-trips any permission set through Clerk’s parser (many features, > 53 bits, shared names)', () => {
    const many = Array.from({ length: 70 }, (_, i) => `org:big:p${i}`)
    const sets = [
      [
        'org:admin:impersonate',
        'org:admin:manage',
        'org:tickets:read',
        'org:tickets:manage',
        'org:billing:read',
      ],
      ['org:tickets:read', 'org:admin:read'],
      many,
      [],
    ]
    for (const permissions of sets) {
      const { auth } = decodeWithClerk(permissions)
      expect([...(auth.orgPermissions ?? [])].sort()).toEqual([...permissions].sort())
    }
  })

  it('leaves out system permissions and keys it cannot express', () => {
    expect(
      encodeOrgPermissions([
        'org:sys_memberships:read',
        'admin:impersonate',
        'org:admin:impersonate',
      ]),
    ).toEqual({ features: ['admin'], per: ['impersonate'], fpm: ['1'] })
    const { claims, auth } = decodeWithClerk(['org:sys_profile:manage'])
    expect(claims.fea).toBeUndefined()
    expect(auth.orgId).toBe('org_1')
    expect(auth.orgPermissions).toEqual([])
  })
})
