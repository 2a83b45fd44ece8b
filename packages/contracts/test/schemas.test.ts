import { describe, expect, it } from 'vitest'
import {
  ActAsWebhookSchema,
  ImpersonationActionsInputSchema,
  ImpersonationStartInputSchema,
  MAX_ACTIONS_PER_BATCH,
  routePatternProblem,
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

describe('the action trail', () => {
  it.each([
    '/',
    '/orders',
    '/orders/:id',
    '/account/password',
    '/v1/orders/{orderId}/items',
    '/files/*',
  ])('accepts the route pattern %s', (route) => {
    expect(routePatternProblem(route)).toBeNull()
  })

  it.each([
    ['/orders?page=2', 'query string'],
    ['/orders#top', 'query string'],
    ['/orders/8812', 'looks like a value'],
    ['/orders/3f2a9c1e-0b7d-4e7a-9a55-3c1d2e4f5a6b', 'looks like a value'],
    ['/users/user_2xQpL8mZk4', 'looks like a value'],
    ['/invite/ada@example.com', 'not a path with values'],
    ['/search/a%20b', 'not a path with values'],
    ['/tokens/abc123def456', 'looks like a value'],
    ['orders', 'must start with /'],
    ['/a//b', 'empty segments'],
  ])('refuses %s', (route, why) => {
    expect(routePatternProblem(route)).toContain(why)
    const parsed = ImpersonationActionsInputSchema.safeParse({
      sessionId: 'sess_1234567',
      actions: [{ method: 'GET', route, status: 200, at: '2026-11-29T12:00:00.000Z' }],
    })
    expect(parsed.success).toBe(false)
  })

  it('bounds a batch and refuses unknown methods and statuses', () => {
    const action = { method: 'GET', route: '/orders', status: 200, at: '2026-11-29T12:00:00.000Z' }
    const batch = (actions: unknown[]) =>
      ImpersonationActionsInputSchema.safeParse({ sessionId: 'sess_1234567', actions }).success
    expect(batch([action])).toBe(true)
    expect(batch(Array.from({ length: MAX_ACTIONS_PER_BATCH }, () => action))).toBe(true)
    expect(batch(Array.from({ length: MAX_ACTIONS_PER_BATCH + 1 }, () => action))).toBe(false)
    expect(batch([])).toBe(false)
    expect(batch([{ ...action, method: 'TRACE' }])).toBe(false)
    expect(batch([{ ...action, status: 700 }])).toBe(false)
    expect(batch([{ ...action, body: '{}' }])).toBe(false)
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
