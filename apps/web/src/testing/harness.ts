// Test harness for component and store tests: a stand-in for Clerk at the auth boundary
// (the Auth interface) and the real typed API client over a stubbed network (fetch).
import { createTestingPinia } from '@pinia/testing'
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { Pinia } from 'pinia'
import { vi } from 'vitest'
import { computed, createApp, h, ref } from 'vue'
import type { App, Component, Plugin } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Router } from 'vue-router'
import type { Auth, AuthSession, AuthUser } from '../auth/types'
import { AuthKey } from '../auth/types'
import { ApiKey, createApi } from '../lib/api'

// The API client loads lazily in the app; load it up front so tests need no real waiting.
await import('../lib/api-client')

export interface FakeAuth extends Auth {
  setUser(user: AuthUser | null, session?: AuthSession | null): void
  calls: { method: string; args: unknown[] }[]
  /** Make the next signInWith* reject with this error. */
  failNext(error: Error): void
}

export const staffUser: AuthUser = {
  id: 'user_ada',
  fullName: 'Ada Lovelace',
  primaryEmail: 'ada@support.actas.test',
  username: null,
  imageUrl: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  lastSignInAt: null,
  organizations: ['Support'],
}

export function fakeAuth(
  initial: { user?: AuthUser | null; session?: AuthSession | null } = {},
): FakeAuth {
  const user = ref<AuthUser | null>(initial.user === undefined ? staffUser : initial.user)
  const session = ref<AuthSession | null>(
    initial.session === undefined
      ? user.value
        ? { id: 'sess_1', expireAt: null, actor: null }
        : null
      : initial.session,
  )
  const calls: FakeAuth['calls'] = []
  let failure: Error | null = null
  const take = () => {
    const f = failure
    failure = null
    if (f) throw f
  }
  return {
    isLoaded: ref(true),
    loadFailed: ref(false),
    user: computed(() => user.value),
    session: computed(() => session.value),
    whenLoaded: () => Promise.resolve(),
    async signInWithPassword(identifier, password) {
      calls.push({ method: 'signInWithPassword', args: [identifier, password] })
      take()
    },
    async signInWithTicket(ticket) {
      calls.push({ method: 'signInWithTicket', args: [ticket] })
      take()
    },
    async signOut(redirectTo) {
      calls.push({ method: 'signOut', args: [redirectTo] })
      user.value = null
      session.value = null
    },
    getToken: () => Promise.resolve(session.value ? 'token-1' : null),
    setUser(u, s) {
      user.value = u
      session.value =
        s === undefined ? (u ? { id: 'sess_1', expireAt: null, actor: null } : null) : s
    },
    calls,
    failNext(error) {
      failure = error
    },
  }
}

export type ProcedureResult =
  | { data: unknown }
  | {
      error: {
        code: string
        httpStatus: number
        message: string
        retryAfter?: number
        rateLimitedBy?: 'actas' | 'clerk'
      }
    }
export type Handler = (input: unknown) => ProcedureResult | Promise<ProcedureResult>

const TRPC_CODES: Record<number, number> = {
  400: -32600,
  401: -32001,
  402: -32002,
  403: -32003,
  404: -32004,
  409: -32009,
  422: -32022,
  429: -32029,
  500: -32603,
  503: -32603,
}

export interface StubNetwork {
  fetch: typeof fetch
  /** Every procedure call, with its input and the Authorization header it carried. */
  calls: { path: string; input: unknown; authorization: string | null }[]
  handle(path: string, handler: Handler): void
}

