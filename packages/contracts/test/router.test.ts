import { describe, expect, it } from 'vitest'
import { ActAsError, IMPERSONATE_PERMISSION } from '../src/index.js'
import {
  defaultMachinePermissions,
  MACHINE_EXPLICIT_READ_PROCEDURES,
  MACHINE_READ_PROCEDURES,
  MACHINE_WRITE_PROCEDURES,
  MACHINE_ON_BEHALF_PROCEDURES,
} from '../src/index.js'
import type { ActAsContext, MachinePrincipal, Principal } from '../src/index.js'
import { createActAsTRPC, createAppRouter } from '../src/server.js'
import { contextWith, staff } from './context.js'

const router = createAppRouter({ isDev: false })

function context(principal: Principal | null): ActAsContext {
  return contextWith(principal, () => {
    throw new Error('not reached in these tests')
  })
}

/** The customer's own say (access requests, grants, history): any signed-in user, for themselves. */
const CUSTOMER_PROCEDURES = [
  'customer.decide',
  'customer.grant',
  'customer.history',
  'customer.orgHistory',
  'customer.orgSetting.get',
  'customer.orgSetting.set',
  'customer.requests',
  'customer.revoke',
]

describe('authorization rules', () => {
  const procedures = Object.entries(router._def.procedures) as [
    string,
    { _def: { meta?: { auth?: string } } },
  ][]

  it('covers the procedures of the issue', () => {
    expect(procedures.map(([path]) => path).sort()).toEqual(
      [
        'access.decide',
        'access.list',
        'access.request',
        'alerts.recent',
        'audit.export',
        'audit.verify',
        ...CUSTOMER_PROCEDURES,
        'impersonation.actions',
        'impersonation.active',
        'impersonation.end',
        'impersonation.get',
        'impersonation.list',
        'impersonation.revoke',
        'impersonation.signedIn',
        'impersonation.signInFailed',
        'impersonation.start',
        'impersonation.stop',
        'logStreams.status',
        'me',
        'quota',
        'sessions.inspect',
        'sessions.revoked',
        'users.search',
        'webhooks.deliveries',
        'webhooks.retry',
      ].sort(),
    )
  })

  it.each(procedures)('%s declares an authorization rule', (path, procedure) => {
    expect(['staff', 'signed-in'], `${path} has no meta.auth`).toContain(procedure._def.meta?.auth)
  })

  it("only `me`, the impersonated session's own procedures and the customer's own say are open to any signed-in session", () => {
    const open = procedures.filter(([, p]) => p._def.meta?.auth !== 'staff').map(([path]) => path)
    // customer.*: a signed-in user of the host application decides for themselves (the API
    // refuses staff and impersonated sessions there: test/access in @actas/api).
    expect(open.sort()).toEqual(
      [...CUSTOMER_PROCEDURES, 'impersonation.signedIn', 'impersonation.stop', 'me'].sort(),
    )
  })

  it('Stop and the sign-in report refuse a session that is not impersonated, before any port', async () => {
    const caller = router.createCaller(context(staff))
    await expect(caller.impersonation.stop({})).rejects.toMatchObject({ code: 'FORBIDDEN' })
    await expect(
      caller.impersonation.signedIn({ sessionToken: 'eyJh.eyJz.c2ln' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('refuses a procedure that declares no rule, even to staff', async () => {
    const { router: r, procedure } = createActAsTRPC({ isDev: false })
    const bare = r({ leak: procedure.query(() => 'secret') })
    const caller = bare.createCaller(context(staff))
    await expect(caller.leak()).rejects.toMatchObject({
      code: 'FORBIDDEN',
      cause: expect.any(ActAsError) as unknown,
    })
  })

  it('`me` describes the session without touching any port (no `describeActor`: nulls)', async () => {
    const caller = router.createCaller(
      context({
        ...staff,
        actor: { sub: 'user_boss', impersonationId: null, reason: null, mode: 'read_only' },
      }),
    )
    await expect(caller.me()).resolves.toEqual({
      userId: 'user_staff',
      sessionId: 'sess_1',
      organization: { id: 'org_1', slug: 'support', role: 'org:admin' },
      permissions: [IMPERSONATE_PERMISSION],
      canImpersonate: true,
      actor: {
        userId: 'user_boss',
        impersonationId: null,
        reason: null,
        mode: 'read_only',
        email: null,
        sessionExpiresAt: null,
      },
    })
  })

  it('`me` of an impersonated session asks `describeActor` (the audit log) for email and expiry', async () => {
    const asked: Principal[] = []
    const sessionExpiresAt = '2026-11-24T20:13:00.000Z'
    const impersonated = {
      ...staff,
      actor: { sub: 'user_boss', impersonationId: 'imp_1', reason: 'r', mode: 'full' as const },
    }
    const ctx = context(impersonated)
    ctx.impersonation.describeActor = (principal) => {
      asked.push(principal)
      return Promise.resolve({ email: 'boss@support.test', sessionExpiresAt })
    }
    await expect(router.createCaller(ctx).me()).resolves.toMatchObject({
      actor: {
        userId: 'user_boss',
        impersonationId: 'imp_1',
        reason: 'r',
        mode: 'full',
        email: 'boss@support.test',
        sessionExpiresAt,
      },
    })
    expect(asked).toEqual([impersonated])
    // not for a session of one's own
    const own = context(staff)
    own.impersonation.describeActor = ctx.impersonation.describeActor.bind(ctx.impersonation)
    await expect(router.createCaller(own).me()).resolves.toMatchObject({ actor: null })
    expect(asked).toHaveLength(1)
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

  it('turns away the permission held in an organization that is not a staff organization', async () => {
    // A customer organization whose admin role carries org:admin:impersonate.
    const customerAdmin = { ...staff, orgId: 'org_acme', orgSlug: 'acme', staffOrganization: false }
    const caller = router.createCaller(context(customerAdmin))
    await expect(caller.quota()).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('not a staff organization') as unknown,
    })
    await expect(caller.users.search({})).rejects.toMatchObject({ code: 'FORBIDDEN' })
    await expect(caller.me()).resolves.toMatchObject({ canImpersonate: false })
  })

  it('answers 429 with the retry delay when the rate limiter says no', async () => {
    const ctx = context(staff)
    ctx.rateLimiter = { consume: () => ({ allowed: false, retryAfterSeconds: 7 }) }
    await expect(router.createCaller(ctx).me()).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      cause: expect.objectContaining({
        code: 'RATE_LIMITED',
        retryAfterSeconds: 7,
        rateLimitedBy: 'actas',
      }) as unknown,
    })
  })
})

describe('machines (deny by default)', () => {
  const ACTAS = 'mch_actas000000000000000000000'
  const scoped: MachinePrincipal = {
    kind: 'machine',
    machineId: 'mch_helpdesk00000000000000000',
    tokenId: 'mt_1',
    scopes: [ACTAS],
  }
  const unscoped: MachinePrincipal = {
    ...scoped,
    machineId: 'mch_noscope000000000000000000',
    scopes: [],
  }
  const reached = 'port reached'
  function machineContext(principal: Principal): ActAsContext {
    const ctx = context(principal)
    const reach = () => Promise.reject(new Error(reached))
    ctx.directory = { search: reach }
    ctx.impersonation = {
      start: reach,
      revoke: reach,
      get: reach,
      list: reach,
      quota: reach,
      active: reach,
      end: reach,
      stop: reach,
      signedIn: reach,
      revokedSessions: reach,
      recordActions: reach,
      signInFailed: reach,
    }
    ctx.sessions = { inspect: reach }
    ctx.audit = { verify: reach }
    ctx.auditExport = { export: reach }
    return ctx
  }
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2ln'
  const calls = {
    me: (c: ReturnType<typeof router.createCaller>) => c.me(),
    quota: (c: ReturnType<typeof router.createCaller>) => c.quota(),
    'users.search': (c: ReturnType<typeof router.createCaller>) => c.users.search({}),
    'impersonation.list': (c: ReturnType<typeof router.createCaller>) => c.impersonation.list({}),
    'impersonation.get': (c: ReturnType<typeof router.createCaller>) =>
      c.impersonation.get({ impersonationId: '00000000-0000-4000-8000-000000000000' }),
    'audit.verify': (c: ReturnType<typeof router.createCaller>) => c.audit.verify(),
    'audit.export': (c: ReturnType<typeof router.createCaller>) => c.audit.export({}),
    'logStreams.status': (c: ReturnType<typeof router.createCaller>) => c.logStreams.status(),
    'alerts.recent': (c: ReturnType<typeof router.createCaller>) => c.alerts.recent(),
    'sessions.inspect': (c: ReturnType<typeof router.createCaller>) =>
      c.sessions.inspect({ token }),
    'impersonation.start': (c: ReturnType<typeof router.createCaller>) =>
      c.impersonation.start({ userId: 'user_123456', reason: 'A machine tries to start one' }),
    'impersonation.revoke': (c: ReturnType<typeof router.createCaller>) =>
      c.impersonation.revoke({ impersonationId: '00000000-0000-4000-8000-000000000000' }),
    'impersonation.active': (c: ReturnType<typeof router.createCaller>) => c.impersonation.active(),
    'impersonation.end': (c: ReturnType<typeof router.createCaller>) =>
      c.impersonation.end({
        impersonationId: '00000000-0000-4000-8000-000000000000',
        reason: 'A machine tries the kill switch',
      }),
    'impersonation.stop': (c: ReturnType<typeof router.createCaller>) => c.impersonation.stop({}),
    'impersonation.signedIn': (c: ReturnType<typeof router.createCaller>) =>
      c.impersonation.signedIn({ sessionToken: token }),
    'sessions.revoked': (c: ReturnType<typeof router.createCaller>) => c.sessions.revoked({}),
    'impersonation.actions': (c: ReturnType<typeof router.createCaller>) =>
      c.impersonation.actions({
        sessionId: 'sess_1234567',
        actions: [{ method: 'GET', route: '/orders', status: 200, at: '2026-11-29T12:00:00.000Z' }],
      }),
    'impersonation.signInFailed': (c: ReturnType<typeof router.createCaller>) =>
      c.impersonation.signInFailed({
        impersonationId: '00000000-0000-4000-8000-000000000000',
        code: 'ticket_expired',
      }),
  }

  /** The procedures whose meta admits machines as `access`, sorted. */
  const admitting = (access: string) =>
    Object.entries(
      router._def.procedures as unknown as Record<
        string,
        { _def: { meta?: { machines?: string } } }
      >,
    )
      .filter(([, p]) => p._def.meta?.machines === access)
      .map(([path]) => path)
      .sort()

  it('only the read procedures admit machines in their meta', () => {
    const open = admitting('read')
    expect(open).toEqual([
      'audit.export',
      'audit.verify',
      'impersonation.get',
      'impersonation.list',
      'sessions.inspect',
      'sessions.revoked',
      'users.search',
    ])
  })

  it('impersonation.actions is the only write machines may be granted, and only machines', async () => {
    const writes = admitting('write')
    expect(writes).toEqual([...MACHINE_WRITE_PROCEDURES])
    const granted = createAppRouter({
      isDev: false,
      machinePermissions: { [ACTAS]: ['impersonation.actions'] },
    })
    await expect(
      calls['impersonation.actions'](granted.createCaller(machineContext(scoped))),
    ).rejects.toThrow(reached)
    // Not granted by the default map; never to staff or customers.
    const byDefault = createAppRouter({
      isDev: false,
      machinePermissions: defaultMachinePermissions(ACTAS),
    })
    await expect(
      calls['impersonation.actions'](byDefault.createCaller(machineContext(scoped))),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' })
    await expect(
      calls['impersonation.actions'](granted.createCaller(context(staff))),
    ).rejects.toThrow(/Only services/)
  })

  it('start and end admit machines only on behalf of a named staff member, and only they', () => {
    const onBehalf = admitting('on_behalf')
    expect(onBehalf).toEqual([...MACHINE_ON_BEHALF_PROCEDURES].sort())
    // Never in the default map.
    const defaults = Object.values(defaultMachinePermissions(ACTAS)).flat()
    for (const path of MACHINE_ON_BEHALF_PROCEDURES) expect(defaults).not.toContain(path)
  })

  it('without a permission map no machine may call anything', async () => {
    const caller = router.createCaller(machineContext(scoped))
    for (const [path, call] of Object.entries(calls))
      await expect(call(caller), path).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('the default map lets machines scoped to ActAs call the read procedures but audit.verify, nothing else', async () => {
    const withMap = createAppRouter({
      isDev: false,
      machinePermissions: defaultMachinePermissions(ACTAS),
    })
    const ok = withMap.createCaller(machineContext(scoped))
    const refused = withMap.createCaller(machineContext(unscoped))
    for (const [path, call] of Object.entries(calls)) {
      const read =
        (MACHINE_READ_PROCEDURES as readonly string[]).includes(path) &&
        !MACHINE_EXPLICIT_READ_PROCEDURES.includes(path)
      if (read) await expect(call(ok), path).rejects.toThrow(reached)
      else await expect(call(ok), path).rejects.toMatchObject({ code: 'FORBIDDEN' })
      await expect(call(refused), path).rejects.toMatchObject({ code: 'FORBIDDEN' })
    }
  })

  it('configuration cannot grant impersonation.revoke (nor me/quota) to a machine; start and end only explicitly, on behalf of a person', async () => {
    const everything = Object.keys(calls)
    const generous = createAppRouter({
      isDev: false,
      machinePermissions: { [scoped.machineId]: everything, [ACTAS]: everything },
    })
    const caller = generous.createCaller(machineContext(scoped))
    for (const path of ['impersonation.revoke', 'me', 'quota'] as const)
      await expect(calls[path](caller), path).rejects.toMatchObject({ code: 'FORBIDDEN' })
    // Granted explicitly, start and end reach the port, which judges the machine as the staff
    // member it names (onBehalfOf); the default map grants neither.
    for (const path of MACHINE_ON_BEHALF_PROCEDURES) {
      await expect(calls[path](caller), path).rejects.toThrow(reached)
      const byDefault = createAppRouter({
        isDev: false,
        machinePermissions: defaultMachinePermissions(ACTAS),
      })
      await expect(
        calls[path](byDefault.createCaller(machineContext(scoped))),
        path,
      ).rejects.toMatchObject({ code: 'FORBIDDEN' })
    }
    // A grant by machine id works like a grant by scope.
    await expect(
      calls['users.search'](generous.createCaller(machineContext(unscoped))),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' })
    const byId = createAppRouter({
      isDev: false,
      machinePermissions: { [unscoped.machineId]: ['users.search'] },
    })
    await expect(
      calls['users.search'](byId.createCaller(machineContext(unscoped))),
    ).rejects.toThrow(reached)
  })
})

describe('webhooks', () => {
  it('a host without a webhooks port answers an empty, disabled outbox and refuses a retry', async () => {
    const { webhooks: _, ...bare } = context(staff)
    const caller = router.createCaller(bare)
    await expect(caller.webhooks.deliveries({})).resolves.toEqual({
      items: [],
      next: null,
      enabled: false,
    })
    await expect(
      caller.webhooks.retry({ deliveryId: '0b8f8a52-5f0e-4a51-9a4e-3f6f3f1d2c11' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' })
  })

  it('is for staff only', async () => {
    const caller = router.createCaller(context({ ...staff, permissions: [] }))
    await expect(caller.webhooks.deliveries({ status: 'dead' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
  })
})
