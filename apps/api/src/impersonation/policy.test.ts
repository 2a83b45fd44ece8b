import { IMPERSONATE_PERMISSION } from '@actas/contracts'
import { describe, expect, it } from 'vitest'
import { evaluateImpersonation } from './policy.js'
import type { PolicyTarget } from './policy.js'

const admin = { userId: 'user_admin', actor: null }
const customer: PolicyTarget = { id: 'user_c', banned: false, locked: false, memberships: [] }
const options = { staffOrganizationIds: new Set(['org_support', 'org_ops']) }

describe('impersonation policy', () => {
  it('allows an ordinary customer', () => {
    expect(evaluateImpersonation(admin, customer, options)).toEqual({ allowed: true })
  })

  it('allows members of customer organizations, even one whose role carries the impersonate permission', () => {
    const target = {
      ...customer,
      memberships: [
        { organizationId: 'org_acme', permissions: ['org:sys_memberships:read'] },
        { organizationId: 'org_globex', permissions: [IMPERSONATE_PERMISSION] },
      ],
    }
    expect(evaluateImpersonation(admin, target, options)).toEqual({ allowed: true })
  })

  it.each([
    ['self', admin, { ...customer, id: 'user_admin' }],
    ['staff', admin, { ...customer, memberships: [{ organizationId: 'org_support' }] }],
    // Any staff organization, any role.
    ['staff', admin, { ...customer, memberships: [{ organizationId: 'org_ops' }] }],
    [
      'staff',
      admin,
      { ...customer, memberships: [{ organizationId: 'org_acme' }, { organizationId: 'org_ops' }] },
    ],
    ['banned', admin, { ...customer, banned: true }],
    ['locked', admin, { ...customer, locked: true }],
    [
      'impersonated_session',
      { ...admin, actor: { sub: 'user_x', impersonationId: null, reason: null, mode: 'full' } },
      customer,
    ],
  ] as const)('refuses with rule %s', (rule, actor, target) => {
    const verdict = evaluateImpersonation(actor, target, options)
    expect(verdict.allowed).toBe(false)
    expect(verdict.rule).toBe(rule)
    expect(verdict.reason).toMatch(/\w{5,}/)
  })
})
