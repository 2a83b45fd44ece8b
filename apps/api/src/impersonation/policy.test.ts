import { IMPERSONATE_PERMISSION } from '@actas/contracts'
import { describe, expect, it } from 'vitest'
import { evaluateImpersonation } from './policy.js'
import type { PolicyTarget } from './policy.js'

const admin = { userId: 'user_admin', actor: null }
const customer: PolicyTarget = { id: 'user_c', banned: false, locked: false, memberships: [] }
const options = { staffOrganizationIds: new Set(['org_support', 'org_ops']) }

describe('impersonation policy', () => {
  it('allows an ordinary customer', () => {
    expect(evaluateImpersonation(admin, customer, options)).toEqual({
      allowed: true,
      modes: ['read_only', 'full'],
      defaultMode: 'full',
    })
  })

  it('allows members of customer organizations, even one whose role carries the impersonate permission', () => {
    const target = {
      ...customer,
      memberships: [
        { organizationId: 'org_acme', permissions: ['org:sys_memberships:read'] },
        { organizationId: 'org_globex', permissions: [IMPERSONATE_PERMISSION] },
      ],
    }
    expect(evaluateImpersonation(admin, target, options)).toMatchObject({ allowed: true })
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

  describe('modes', () => {
    const readOnly = {
      ...options,
      readOnlyOrganizations: new Map([
        ['org_bank', 'Acme Bank'],
        ['org_health', 'Globex Health'],
      ]),
    }

    it('preselects the configured default for an ordinary customer, and offers both', () => {
      expect(
        evaluateImpersonation(admin, customer, { ...readOnly, defaultMode: 'read_only' }),
      ).toEqual({ allowed: true, modes: ['read_only', 'full'], defaultMode: 'read_only' })
    })

    it('allows only read-only for a member of a read-only organization, and says which', () => {
      const target = {
        ...customer,
        memberships: [{ organizationId: 'org_acme' }, { organizationId: 'org_health' }],
      }
      expect(evaluateImpersonation(admin, target, readOnly)).toEqual({
        allowed: true,
        modes: ['read_only'],
        defaultMode: 'read_only',
        modeReason:
          'Members of Globex Health may only be impersonated read-only (READ_ONLY_ORGANIZATIONS).',
      })
    })

    it('refusals come first: a banned member of a read-only organization is refused', () => {
      const target = { ...customer, banned: true, memberships: [{ organizationId: 'org_bank' }] }
      expect(evaluateImpersonation(admin, target, readOnly)).toMatchObject({
        allowed: false,
        rule: 'banned',
      })
    })
  })
})
