// Machines (other services with Clerk M2M tokens) through the whole stack: bad tokens of every
// kind, audited audit reads, the machine log line, sessions.inspect, the machine search verdict,
// and configuration that cannot grant impersonation to a machine.
import { createSigningKey, signJwt } from '@actas/clerk-local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/index.js'
import { actasCode, callRaw, ORIGIN, startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let clockOffsetMs = 0
let admin: SignedIn
let helpdesk: string

const customers = () => stack.customers()

beforeAll(async () => {
  stack = await startStack({ clerk: { now: () => Date.now() + clockOffsetMs } })
  admin = await stack.signIn('admin')
  helpdesk = (await stack.m2mToken('helpdesk')).token
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('bad tokens of every kind', () => {
  it('are 401 UNAUTHENTICATED on every procedure, never a 5xx', async () => {
    const foreignKey = createSigningKey()
    const now = Math.floor(Date.now() / 1000)
    const foreign = signJwt(foreignKey, {
      sub: stack.account('admin').userId,
      sid: 'sess_foreign',
      iat: now,
      nbf: now,
      exp: now + 60,
      iss: stack.clerk.issuer,
      azp: ORIGIN,
    })
    // An M2M-looking JWT (sub mch_…) signed by a stranger: @clerk/backend routes it as a machine JWT.
    const foreignMachineJwt = signJwt(foreignKey, {
      sub: stack.machine('helpdesk').id,
      iat: now,
      exp: now + 60,
    })
    const bad: Record<string, string> = {
      malformed: 'not-a-token',
      'three dots of junk': 'a.b.c',
      'mt_ garbage': 'mt_0123456789abcdef0123456789abcdef',
      'mt_ empty': 'mt_',
      'a machine secret key (ak_) as bearer': stack.machine('helpdesk').secretKey,
      'the instance secret key as bearer': stack.clerk.secretKey,
      'oat_ garbage': 'oat_nothing',
      'foreign-signature session JWT': foreign,
      'foreign-signature M2M JWT': foreignMachineJwt,
      'a token with spaces': 'mt_a b',
    }
    for (const [kind, token] of Object.entries(bad)) {
      for (const [path, type, input] of [
        ['users.search', 'query', { query: '' }],
        ['impersonation.list', 'query', { limit: 1 }],
        ['me', 'query', undefined],
        [
          'impersonation.start',
          'mutation',
          { userId: customers()[0]!.id, reason: 'A bad token tries its luck' },
        ],
      ] as const) {
        const res = await callRaw(stack.app, path, { type, input, token })
        expect({ kind, path, status: res.status, code: actasCode(res) }).toEqual({
          kind,
          path,
          status: 401,
          code: 'UNAUTHENTICATED',
        })
      }
    }
    // No bad token, nor a machine secret, ever reaches the logs.
    const logs = stack.logs.join('')
    for (const token of Object.values(bad)) if (token.length > 8) expect(logs).not.toContain(token)
  })
})

describe('machine calls', () => {
  it('are logged with the machine id, never the token', async () => {
    const before = stack.logs.length
    const res = await callRaw(stack.app, 'users.search', {
      type: 'query',
      input: { limit: 3 },
      token: helpdesk,
    })
    expect(res.status).toBe(200)
    const lines = stack.logs.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>)
    const call = lines.find((l) => l['msg'] === 'machine call')
    expect(call).toMatchObject({
      machineId: stack.machine('helpdesk').id,
      procedures: 'users.search',
    })
    expect(String(call?.['tokenId'])).toMatch(/^mt_[0-9a-f]{32}$/)
    expect(stack.logs.join('')).not.toContain(helpdesk)
  })

  it('search rows carry the machine verdict: a machine never impersonates', async () => {
    const res = await callRaw(stack.app, 'users.search', {
      type: 'query',
      input: { limit: 5 },
      token: helpdesk,
    })
    const items = (
      res.body as {
        result: { data: { items: Array<{ impersonation: { allowed: boolean; rule?: string } }> } }
      }
    ).result.data.items
    expect(items.length).toBeGreaterThan(0)
    for (const item of items)
      expect(item.impersonation).toMatchObject({ allowed: false, rule: 'machine' })
  })

  it('impersonation.list by a machine writes an audit_read row; by a person it does not', async () => {
    const reads = () => stack.deps.audit.listAuditReads()
    const before = (await reads()).length
    const human = await callRaw(stack.app, 'impersonation.list', {
      type: 'query',
      input: { limit: 5 },
      token: await admin.token(),
    })
    expect(human.status).toBe(200)
    expect(await reads()).toHaveLength(before)

    const from = new Date(Date.now() - 3_600_000).toISOString()
    const res = await callRaw(stack.app, 'impersonation.list', {
      type: 'query',
      input: { limit: 7, from },
      token: helpdesk,
      headers: { 'user-agent': 'helpdesk-sync/1.0' },
    })
    expect(res.status).toBe(200)
    const rows = (res.body as { result: { data: { items: unknown[] } } }).result.data.items
    const after = await reads()
    expect(after).toHaveLength(before + 1)
    expect(after.at(-1)).toMatchObject({
      kind: 'audit_read',
      machineId: stack.machine('helpdesk').id,
      procedure: 'impersonation.list',
      params: { limit: 7, from },
      rowCount: rows.length,
      userAgent: 'helpdesk-sync/1.0',
    })
  })

  it("a machine's refused impersonation.start leaves a denied row under its machine id", async () => {
    const userId = customers()[1]!.id
    const tokensBefore = stack.clerk.state.actorTokens.size
    const res = await callRaw(stack.app, 'impersonation.start', {
      type: 'mutation',
      input: { userId, reason: 'An automated job tries to impersonate' },
      token: helpdesk,
    })
    expect({ status: res.status, code: actasCode(res) }).toEqual({ status: 403, code: 'FORBIDDEN' })
    expect(stack.clerk.state.actorTokens.size).toBe(tokensBefore)
    const denied = await stack.deps.audit.list({ status: 'denied', userId, limit: 5 })
    expect(denied.rows).toHaveLength(1)
    expect(denied.rows[0]).toMatchObject({
      actorId: stack.machine('helpdesk').id,
      actorSessionId: null,
      outcomeCode: 'FORBIDDEN',
    })
  })
})

describe('sessions.inspect', () => {
  const inspect = async (token: string) => {
    const res = await callRaw(stack.app, 'sessions.inspect', {
      type: 'mutation',
      input: { token },
      token: helpdesk,
    })
    return res
  }
  const data = (res: { body: unknown }) =>
    (res.body as { result: { data: Record<string, unknown> } }).result.data

  it('says who an impersonated session really is, and why', async () => {
    const userId = customers()[2]!.id
    const reason = 'Customer cannot see their invoices (ticket 4711)'
    const started = await callRaw(stack.app, 'impersonation.start', {
      type: 'mutation',
      input: { userId, reason },
      token: await admin.token(),
    })
    expect(started.status).toBe(200)
    const { impersonationId, ticket } = (
      started.body as { result: { data: { impersonationId: string; ticket: string } } }
    ).result.data
    const session = await stack.signInWithTicket(ticket)
    const token = await session.token()
    const res = await inspect(token)
    expect(res.status).toBe(200)
    expect(data(res)).toEqual({
      valid: true,
      invalidReason: null,
      userId,
      sessionId: session.sessionId,
      impersonated: true,
      actor: { userId: stack.account('admin').userId, reason, impersonationId, mode: 'full' },
      expiresAt: expect.stringMatching(/Z$/) as unknown,
      revoked: false,
    })
    expect(res.raw).not.toContain(token)
    expect(stack.logs.join('')).not.toContain(token)
  })

  it('a plain session is not impersonated', async () => {
    const res = await inspect(await admin.token())
    expect(data(res)).toMatchObject({
      valid: true,
      userId: stack.account('admin').userId,
      impersonated: false,
      actor: null,
    })
  })

  it('expired, foreign-signature and wrong-azp tokens are { valid: false }, junk is 400, never 5xx', async () => {
    clockOffsetMs = -10 * 60_000
    const old = await stack.signIn('admin')
    const expired = await old.token()
    clockOffsetMs = 0
    expect(data(await inspect(expired))).toMatchObject({
      valid: false,
      invalidReason: 'expired',
      userId: null,
    })

    const foreign = signJwt(createSigningKey(), {
      sub: 'user_x',
      sid: 'sess_x',
      exp: Math.floor(Date.now() / 1000) + 60,
      iat: Math.floor(Date.now() / 1000),
    })
    const foreignRes = await inspect(foreign)
    expect(data(foreignRes)).toMatchObject({ valid: false, invalidReason: 'invalid' })
    expect(foreignRes.raw).not.toContain(foreign)

    const evil = await stack.signIn('admin', { origin: 'https://evil.example.com' })
    expect(data(await inspect(await evil.token()))).toMatchObject({ valid: false })

    for (const junk of ['', 'not a jwt', 'a.b', `${'x'.repeat(9000)}.a.b`, 'mt_0123']) {
      const res = await inspect(junk)
      expect({ status: res.status, code: actasCode(res) }).toEqual({
        status: 400,
        code: 'INVALID_INPUT',
      })
      if (junk.length > 4) expect(res.raw).not.toContain(junk)
    }
    const garbage = await inspect('a.b.c')
    expect(garbage.status).toBe(200)
    expect(data(garbage)).toMatchObject({ valid: false, invalidReason: 'invalid' })
  })
})

describe('machine permission configuration', () => {
  const base = {
    NODE_ENV: 'test',
    CLERK_SECRET_KEY: 'sk_test_x',
    CLERK_PUBLISHABLE_KEY: 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k',
  }
  it('cannot grant impersonation.revoke to a machine; start and end only by an explicit grant', () => {
    expect(() =>
      loadConfig({
        ...base,
        MACHINE_PERMISSIONS: JSON.stringify({ mch_a: ['impersonation.revoke'] }),
      }),
    ).toThrow(/impersonation\.revoke can never be granted to a machine/)
    const granted = loadConfig({
      ...base,
      MACHINE_PERMISSIONS: JSON.stringify({ mch_a: ['impersonation.start', 'impersonation.end'] }),
    })
    expect(granted.machines.permissions).toEqual({
      mch_a: ['impersonation.start', 'impersonation.end'],
    })
    expect(() =>
      loadConfig({
        ...base,
        MACHINE_PERMISSIONS: JSON.stringify({ mch_a: ['impersonation.stop'] }),
      }),
    ).toThrow(/only on behalf of a named staff member: onBehalfOf/)
    expect(() => loadConfig({ ...base, MACHINE_PERMISSIONS: '{' })).toThrow(ConfigError)
    expect(() => loadConfig({ ...base, MACHINE_PERMISSIONS: '{"me":["users.search"]}' })).toThrow(
      ConfigError,
    )
  })

  it('defaults: scoped to CLERK_MACHINE_ID may read (audit.verify only by an explicit grant); without it, no machine may call anything', () => {
    expect(loadConfig(base).machines.permissions).toEqual({})
    expect(loadConfig({ ...base, CLERK_MACHINE_ID: 'mch_actas' }).machines.permissions).toEqual({
      mch_actas: [
        'users.search',
        'impersonation.list',
        'impersonation.get',
        'sessions.inspect',
        'sessions.revoked',
        // The chain as events or OCSF, for a SIEM's collector (issue 23); every read is recorded.
        'audit.export',
      ],
    })
    expect(
      loadConfig({
        ...base,
        CLERK_MACHINE_ID: 'mch_actas',
        MACHINE_PERMISSIONS: '{"mch_helpdesk":["users.search"]}',
      }).machines.permissions,
    ).toEqual({ mch_helpdesk: ['users.search'] })
  })
})

describe("verifying as ActAs's machine (CLERK_MACHINE_SECRET_KEY)", () => {
  it('lets Clerk refuse tokens not granted to ActAs: 401 instead of 403', async () => {
    const strict = await startStack({
      env: (clerk) => ({
        CLERK_MACHINE_SECRET_KEY: clerk.machines.find((m) => m.name === 'actas-api')!.secretKey,
      }),
    })
    try {
      const call = async (name: string) => {
        const { token } = await strict.m2mToken(name)
        const res = await callRaw(strict.app, 'users.search', { type: 'query', input: {}, token })
        return { status: res.status, code: actasCode(res) }
      }
      expect(await call('helpdesk')).toEqual({ status: 200, code: undefined })
      expect(await call('no-scope')).toEqual({ status: 401, code: 'UNAUTHENTICATED' })
      const secret = strict.machine('actas-api').secretKey
      expect(strict.logs.join('')).not.toContain(secret)
    } finally {
      await strict.close()
    }
  })
})

describe('a Clerk outage while verifying an M2M token', () => {
  it('is a 503 with Retry-After (not a 401), and the token works once Clerk is back', async () => {
    // A token ActAs has not verified yet, so no cached verdict answers for it.
    const { token } = await stack.m2mToken('helpdesk')
    stack.clerk.faults.add({ route: 'POST /m2m_tokens/verify', status: 503, times: 1 })
    try {
      const res = await callRaw(stack.app, 'sessions.inspect', {
        type: 'query',
        token,
        input: { sessionId: 'sess_2outage000000000000000000' },
      })
      expect({ status: res.status, code: actasCode(res) }).toEqual({
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
      })
      expect(res.headers['retry-after']).toBe('5')
    } finally {
      stack.clerk.faults.clear()
    }
    const res = await callRaw(stack.app, 'impersonation.list', {
      type: 'query',
      token,
      input: { limit: 1 },
    })
    expect(res.status).toBe(200)
  })
})
