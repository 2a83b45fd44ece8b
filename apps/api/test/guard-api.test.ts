// The two machine procedures the guard (`@actas/guard`) relies on, through the whole stack:
// `sessions.revoked` (which impersonated sessions to refuse, after a cursor) and
// `impersonation.actions` (the action trail), and the trail on `impersonation.get`. Real
// sign-ins and M2M tokens on the local Clerk server, the API in-process, PGlite (or the Postgres
// server of the servers run).
import type { ActAsClient } from '@actas/contracts/client'
import { MAX_ACTIONS_PER_BATCH } from '@actas/contracts'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actasCode, callRaw, failure, startAdminStack } from './support/stack.js'
import type { AdminStack, SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let api: ActAsClient
/** The guard's machine (`helpdesk`, granted the write) and one with only the default reads. */
let guard: ActAsClient
let guardToken: string
let reader: ActAsClient
let impersonate: AdminStack['impersonate']

const at = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString()

beforeAll(async () => {
  ;({ stack, admin, api, impersonate } = await startAdminStack({
    env: (clerk) => {
      const actas = clerk.machines.find((m) => m.name === 'actas-api')!.id
      const helpdesk = clerk.machines.find((m) => m.name === 'helpdesk')!.id
      return {
        MACHINE_PERMISSIONS: JSON.stringify({
          [actas]: ['sessions.revoked', 'impersonation.get'],
          [helpdesk]: ['impersonation.actions'],
        }),
      }
    },
  }))
  guardToken = (await stack.m2mToken('helpdesk')).token
  guard = stack.client(() => guardToken)
  const auditExport = (await stack.m2mToken('audit-export')).token
  reader = stack.client(() => auditExport)
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('sessions.revoked', () => {
  it('reports a session ended by the kill switch after the cursor, then nothing new', async () => {
    const first = await guard.sessions.revoked.query({})
    const { id, session } = await impersonate()
    await api.impersonation.end.mutate({ impersonationId: id, reason: 'Wrong customer opened' })
    const page = await guard.sessions.revoked.query({ since: first.next })
    expect(
      page.items.map(({ sessionId, impersonationId }) => ({ sessionId, impersonationId })),
    ).toEqual([{ sessionId: session.sessionId, impersonationId: id }])
    expect(Date.parse(page.items[0]!.revokedAt)).toBeGreaterThan(Date.now() - 60_000)
    expect(Number(page.next)).toBeGreaterThan(Number(first.next))
    expect(page.more).toBe(false)
    const again = await guard.sessions.revoked.query({ since: page.next })
    expect(again).toEqual({ items: [], next: page.next, more: false })
  })

  it('without a cursor, reports what ended recently, so a guard that starts knows it', async () => {
    const { id, session } = await impersonate()
    await api.impersonation.end.mutate({ impersonationId: id, reason: 'Done with the invoice' })
    const fresh = await guard.sessions.revoked.query({})
    expect(fresh.items).toContainEqual(
      expect.objectContaining({ sessionId: session.sessionId, impersonationId: id }),
    )
  })

  it('pages with `limit`, in order, and `more` says when to ask again', async () => {
    const before = await guard.sessions.revoked.query({})
    const ended: string[] = []
    for (let i = 0; i < 3; i++) {
      const { id } = await impersonate()
      await api.impersonation.end.mutate({ impersonationId: id, reason: 'Paging the revoked' })
      ended.push(id)
    }
    const seen: string[] = []
    let cursor = before.next
    for (;;) {
      const page = await guard.sessions.revoked.query({ since: cursor, limit: 1 })
      seen.push(...page.items.map((i) => i.impersonationId))
      cursor = page.next
      if (!page.more) break
    }
    expect(seen).toEqual(ended)
  })

  it('refuses a cursor it never handed out, and a machine the map leaves out', async () => {
    const bad = await callRaw(stack.app, 'sessions.revoked', {
      type: 'query',
      input: { since: 'abc' },
      token: guardToken,
    })
    expect(bad.status).toBe(400)
    expect(actasCode(bad)).toBe('INVALID_INPUT')
    // audit-export is scoped to ActAs, but the map grants sessions.revoked to ActAs's scope:
    // let in; a machine without the scope is not.
    await expect(reader.sessions.revoked.query({})).resolves.toMatchObject({ more: false })
    const noScope = (await stack.m2mToken('no-scope')).token
    const refused = await failure(stack.client(() => noScope).sessions.revoked.query({}))
    expect(refused.code).toBe('FORBIDDEN')
  })
})

describe('impersonation.actions', () => {
  it('appends a batch to the impersonation, and get shows it in time order', async () => {
    const { id, session } = await impersonate()
    const result = await guard.impersonation.actions.mutate({
      sessionId: session.sessionId,
      actions: [
        { method: 'POST', route: '/orders', status: 201, at: at(-1000) },
        { method: 'GET', route: '/orders', status: 200, at: at(-2000) },
        { method: 'POST', route: '/account/password', status: 403, at: at(-500) },
      ],
    })
    expect(result).toEqual({ impersonationId: id, recorded: 3 })
    await guard.impersonation.actions.mutate({
      sessionId: session.sessionId,
      actions: [{ method: 'GET', route: '/orders/:id', status: 200, at: at() }],
    })
    const got = await api.impersonation.get.query({ impersonationId: id })
    expect(got.actions.map((a) => `${a.method} ${a.route} ${a.status}`)).toEqual([
      'GET /orders 200',
      'POST /orders 201',
      'POST /account/password 403',
      'GET /orders/:id 200',
    ])
    expect(got.actionsTotal).toBe(4)
    // Machines granted impersonation.get read the same trail.
    const read = await reader.impersonation.get.query({ impersonationId: id })
    expect(read.actions).toEqual(got.actions)
  })

  it('refuses a query string or a value in the route with a typed 400, and stores nothing', async () => {
    const { id, session } = await impersonate()
    for (const route of ['/orders?page=2', '/orders/8812', '/users/user_2xQpL8mZk4abc']) {
      const res = await callRaw(stack.app, 'impersonation.actions', {
        type: 'mutation',
        input: {
          sessionId: session.sessionId,
          actions: [
            { method: 'GET', route: '/orders', status: 200, at: at() },
            { method: 'GET', route, status: 200, at: at() },
          ],
        },
        token: guardToken,
      })
      expect(res.status, route).toBe(400)
      expect(actasCode(res)).toBe('INVALID_INPUT')
      const body = res.body as { error: { data: { zodError: { fieldErrors: object } } } }
      expect(body.error.data.zodError.fieldErrors).toHaveProperty('actions')
    }
    expect((await api.impersonation.get.query({ impersonationId: id })).actions).toEqual([])
  })

  it('bounds the batch and refuses times outside the impersonation', async () => {
    const { session } = await impersonate()
    const action = { method: 'GET' as const, route: '/orders', status: 200, at: at() }
    const tooMany = await failure(
      guard.impersonation.actions.mutate({
        sessionId: session.sessionId,
        actions: Array.from({ length: MAX_ACTIONS_PER_BATCH + 1 }, () => action),
      }),
    )
    expect(tooMany).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400 })
    const future = await failure(
      guard.impersonation.actions.mutate({
        sessionId: session.sessionId,
        actions: [{ ...action, at: at(3_600_000) }],
      }),
    )
    expect(future).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400 })
  })

  it('answers 404 IMPERSONATION_NOT_FOUND for a session ActAs does not know', async () => {
    // A real session that is not an impersonation's: the admin's own.
    const unknown = admin.sessionId
    const res = await callRaw(stack.app, 'impersonation.actions', {
      type: 'mutation',
      input: {
        sessionId: unknown,
        actions: [{ method: 'GET', route: '/orders', status: 200, at: at() }],
      },
      token: guardToken,
    })
    expect(res.status).toBe(404)
    expect(actasCode(res)).toBe('IMPERSONATION_NOT_FOUND')
  })

  it('is for machines granted it: staff and machines with only the reads are refused', async () => {
    const { session } = await impersonate()
    const input = {
      sessionId: session.sessionId,
      actions: [{ method: 'GET' as const, route: '/orders', status: 200, at: at() }],
    }
    expect((await failure(api.impersonation.actions.mutate(input))).code).toBe('FORBIDDEN')
    expect((await failure(reader.impersonation.actions.mutate(input))).code).toBe('FORBIDDEN')
    const customer = stack.client(() => session.token())
    expect((await failure(customer.impersonation.actions.mutate(input))).code).toBe('FORBIDDEN')
  })

  it('the trail is append-only: the database refuses to change or delete it', async () => {
    const { session } = await impersonate()
    await guard.impersonation.actions.mutate({
      sessionId: session.sessionId,
      actions: [{ method: 'GET', route: '/orders', status: 200, at: at() }],
    })
    const refusal = async (statement: ReturnType<typeof sql>) => {
      try {
        await stack.deps.database.db.execute(statement)
      } catch (error) {
        const e = error as Error & { cause?: Error }
        return e.cause?.message ?? e.message
      }
      return 'accepted'
    }
    expect(await refusal(sql`update impersonation_actions set status = 200`)).toMatch(
      /append-only: UPDATE on impersonation_actions refused/,
    )
    expect(await refusal(sql`delete from impersonation_actions`)).toMatch(/append-only: DELETE/)
    expect(await refusal(sql`truncate impersonation_actions`)).toMatch(/append-only: TRUNCATE/)
  })
})

