import { describe, expect, it } from 'vitest'
import {
  ActAsWebhookSchema,
  ImpersonationStartInputSchema,
  UsersSearchInputSchema,
} from '../src/index.js'

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

describe('ActAs webhooks (the host application parses these)', () => {
  const data = {
    impersonationId: '0b8f8a52-5f0e-4a51-9a4e-3f6f3f1d2c11',
    actor: { id: 'user_staff', email: 'ada@support.actas.test' },
    user: { id: 'user_customer' },
    reason: 'Customer asked for help with billing',
    seq: 12,
    occurredAt: '2026-11-29T10:00:00.000Z',
  }
  it('reads an ended message, mode absent, unknown keys dropped', () => {
    const parsed = ActAsWebhookSchema.parse({
      type: 'impersonation.ended',
      timestamp: '2026-11-29T10:00:01.000Z',
      data: {
        ...data,
        status: 'ended',
        cause: 'ended_by_staff',
        endedBy: 'user_other',
        clerkSessionId: 'sess_1',
        later: 1,
      },
    })
    expect(parsed.type === 'impersonation.ended' && parsed.data.cause).toBe('ended_by_staff')
    expect(parsed.data).not.toHaveProperty('later')
    expect(parsed.data.mode).toBeUndefined()
  })
  it.each([
    { type: 'impersonation.paused', timestamp: '2026-11-29T10:00:01.000Z', data },
    {
      type: 'impersonation.started',
      timestamp: 'yesterday',
      data: { ...data, ticketExpiresAt: null, sessionExpiresAt: null },
    },
    {
      type: 'impersonation.signed_in',
      timestamp: '2026-11-29T10:00:01.000Z',
      data: { ...data, mode: 'sudo', clerkSessionId: 'sess_1', sessionExpiresAt: null },
    },
  ])('refuses %j', (input) => {
    expect(ActAsWebhookSchema.safeParse(input).success).toBe(false)
  })
})
