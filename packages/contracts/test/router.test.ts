import { describe, expect, it } from 'vitest'
import { ActAsError, IMPERSONATE_PERMISSION } from '../src/index.js'
import type { ActAsContext, Principal } from '../src/index.js'
import { createActAsTRPC, createAppRouter } from '../src/server.js'

const router = createAppRouter({ isDev: false })

const staff: Principal = {
  userId: 'user_staff',
  sessionId: 'sess_1',
  orgId: 'org_1',
  orgSlug: 'support',
  orgRole: 'org:admin',
  permissions: [IMPERSONATE_PERMISSION],
  actor: null,
}

function context(principal: Principal | null): ActAsContext {
  const unused = () => {
    throw new Error('not reached in these tests')
  }
  return {
    principal,
    request: { id: 'req-1', ip: null, userAgent: null },
    rateLimiter: { consume: () => ({ allowed: true }) },
    directory: { search: unused },
    impersonation: { start: unused, revoke: unused, list: unused, quota: unused },
  }
}

describe('authorization rules', () => {
  const procedures = Object.entries(router._def.procedures) as [
    string,
    { _def: { meta?: { auth?: string } } },
  ][]

  it('covers the procedures of the issue', () => {
    expect(procedures.map(([path]) => path).sort()).toEqual(
      [
        'impersonation.list',
        'impersonation.revoke',
        'impersonation.start',
        'me',
        'quota',
        'users.search',
      ].sort(),
    )
  })

  it.each(procedures)('%s declares an authorization rule', (path, procedure) => {
    expect(['staff', 'signed-in'], `${path} has no meta.auth`).toContain(procedure._def.meta?.auth)
  })

  it('only `me` is open to any signed-in session', () => {
    const open = procedures.filter(([, p]) => p._def.meta?.auth !== 'staff').map(([path]) => path)
    expect(open).toEqual(['me'])
  })

  it('refuses a procedure that declares no rule, even to staff', async () => {
    const { router: r, procedure } = createActAsTRPC({ isDev: false })
    const bare = r({ leak: procedure.query(() => 'secret') })
    const caller = bare.createCaller(context(staff))
    await expect(caller.leak()).rejects.toMatchObject({
      code: 'FORBIDDEN',
      cause: expect.any(ActAsError),
    })
  })

  it('`me` describes the session without touching any port', async () => {
    const caller = router.createCaller(
      context({ ...staff, actor: { sub: 'user_boss', impersonationId: null, reason: null } }),
    )
    await expect(caller.me()).resolves.toEqual({
      userId: 'user_staff',
      sessionId: 'sess_1',
      organization: { id: 'org_1', slug: 'support', role: 'org:admin' },
      permissions: [IMPERSONATE_PERMISSION],
      canImpersonate: true,
      actor: { userId: 'user_boss', impersonationId: null, reason: null },
    })
  })

  it('turns away a signed-out caller before any port runs', async () => {
    const caller = router.createCaller(context(null))
    await expect(caller.me()).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await expect(caller.users.search({})).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('turns away a member without the permission from staff procedures', async () => {
    const caller = router.createCaller(context({ ...staff, permissions: [] }))
    await expect(caller.quota()).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('answers 429 with the retry delay when the rate limiter says no', async () => {
    const ctx = context(staff)
    ctx.rateLimiter = { consume: () => ({ allowed: false, retryAfterSeconds: 7 }) }
    await expect(router.createCaller(ctx).me()).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      cause: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: 7 }),
    })
  })
})
