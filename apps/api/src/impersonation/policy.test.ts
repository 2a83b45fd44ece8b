import { describe, expect, it } from 'vitest'
import { endCauseOf, judge, MOMENTS, returnRefusalOf, RULES, verdictOf } from './policy.js'
import type { AccessFacts, PolicyFacts } from './policy.js'

const NOW = new Date('2026-12-01T10:00:00.000Z')
const inMinutes = (n: number) => new Date(NOW.getTime() + n * 60_000)

/** Access facts under which nothing is required. */
const noAccessRules = (): AccessFacts => ({
  organizationOff: null,
  consentRequired: null,
  approvalRequired: null,
  approvalOnlyFull: false,
  consentGrant: null,
  approvalGrant: null,
  lapsed: null,
})

const allowedFacts = (): PolicyFacts => ({
  actor: {
    id: 'user_admin',
    machine: false,
    impersonating: false,
    user: { banned: false, locked: false },
    mayImpersonate: true,
  },
  target: {
    id: 'user_c',
    name: 'Casey',
    user: { banned: false, locked: false },
    staff: false,
    readOnlyIn: [],
  },
  return: { enabled: true, secret: 'match', pastCap: false },
})

/** Facts on which exactly `rule` bites (and, for a read-only rule, the impersonation is in full). */
const breaking: Record<string, (f: PolicyFacts) => void> = {
  return_disabled: (f) => (f.return!.enabled = false),
  return_secret_missing: (f) => (f.return!.secret = 'missing'),
  return_secret_mismatch: (f) => (f.return!.secret = 'mismatch'),
  return_past_cap: (f) => (f.return!.pastCap = true),
  machine: (f) => (f.actor.machine = true),
  impersonated_session: (f) => (f.actor.impersonating = true),
  self: (f) => (f.target.id = f.actor.id),
  actor_deleted: (f) => (f.actor.user = null),
  actor_banned: (f) => (f.actor.user = { banned: true, locked: false }),
  actor_locked: (f) => (f.actor.user = { banned: false, locked: true }),
  actor_lost_permission: (f) => (f.actor.mayImpersonate = false),
  target_deleted: (f) => (f.target.user = null),
  staff: (f) => (f.target.staff = true),
  banned: (f) => (f.target.user = { banned: true, locked: false }),
  locked: (f) => (f.target.user = { banned: false, locked: true }),
  read_only_target: (f) => {
    f.target.readOnlyIn = ['Globex']
    f.mode = 'full'
  },
  organization_off: (f) => (f.access = { ...noAccessRules(), organizationOff: 'Initech' }),
  consent_required: (f) =>
    (f.access = { ...noAccessRules(), consentRequired: 'ACCESS_CONSENT_REQUIRED=all' }),
  approval_required: (f) =>
    (f.access = { ...noAccessRules(), approvalRequired: 'members of Initech' }),
  approval_required_full: (f) => {
    f.access = { ...noAccessRules(), approvalRequired: 'full mode', approvalOnlyFull: true }
    f.mode = 'full'
  },
  grant_read_only: (f) => {
    f.access = {
      ...noAccessRules(),
      consentRequired: 'ACCESS_CONSENT_REQUIRED=all',
      consentGrant: { id: 'g1', mode: 'read_only', until: inMinutes(60) },
    }
    f.mode = 'full'
  },
  grant_window: (f) => {
    f.access = {
      ...noAccessRules(),
      consentRequired: 'ACCESS_CONSENT_REQUIRED=all',
      consentGrant: { id: 'g1', mode: 'full', until: inMinutes(10) },
    }
    f.now = NOW
    f.sessionMinutes = 30
  },
}

