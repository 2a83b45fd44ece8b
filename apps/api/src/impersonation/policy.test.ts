import { IMPERSONATE_PERMISSION } from '@actas/contracts'
import { describe, expect, it } from 'vitest'
import { evaluateImpersonation } from './policy.js'
import type { PolicyTarget } from './policy.js'

const admin = { userId: 'user_admin', orgId: 'org_support', actor: null }
const customer: PolicyTarget = { id: 'user_c', banned: false, locked: false, memberships: [] }
const options = { staffOrganizationIds: [] }

describe('impersonation policy', () => {
  it('allows an ordinary customer', () => {
    expect(evaluateImpersonation(admin, customer, options)).toEqual({ allowed: true })
  })

  it('allows members of customer organizations', () => {
    const target = {
      ...customer,
      memberships: [{ organizationId: 'org_acme', permissions: ['org:sys_memberships:read'] }],
    }
    expect(evaluateImpersonation(admin, target, options).allowed).toBe(true)
  })

  it.each([
    ['self', admin, { ...customer, id: 'user_admin' }],
    [
      'staff',
      admin,
      { ...customer, memberships: [{ organizationId: 'org_support', permissions: [] }] },
    ],
    [
      'staff',
      admin,
      {
        ...customer,
        memberships: [{ organizationId: 'org_other', permissions: [IMPERSONATE_PERMISSION] }],
      },
    ],
    ['banned', admin, { ...customer, banned: true }],
    ['locked', admin, { ...customer, locked: true }],
    [
      'impersonated_session',
      { ...admin, actor: { sub: 'user_x', impersonationId: null, reason: null } },
      customer,
    ],
  ] as const)('refuses with rule %s', (rule, actor, target) => {
    const verdict = evaluateImpersonation(actor, target, options)
    expect(verdict.allowed).toBe(false)
    expect(verdict.rule).toBe(rule)
    expect(verdict.reason).toMatch(/\w{5,}/)
  })

  it('treats configured staff organizations as staff even when the actor acts from another', () => {
    const target = { ...customer, memberships: [{ organizationId: 'org_ops', permissions: [] }] }
    expect(evaluateImpersonation(admin, target, { staffOrganizationIds: ['org_ops'] }).rule).toBe(
      'staff',
    )
  })
})
