import { describe, expect, it } from 'vitest'
import type { LocalUser } from '../src/model.js'
import {
  accountSummaries,
  IMPERSONATE_PERMISSION,
  SEEDED_PASSWORDS,
  seedState,
} from '../src/seed.js'
import { ClerkState, verifyPassword } from '../src/state.js'

const NOW = Date.UTC(2026, 8, 1)
const YEAR = 365 * 86_400_000

function seeded(users: number, seed: number) {
  const state = new ClerkState(() => NOW)
  const result = seedState(state, { users, seed, baseUrl: 'http://127.0.0.1:4100' })
  return { state, result }
}

const fingerprint = (u: LocalUser) => ({
  id: u.id,
  name: `${u.firstName} ${u.lastName}`,
  emails: u.emailAddresses.map((e) => `${e.id}:${e.emailAddress}`),
  phones: u.phoneNumbers.map((p) => p.phoneNumber),
  username: u.username,
  externalId: u.externalId,
  createdAt: u.createdAt,
})

describe('seed', () => {
  it('same seed, same users; another seed, other users', () => {
    const a = seeded(300, 5)
    const b = seeded(300, 5)
    const c = seeded(300, 6)
    expect([...a.state.users.values()].map(fingerprint)).toEqual(
      [...b.state.users.values()].map(fingerprint),
    )
    expect(a.state.accounts.map((x) => x.userId)).toEqual(b.state.accounts.map((x) => x.userId))
    const idsA = new Set(a.state.users.keys())
    expect([...c.state.users.keys()].filter((id) => idsA.has(id))).toEqual([])
  })

  it('creates Support with an admin role holding org:admin:impersonate, Ada and Grace as admins, Sam as member', () => {
    const { state, result } = seeded(10, 1)
    const support = result.supportOrganization
    expect(support).toMatchObject({
      name: 'Support',
      slug: 'support',
      roles: { admin: [IMPERSONATE_PERMISSION], member: [] },
    })
    const admin = state.accounts.find((a) => a.role === 'admin')!
    const agent = state.accounts.find((a) => a.role === 'agent')!
    expect(admin.identifier).toBe('ada@support.actas.test')
    expect(agent.identifier).toBe('sam@support.actas.test')
    expect(state.permissionsIn(admin.userId, support.id)).toEqual([IMPERSONATE_PERMISSION])
    expect(state.permissionsIn(agent.userId, support.id)).toEqual([])
    // A second staff member who may impersonate, for two-staff flows.
    const colleague = state.accounts.find((a) => a.role === 'colleague')!
    expect(colleague).toMatchObject({
      kind: 'staff',
      identifier: 'grace@support.actas.test',
      password: 'actas-colleague-pw',
    })
    expect(state.permissionsIn(colleague.userId, support.id)).toEqual([IMPERSONATE_PERMISSION])
    // A staff member who also decides other staff members' access requests (two-person rule).
    const approver = state.accounts.find((a) => a.role === 'approver')!
    expect(approver.identifier).toBe('katherine@support.actas.test')
    expect(state.permissionsIn(approver.userId, support.id)).toEqual([
      IMPERSONATE_PERMISSION,
      'org:admin:approve_access',
    ])
    expect(accountSummaries(state).map((a) => [a.kind, a.role, a.name])).toEqual([
      ['staff', 'admin', 'Ada Lovelace'],
      ['staff', 'agent', 'Sam Rivera'],
      ['staff', 'colleague', 'Grace Hopper'],
      ['staff', 'approver', 'Katherine Johnson'],
      ['customer', 'banned', 'Mallory Banks'],
      ['customer', 'locked', 'Larry Lockwood'],
    ])
    expect(state.users.get(admin.userId)!.firstName).toBe('Ada')
  })

  it('gives the six special accounts working passwords, banned and locked flags; customers none', () => {
    const { state } = seeded(50, 1)
    for (const account of state.accounts) {
      const user = state.users.get(account.userId)!
      expect(account.password).toBe(SEEDED_PASSWORDS[account.role])
      expect(verifyPassword(user.passwordDigest, account.password)).toBe(true)
      expect(verifyPassword(user.passwordDigest, `${account.password}x`)).toBe(false)
      expect(user.banned).toBe(account.role === 'banned')
      expect(user.locked).toBe(account.role === 'locked')
    }
    const customers = [...state.users.values()].filter(
      (u) => !state.accounts.some((a) => a.userId === u.id),
    )
    expect(customers).toHaveLength(50)
    expect(customers.every((u) => u.passwordDigest === null)).toBe(true)
  })

  it('customers look real: E.164 phones, unique emails, some usernames and external ids, dates over years', () => {
    const { state } = seeded(5000, 1)
    const users = [...state.users.values()]
    const emails = users.flatMap((u) => u.emailAddresses.map((e) => e.emailAddress))
    expect(new Set(emails).size).toBe(emails.length)
    for (const email of emails) expect(email).toMatch(/^[a-z0-9._+-]+@[a-z0-9.-]+\.[a-z]+$/)
    const phones = users.flatMap((u) => u.phoneNumbers.map((p) => p.phoneNumber))
    for (const phone of phones) expect(phone).toMatch(/^\+[1-9]\d{7,14}$/)
    const share = (pred: (u: LocalUser) => boolean) => users.filter(pred).length / users.length
    expect(share((u) => u.phoneNumbers.length > 0)).toBeGreaterThan(0.6)
    expect(share((u) => u.username !== null)).toBeGreaterThan(0.3)
    expect(share((u) => u.username !== null)).toBeLessThan(0.6)
    expect(share((u) => u.externalId !== null)).toBeGreaterThan(0.2)
    expect(share((u) => u.lastSignInAt !== null)).toBeGreaterThan(0.8)
    expect(new Set(users.map((u) => u.lastName)).size).toBeGreaterThan(150)
    const oldest = Math.min(...users.map((u) => u.createdAt))
    expect(NOW - oldest).toBeGreaterThan(3 * YEAR)
    for (const u of users) {
      expect(u.createdAt).toBeLessThanOrEqual(NOW)
      expect(u.updatedAt).toBeGreaterThanOrEqual(u.createdAt)
      if (u.lastSignInAt !== null) expect(u.lastSignInAt).toBeGreaterThanOrEqual(u.createdAt)
      expect(u.imageUrl.startsWith('http://127.0.0.1:4100/__local/avatars/')).toBe(true)
    }
  })

  it('seeds 100,000 customers', () => {
    const { state } = seeded(100_000, 1)
    expect(state.users.size).toBe(100_006)
    expect(state.userIndex.size).toBe(100_006)
    const ids = new Set(state.users.keys())
    expect(ids.size).toBe(100_006)
  }, 120_000)
})