describe('GET /v1/sessions/ended (the push of ends)', () => {
  let base = ''
  beforeAll(async () => {
    base = (await stack.listen()).replace(/\/trpc$/, '')
  })

  /** Opens the stream; `next()` resolves with the next event (a hang guard, not a timing). */
  async function follow(token: string | null, headers: Record<string, string> = {}) {
    const controller = new AbortController()
    const res = await fetch(`${base}/v1/sessions/ended`, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      signal: controller.signal,
    })
    const events: { event: string; data: unknown }[] = []
    let closed = false
    let wake: () => void = () => undefined
    if (res.ok && res.body) {
      void (async () => {
        const decoder = new TextDecoder()
        let buffer = ''
        try {
          for await (const chunk of res.body!) {
            buffer += decoder.decode(chunk as Uint8Array, { stream: true })
            let end: number
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end)
              buffer = buffer.slice(end + 2)
              const event = /^event: (.*)$/m.exec(block)?.[1]
              const data = /^data: (.*)$/m.exec(block)?.[1]
              if (event) events.push({ event, data: data ? JSON.parse(data) : null })
              wake()
            }
          }
        } catch {
          // aborted
        }
        closed = true
        wake()
      })()
    }
    const next = async (event: string) => {
      const deadline = Date.now() + 20_000
      for (;;) {
        const found = events.findIndex((e) => e.event === event)
        if (found >= 0) return events.splice(found, 1)[0]!.data
        if (closed || Date.now() > deadline) throw new Error(`no ${event} event`)
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, 200)
        })
      }
    }
    return { res, next, isClosed: () => closed, close: () => controller.abort() }
  }

  it('tells an impersonated session its own end at once, with who ended it and why, then closes', async () => {
    const { id, session } = await impersonate()
    const stream = await follow(await session.token())
    expect(stream.res.status).toBe(200)
    expect(stream.res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    await stream.next('open')
    await api.impersonation.end.mutate({ impersonationId: id, reason: 'Wrong customer opened' })
    const ended = (await stream.next('ended')) as Record<string, unknown>
    expect(ended).toMatchObject({
      impersonationId: id,
      sessionId: session.sessionId,
      impersonationEnded: {
        impersonationId: id,
        cause: 'ended_by_staff',
        reason: 'Wrong customer opened',
        endedBy: { id: admin.userId },
      },
    })
    await stream.next('never').catch(() => undefined)
    expect(stream.isClosed()).toBe(true)
  })

  it('tells a session whose impersonation already ended at once', async () => {
    const { id, session } = await impersonate()
    const token = await session.token()
    await api.impersonation.end.mutate({ impersonationId: id, reason: 'Ended before it asked' })
    const stream = await follow(token)
    expect(await stream.next('ended')).toMatchObject({ impersonationId: id })
  })

  it('streams every end to a machine granted sessions.revoked', async () => {
    const actas = await stack.m2mToken('actas-api')
    const stream = await follow(actas.token)
    await stream.next('open')
    const one = await impersonate()
    const two = await impersonate()
    await api.impersonation.end.mutate({ impersonationId: one.id, reason: 'First of two ended' })
    await api.impersonation.end.mutate({ impersonationId: two.id, reason: 'Second of two ended' })
    const seen = [await stream.next('ended'), await stream.next('ended')] as {
      impersonationId: string
      impersonationEnded: unknown
    }[]
    expect(seen.map((e) => e.impersonationId).sort()).toEqual([one.id, two.id].sort())
    // How it ended is for the session's own banner, not the machine's stream.
    expect(seen.map((e) => e.impersonationEnded)).toEqual([null, null])
    stream.close()
  })

  it('refuses with typed errors: no token 401, a session that is not impersonated and a machine not granted it 403', async () => {
    const body = async (r: Response) =>
      ((await r.json()) as { error: { data: { actasCode: string } } }).error.data.actasCode
    const none = await follow(null)
    expect({ status: none.res.status, code: await body(none.res) }).toEqual({
      status: 401,
      code: 'UNAUTHENTICATED',
    })
    const staff = await follow(await admin.token())
    expect({ status: staff.res.status, code: await body(staff.res) }).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    })
    const ungranted = await follow((await stack.m2mToken('no-scope')).token)
    expect({ status: ungranted.res.status, code: await body(ungranted.res) }).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    })
  })

  it('lets the authorized parties (the host application) call it cross-origin, no one else', async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/v1/sessions/ended`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      })
    const allowed = await preflight('http://localhost:5173')
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(allowed.headers.get('access-control-allow-headers')).toBe('authorization')
    const other = await preflight('https://evil.example')
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })
})
