import { describe, expect, it } from 'vitest'
import { ImpersonationStartInputSchema, UsersSearchInputSchema } from '../src/index.js'

describe('users.search input', () => {
  it('defaults to 20 newest users', () => {
    expect(UsersSearchInputSchema.parse({})).toEqual({ limit: 20, orderBy: '-created_at' })
  })
  it.each([
    { limit: 0 },
    { limit: 101 },
    { limit: 1.5 },
    { offset: 1, cursor: 'abc' },
    { orderBy: 'password' },
    { extra: 1 },
  ])('refuses %j', (input) => {
    expect(UsersSearchInputSchema.safeParse(input).success).toBe(false)
  })
})

describe('impersonation.start input', () => {
  const ok = { userId: 'user_abc', reason: 'Customer asked for help with billing' }
  it('defaults the session to 30 minutes', () => {
    expect(ImpersonationStartInputSchema.parse(ok).sessionMinutes).toBe(30)
  })
  it.each([
    { ...ok, reason: 'too short' },
    { ...ok, reason: 'x'.repeat(501) },
    { ...ok, sessionMinutes: 31 },
    { ...ok, sessionMinutes: 0 },
    { ...ok, userId: 'org_abc' },
    { ...ok, ticketUrl: 'javascript:alert(1)' },
  ])('refuses %j', (input) => {
    expect(ImpersonationStartInputSchema.safeParse(input).success).toBe(false)
  })
})