/** A network that answers tRPC batch requests (GET and POST) from per-procedure handlers. */
export function stubNetwork(handlers: Record<string, Handler> = {}): StubNetwork {
  const table = new Map(Object.entries(handlers))
  const calls: StubNetwork['calls'] = []
  const stubFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
    )
    const paths = decodeURIComponent(url.pathname.replace(/^.*\/trpc\//, '')).split(',')
    const rawInputs: Record<string, unknown> =
      init?.method === 'POST'
        ? (JSON.parse(String(init.body ?? '{}')) as Record<string, unknown>)
        : (JSON.parse(url.searchParams.get('input') ?? '{}') as Record<string, unknown>)
    const headers = new Headers(init?.headers)
    const results = await Promise.all(
      paths.map(async (path, i) => {
        const procInput = rawInputs[String(i)]
        calls.push({ path, input: procInput, authorization: headers.get('authorization') })
        const handler = table.get(path)
        if (!handler) throw new Error(`no stub for ${path}`)
        const result = await handler(procInput)
        if ('data' in result) return { result: { data: result.data } }
        const { code, httpStatus, message, retryAfter, rateLimitedBy } = result.error
        return {
          error: {
            message,
            code: TRPC_CODES[httpStatus] ?? -32603,
            data: {
              code: 'X',
              httpStatus,
              actasCode: code,
              ...(retryAfter ? { retryAfter } : {}),
              ...(rateLimitedBy ? { rateLimitedBy } : {}),
            },
          },
        }
      }),
    )
    const status = results.every((r) => 'result' in r) ? 200 : 207
    return new Response(JSON.stringify(results), {
      status,
      headers: { 'content-type': 'application/json' },
    })
  }) as typeof fetch
  return { fetch: stubFetch, calls, handle: (path, handler) => table.set(path, handler) }
}

/** Provides the auth adapter and the typed API client (over the stubbed network) to an app. */
function provideAuthAndApi(auth: FakeAuth, network: StubNetwork): Plugin {
  const api = createApi({
    url: 'http://api.test/trpc',
    getToken: () => auth.getToken(),
    fetch: network.fetch,
  })
  return {
    install(app) {
      app.provide(AuthKey, auth)
      app.provide(ApiKey, api)
    },
  }
}

/** Global plugins for mount(): a testing Pinia (real actions) plus the auth and API injections. */
export function harness(auth: FakeAuth, network: StubNetwork): Plugin[] {
  return [
    provideAuthAndApi(auth, network),
    createTestingPinia({ stubActions: false, createSpy: vi.fn }),
  ]
}

/**
 * A bare app with the auth and API injections and a real, active Pinia: for store and router
 * tests that use stores outside a component.
 */
export function storeApp(auth: FakeAuth, network: StubNetwork): { app: App; pinia: Pinia } {
  const app = createApp({ render: () => null })
  app.use(provideAuthAndApi(auth, network))
  const pinia = createPinia()
  app.use(pinia)
  setActivePinia(pinia)
  return { app, pinia }
}

export function userSummary(overrides: Partial<Record<string, unknown>> & { id: string }) {
  return {
    primaryEmail: `${overrides.id}@example.com`,
    fullName: `Name ${overrides.id}`,
    imageUrl: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    lastSignInAt: null,
    lastActiveAt: null,
    banned: false,
    locked: false,
    organizations: [],
    impersonation: { allowed: true },
    ...overrides,
  }
}

export const meStaff = {
  userId: 'user_ada',
  sessionId: 'sess_1',
  organization: { id: 'org_1', slug: 'support', role: 'org:admin' },
  permissions: ['org:admin:impersonate'],
  canImpersonate: true,
  actor: null,
}

/** Lets batched requests (tRPC dispatches them on a timer) and the renders they cause finish. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
}

/**
 * A memory router already at `url`: `view` is served at its path, and each of `elsewhere` renders
 * a placeholder, so a test can follow where the view navigates (`router.currentRoute`).
 */
export async function routerAt(
  url: string,
  view: { path: string; name?: string; component: Component },
  elsewhere: readonly string[],
): Promise<Router> {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      view,
      ...elsewhere.map((path) => ({ path, component: { render: () => h('p', path) } })),
    ],
  })
  await router.push(url)
  await router.isReady()
  return router
}
