import { beforeEach, describe, expect, it } from 'vitest'
import {
  fakeAuth,
  meStaff,
  storeApp,
  stubNetwork,
  type FakeAuth,
  type StubNetwork,
} from '../testing/harness'
import { useSessionStore } from './session'

let auth: FakeAuth
let network: StubNetwork

function store() {
  storeApp(auth, network)
  return useSessionStore()
}

beforeEach(() => {
  sessionStorage.clear()
  auth = fakeAuth()
  network = stubNetwork({ me: () => ({ data: meStaff }) })
})

describe('session store', () => {
  it('knows the permission from the API, once per session', async () => {
    const session = store()
    expect(session.canImpersonate).toBe(false)
    await Promise.all([session.loadMe(), session.loadMe()])
    expect(session.canImpersonate).toBe(true)
    expect(network.calls.filter((c) => c.path === 'me')).toHaveLength(1)
    expect(network.calls[0]!.authorization).toBe('Bearer token-1')
  })

  it('forgets the permission when the session changes', async () => {
    const session = store()
    await session.loadMe()
    network.handle('me', () => ({
      data: {
        ...meStaff,
        sessionId: 'sess_2',
        userId: 'user_jane',
        canImpersonate: false,
        actor: {
          userId: 'user_ada',
          impersonationId: null,
          reason: 'r',
          email: null,
          sessionExpiresAt: null,
        },
      },
    }))
    auth.setUser(
      { ...auth.user.value!, id: 'user_jane' },
      {
        id: 'sess_2',
        expireAt: null,
        actor: { sub: 'user_ada', reason: 'r', impersonationId: null },
      },
    )
    expect(session.canImpersonate).toBe(false)
    await session.loadMe()
    expect(session.me?.actor?.userId).toBe('user_ada')
    expect(session.canImpersonate).toBe(false)
  })

  it('reports an API failure instead of granting access', async () => {
    network.handle('me', () => ({
      error: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, message: 'down' },
    }))
    const session = store()
    await session.loadMe()
    expect(session.canImpersonate).toBe(false)
    expect(session.meError?.title).toBe('Clerk unavailable')
  })

  it("knows who started the impersonation and until when from the API's me, not from storage", async () => {
    const clerkEnd = new Date(Date.now() + 30 * 60_000)
    const auditEnd = '2026-11-24T20:13:00.000Z'
    auth.setUser(
      { ...auth.user.value!, id: 'user_jane' },
      {
        id: 'sess_2',
        expireAt: clerkEnd,
        actor: { sub: 'user_ada', reason: 'r', impersonationId: 'imp_1' },
      },
    )
    const session = store()
    // before me() answers: the actor's user id and Clerk's expiry
    expect(session.startedBy).toBe('user_ada')
    expect(session.sessionExpiresAt).toEqual(clerkEnd)
    network.handle('me', () => ({ data: impersonatedMe('ada@support.actas.test', auditEnd) }))
    await session.loadMe()
    expect(session.startedBy).toBe('ada@support.actas.test')
    // the earlier of Clerk's expiry and the audit row's latest end
    expect(session.sessionExpiresAt).toEqual(
      new Date(Math.min(clerkEnd.getTime(), Date.parse(auditEnd))),
    )
    expect(sessionStorage.length).toBe(0)

    // no audited email (row missing or not this session's): the actor's user id
    network.handle('me', () => ({ data: impersonatedMe(null, null) }))
    await session.loadMe(true)
    expect(session.startedBy).toBe('user_ada')
    expect(session.sessionExpiresAt).toEqual(clerkEnd)
  })

  it('Stop ends the impersonated session and pre-fills the staff email from me()', async () => {
    auth.setUser(
      { ...auth.user.value!, id: 'user_jane' },
      {
        id: 'sess_2',
        expireAt: null,
        actor: { sub: 'user_ada', reason: 'r', impersonationId: 'imp_1' },
      },
    )
    network.handle('me', () => ({ data: impersonatedMe('ada@support.actas.test', null) }))
    const session = store()
    await session.loadMe()
    await session.stopImpersonating()
    expect(auth.calls).toContainEqual({ method: 'signOut', args: ['/sign-in'] })
    expect(session.signedIn).toBe(false)
    expect(session.prefillIdentifier).toBe('ada@support.actas.test')
    expect(sessionStorage.length).toBe(0)
  })
})

function impersonatedMe(email: string | null, sessionExpiresAt: string | null) {
  return {
    ...meStaff,
    sessionId: 'sess_2',
    userId: 'user_jane',
    organization: null,
    permissions: [],
    canImpersonate: false,
    actor: { userId: 'user_ada', impersonationId: 'imp_1', reason: 'r', email, sessionExpiresAt },
  }
}