describe('the policy: one judge', () => {
  it('allows an ordinary customer, both modes, the configured default preselected', () => {
    for (const moment of MOMENTS) expect(judge(moment, allowedFacts()).allowed, moment).toBe(true)
    expect(verdictOf(judge('search', allowedFacts()))).toEqual({
      allowed: true,
      modes: ['read_only', 'full'],
      defaultMode: 'full',
    })
    expect(
      verdictOf(judge('search', allowedFacts(), { defaultMode: 'read_only' })).defaultMode,
    ).toBe('read_only')
  })

  it('every rule answers at every moment it names, and at no other', () => {
    expect(Object.keys(breaking).sort()).toEqual(RULES.map((r) => r.id).sort())
    for (const rule of RULES) {
      const facts = allowedFacts()
      breaking[rule.id]!(facts)
      for (const moment of MOMENTS) {
        const judgement = judge(moment, facts)
        const where = `${rule.id} at ${moment}`
        if (!rule.moments.includes(moment)) {
          expect(judgement.allowed, where).toBe(true)
          continue
        }
        expect(judgement, where).toMatchObject({ allowed: false, by: { id: rule.id } })
        if (moment === 'search' || moment === 'start')
          expect(verdictOf(judgement), where).toMatchObject({
            allowed: false,
            rule: rule.rule,
            reason: expect.stringMatching(/\w{5,}/) as unknown,
          })
        if (moment === 'continuous')
          expect(endCauseOf(judgement), where).toBe(rule.causeOf?.(facts) ?? rule.cause)
        if (moment === 'return') expect(returnRefusalOf(judgement), where).toBe(rule.refusal)
      }
    }
  })

  it("a machine on behalf of a staff member: the actor rules also judge the start (what the person's own token would prove)", () => {
    const onBehalf = RULES.filter((r) => r.onBehalfAt?.includes('start'))
    expect(onBehalf.map((r) => r.id).sort()).toEqual([
      'actor_banned',
      'actor_deleted',
      'actor_locked',
      'actor_lost_permission',
    ])
    for (const rule of onBehalf) {
      const facts = allowedFacts()
      breaking[rule.id]!(facts)
      // In the person's own name these facts are their session token's: not judged at start.
      expect(judge('start', facts).allowed, rule.id).toBe(true)
      facts.actor.via = 'mch_helpdesk'
      const judgement = judge('start', facts)
      expect(judgement.allowed, rule.id).toBe(false)
      if (judgement.allowed) continue
      expect(verdictOf(judgement)).toMatchObject({ allowed: false, rule: 'machine' })
      expect(judgement.reason).toMatch(/^mch_helpdesk acts on behalf of user_admin, who /)
      // Nowhere else does `via` change a verdict.
      expect(judge('search', facts).allowed, rule.id).toBe(true)
    }
    // Every other rule judges a machine's start exactly as the person's.
    const facts = allowedFacts()
    facts.actor.via = 'mch_helpdesk'
    expect(judge('start', facts)).toEqual(judge('start', allowedFacts()))
    // A machine's start needs the person's facts: not gathered, never "allowed".
    const bare: PolicyFacts = {
      ...allowedFacts(),
      actor: { id: 'user_admin', machine: false, impersonating: false, via: 'mch_helpdesk' },
    }
    expect(() => judge('start', bare)).toThrow(/actor\.user/)
  })

  it('a read-only organization limits the modes, and says which organizations', () => {
    const facts = allowedFacts()
    facts.target.readOnlyIn = ['Globex Health']
    expect(verdictOf(judge('search', facts))).toEqual({
      allowed: true,
      modes: ['read_only'],
      defaultMode: 'read_only',
      modeReason:
        'Members of Globex Health may only be impersonated read-only (READ_ONLY_ORGANIZATIONS).',
      modeRule: 'read_only_target',
    })
    // Read-only asked, or running: allowed; full asked at the start: refused, naming the target.
    expect(judge('start', { ...facts, mode: 'read_only' }).allowed).toBe(true)
    expect(judge('continuous', { ...facts, mode: 'read_only' }).allowed).toBe(true)
    expect(verdictOf(judge('start', { ...facts, mode: 'full' }))).toMatchObject({
      allowed: false,
      rule: 'read_only_target',
      reason: expect.stringMatching(
        /^Casey may only be impersonated read-only: Members of Globex Health/,
      ) as unknown,
    })
    expect(endCauseOf(judge('continuous', { ...facts, mode: 'full' }))).toBe(
      'target_became_read_only',
    )
  })

  it('refusals come first: a banned member of a read-only organization is refused', () => {
    const facts = allowedFacts()
    facts.target.readOnlyIn = ['Globex']
    facts.target.user = { banned: true, locked: false }
    expect(verdictOf(judge('search', facts))).toMatchObject({ allowed: false, rule: 'banned' })
  })

  it('a rule whose fact was not gathered refuses to judge (never "allowed")', () => {
    const facts = allowedFacts()
    delete facts.actor.mayImpersonate
    expect(() => judge('continuous', facts)).toThrow(/actor.mayImpersonate/)
  })

  it('consent: refused without a grant, saying which rule and what would allow it; a grant allows within its mode and window', () => {
    const facts = allowedFacts()
    facts.access = {
      ...noAccessRules(),
      consentRequired: 'members of Initech (ACCESS_CONSENT_ORGANIZATIONS)',
    }
    expect(verdictOf(judge('start', facts))).toMatchObject({
      allowed: false,
      rule: 'consent_required',
      reason: expect.stringMatching(
        /^Casey's consent is required \(members of Initech.*request access/,
      ) as unknown,
    })
    facts.access.consentGrant = { id: 'g1', mode: 'read_only', until: inMinutes(60) }
    facts.now = NOW
    // Within the grant: read-only only, at most its window.
    expect(verdictOf(judge('search', facts))).toMatchObject({ allowed: true, modes: ['read_only'] })
    expect(judge('start', { ...facts, mode: 'read_only', sessionMinutes: 30 }).allowed).toBe(true)
    expect(verdictOf(judge('start', { ...facts, mode: 'full', sessionMinutes: 30 }))).toMatchObject(
      {
        allowed: false,
        rule: 'grant_exceeded',
      },
    )
    expect(
      verdictOf(judge('start', { ...facts, mode: 'read_only', sessionMinutes: 61 })),
    ).toMatchObject({
      allowed: false,
      rule: 'grant_exceeded',
      reason: expect.stringMatching(/ask for at most 60 minutes/) as unknown,
    })
  })

  it('a live impersonation whose grant is gone ends with the cause of its going', () => {
    const facts = allowedFacts()
    facts.mode = 'read_only'
    facts.access = {
      ...noAccessRules(),
      consentRequired: 'ACCESS_CONSENT_REQUIRED=all',
      lapsed: 'expired',
    }
    expect(endCauseOf(judge('continuous', facts))).toBe('access_expired')
    facts.access.lapsed = 'revoked'
    expect(endCauseOf(judge('continuous', facts))).toBe('access_revoked')
    facts.access = { ...noAccessRules(), organizationOff: 'Initech' }
    expect(endCauseOf(judge('continuous', facts))).toBe('organization_off')
  })

  it('approval only for full: read-only allowed without it, full refused naming the rule', () => {
    const facts = allowedFacts()
    facts.access = { ...noAccessRules(), approvalRequired: 'full mode', approvalOnlyFull: true }
    expect(verdictOf(judge('search', facts))).toMatchObject({
      allowed: true,
      modes: ['read_only'],
      modeRule: 'approval_required',
    })
    // A second read-only rule too: approval alone would not lift it, so no rule is named.
    const alsoReadOnly = { ...facts, target: { ...facts.target, readOnlyIn: ['Globex'] } }
    expect(verdictOf(judge('search', alsoReadOnly)).modeRule).toBeUndefined()
    expect(verdictOf(judge('start', { ...facts, mode: 'full' }))).toMatchObject({
      allowed: false,
      rule: 'approval_required',
    })
    facts.access.approvalGrant = { id: 'g2', mode: 'full', until: inMinutes(60) }
    expect(judge('start', { ...facts, mode: 'full' }).allowed).toBe(true)
  })
})
