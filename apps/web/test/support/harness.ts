// Test harness for component and store tests: the whole ActAs back end, real, in this process.
//
// - The API is @actas/api's own test stack (`@actas/api/testing`: buildApp over PGlite in memory,
//   real @clerk/fastify), called in this process: the console's real typed client sends its
//   requests to the API's URL, and `fetch` for that URL is answered by the app itself through
//   Fastify's inject (`stack.fetch`: every hook, the real tRPC wire format, no socket). Timeouts
//   and aborts are the client's own; the API can be stopped or hung as the console sees it
//   (`setApi`).
// - Clerk is the local Clerk-compatible server (@actas/clerk-local) started by that stack. The
//   console's `Auth` boundary is implemented here over its Frontend API (`localClerkAuth`): real
//   password and ticket sign-ins, real sessions and session tokens, Clerk's real error codes read
//   by the console's own `toAuthError`. (The browser adapter over @clerk/vue + clerk-js is
//   exercised by the Chromium e2e, test/e2e/.)
// - Error states come from the local server: `stack.clerk.faults` (429/503, latency) and its
//   quota (402).
//
// One stack per test file (`webStack()` in beforeAll): a PGlite open takes seconds.
//
// No fake of ActAs's API: the requests reach the real router. Only the wire between the console
// and the API is in-process, and `setApi` breaks it the ways a network does (refused, hung).
import { ORIGIN, startStack } from '@actas/api/testing'
import type { Stack, StackOptions } from '@actas/api/testing'
import { createFapiClient, FapiError } from '@actas/clerk-local'
import type { FapiClient, SeededAccount } from '@actas/clerk-local'
import { ClerkAPIResponseError } from '@clerk/shared/error'
import { createTestingPinia } from '@pinia/testing'
import { flushPromises } from '@vue/test-utils'
import { createPinia, disposePinia, setActivePinia } from 'pinia'
import type { Pinia } from 'pinia'
import { vi } from 'vitest'
import { computed, createApp, h, ref } from 'vue'
import type { App, Component, Plugin } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Router } from 'vue-router'
import { toActor } from '../../src/auth/adapter'
import { toAuthError } from '../../src/auth/errors'
import type { Auth, AuthSession, AuthUser } from '../../src/auth/types'
import { AuthKey } from '../../src/auth/types'
import { ApiKey, createApi, RequestTimeoutKey } from '../../src/lib/api'
import type { ApiState } from './relay'
import type { ActAsClient } from '../../src/lib/api'

// The API client loads lazily in the app; load it up front so tests need no real waiting.
await import('../../src/lib/api-client')

export { ORIGIN }

export interface LocalClerkAuth extends Auth {
  /** Every sign-in/sign-out call made through this auth, in order (never tokens). */
  calls: { method: string; args: unknown[] }[]
  /** The FAPI client behind it (a browser's Clerk client). */
  fapi: FapiClient
  /** Reads the client (sessions, user) from the Frontend API again, as clerk-js does. */
  refresh(): Promise<void>
}

interface FapiUserJson {
  id: string
  first_name: string | null
  last_name: string | null
  username: string | null
  image_url: string
  has_image: boolean
  primary_email_address_id: string | null
  email_addresses: { id: string; email_address: string }[]
  created_at: number
  last_sign_in_at: number | null
  organization_memberships?: { organization: { name: string } }[]
}

interface FapiSessionJson {
  id: string
  status: string
  expire_at: number
  created_at: number
  actor: unknown
  user?: FapiUserJson
}

function toUser(u: FapiUserJson): AuthUser {
  const name = [u.first_name, u.last_name].filter(Boolean).join(' ')
  return {
    id: u.id,
    fullName: name || null,
    primaryEmail:
      u.email_addresses.find((e) => e.id === u.primary_email_address_id)?.email_address ?? null,
    username: u.username,
    imageUrl: u.has_image ? u.image_url : null,
    createdAt: new Date(u.created_at),
    lastSignInAt: u.last_sign_in_at ? new Date(u.last_sign_in_at) : null,
    organizations: (u.organization_memberships ?? []).map((m) => m.organization.name),
  }
}

/** Clerk's FAPI errors as clerk-js throws them, so the console's own `toAuthError` reads them. */
function asClerkError(error: unknown): unknown {
  if (!(error instanceof FapiError)) return error
  return new ClerkAPIResponseError(error.message, {
    status: error.status,
    data: error.errors.map((e) => ({
      code: e.code,
      message: e.message,
      ...(e.longMessage ? { long_message: e.longMessage } : {}),
      ...(e.meta ? { meta: e.meta } : {}),
    })),
  })
}

/** The console's `Auth` over the local Clerk server's Frontend API, as a browser tab would use it. */
export function localClerkAuth(stack: Stack): LocalClerkAuth {
  const fapi = createFapiClient({ frontendApiUrl: stack.clerk.frontendApiUrl, origin: ORIGIN })
  const user = ref<AuthUser | null>(null)
  const session = ref<AuthSession | null>(null)
  const calls: LocalClerkAuth['calls'] = []

  /** Reads the client (sessions, user) back from the Frontend API, as clerk-js does. */
  async function refresh(): Promise<void> {
    const res = await fapi.request('GET', '/v1/client')
    const body = res.body as {
      response: { sessions: FapiSessionJson[]; last_active_session_id: string | null } | null
    }
    const client = body.response
    const active = client?.sessions.find(
      (s) => s.id === client.last_active_session_id && s.status === 'active',
    )
    user.value = active?.user ? toUser(active.user) : null
    session.value = active
      ? {
          id: active.id,
          expireAt: new Date(active.expire_at),
          createdAt: new Date(active.created_at),
          actor: toActor(active.actor),
        }
      : null
  }

  async function signIn(run: () => Promise<unknown>): Promise<void> {
    try {
      await run()
    } catch (error) {
      throw toAuthError(asClerkError(error))
    }
    await refresh()
  }

  return {
    fapi,
    calls,
    refresh,
    isLoaded: ref(true),
    loadFailed: ref(false),
    user: computed(() => user.value),
    session: computed(() => session.value),
    whenLoaded: () => Promise.resolve(),
    signInWithPassword(identifier, password) {
      calls.push({ method: 'signInWithPassword', args: [identifier] })
      return signIn(() => fapi.signInWithPassword(identifier, password))
    },
    signInWithTicket(ticket) {
      calls.push({ method: 'signInWithTicket', args: [] })
      return signIn(() => fapi.signInWithTicket(ticket))
    },
    async reverifyWithPassword(password) {
      calls.push({ method: 'reverifyWithPassword', args: [] })
      try {
        await fapi.reverifyWithPassword(password, {
          ...(session.value ? { sessionId: session.value.id } : {}),
        })
      } catch (error) {
        throw toAuthError(asClerkError(error))
      }
    },
    async signOut(redirectTo) {
      calls.push({ method: 'signOut', args: [redirectTo] })
      await fapi.signOut()
      user.value = null
      session.value = null
    },
    buildUrlWithAuth(url) {
      calls.push({ method: 'buildUrlWithAuth', args: [url] })
      return url // no dev browser in this Node-side client
    },
    async getToken() {
      return session.value ? fapi.getToken(session.value.id) : null
    },
  }
}

export type { ApiState }

/** The API's URL as the console is given it: answered in-process, never resolved on a network. */
const API_URL = 'http://api.actas.test/trpc'

/**
 * Routes `fetch` for the API's origin to `answer` and everything else (the local Clerk server)
 * to the environment's own fetch, in which the console runs; `restore()` puts it back. The
 * console's code calls `fetch` itself in places (the keepalive sign-in report), so the route is
 * on the global, not only on the clients the harness makes.
 */
function routeApiFetch(answer: typeof fetch): { restore(): void } {
  const original = globalThis.fetch
  const origin = new URL(API_URL).origin
  const routed: typeof fetch = (input, init) => {
    const url = typeof input === 'object' && 'url' in input ? input.url : String(input)
    return new URL(url).origin === origin ? answer(input, init) : original(input, init)
  }
  globalThis.fetch = routed
  return {
    restore() {
      if (globalThis.fetch === routed) globalThis.fetch = original
    },
  }
}

/** A network error as fetch throws it (the console reads a TypeError as "no connection"). */
const networkError = (why: string) => new TypeError('fetch failed', { cause: new Error(why) })

export interface ApiChoice {
  /** The console's request and sign-in timeout (default: the app's own, 10 s). */
  timeoutMs?: number
}

export interface WebStack {
  stack: Stack
  /** The API's tRPC endpoint as the console reaches it (answered in this process). */
  apiUrl: string
  /** Stops, hangs or restarts the API as the console sees it (see `apiRelay`). */
  setApi(state: ApiState): Promise<void>
  account(role: SeededAccount['role']): SeededAccount
  /** A signed-out browser tab's auth. */
  signedOut(): LocalClerkAuth
  /** A browser tab signed in (over the local Frontend API) as a seeded account. */
  signedIn(role: SeededAccount['role']): Promise<LocalClerkAuth>
  /** A tab signed in as `customerId` through a real impersonation started by the admin. */
  impersonating(
    customerId: string,
    reason?: string,
    sessionMinutes?: number,
  ): Promise<{ auth: LocalClerkAuth; impersonationId: string; adminUserId: string }>
  /** The console's typed API client as this auth (what `useApi()` returns in the app). */
  api(auth: Auth, options?: ApiChoice): ActAsClient
  /** Global plugins for mount(): a testing Pinia (real actions) plus the auth and API. */
  plugins(auth: Auth, options?: ApiChoice): Plugin[]
  /** A bare app with the auth and API and a real, active Pinia (store and router tests). */
  storeApp(auth: Auth, options?: ApiChoice): { app: App; pinia: Pinia }
  /**
   * The Pinia of the last `plugins()` or `storeApp()`: what a test reads its stores from
   * (`useSessionStore(web.pinia)`), made active when read. Not the ambient active Pinia, which
   * any store action sets to its own: a late action of an earlier file of the worker (a check
   * still in flight at its close) would leave it on that file's disposed Pinia ("Pinia
   * destroyed").
   */
  readonly pinia: Pinia
  close(): Promise<void>
}

/**
 * The page as a fresh environment has it: empty storage and body. The files of a worker share
 * its modules and DOM environment (vitest.config.ts, `isolate: false`), so each file's stack
 * starts and ends with this.
 */
function freshPage(): void {
  if (typeof document === 'undefined') return
  sessionStorage.clear()
  localStorage.clear()
  document.body.innerHTML = ''
}

/** Starts the API (PGlite in memory) and the local Clerk server for one test file. */
export async function webStack(options: StackOptions = {}): Promise<WebStack> {
  freshPage()
  const stack = await startStack({
    ...options,
    env: (clerk) => ({
      // Tests start many impersonations and searches within a minute.
      RATE_LIMIT_START_PER_MINUTE: '1000',
      RATE_LIMIT_SEARCH_PER_MINUTE: '10000',
      ...(typeof options.env === 'function' ? options.env(clerk) : options.env),
    }),
  })
  // The API as the console sees it: answered, refused (stopped) or never answered (hung; a
  // request waits until its own deadline aborts it, or until the API is stopped or back, which
  // drops it as a closed connection would).
  let state: ApiState = 'up'
  const hung = new Set<(error: Error) => void>()
  const dropHung = () => {
    for (const drop of hung) drop(networkError('connection reset'))
    hung.clear()
  }
  const answer: typeof fetch = (input, init) => {
    if (state === 'stopped') return Promise.reject(networkError('connect ECONNREFUSED'))
    if (state === 'up') return stack.fetch(input, init)
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
    return new Promise<Response>((_, reject) => {
      const drop = (error: Error) => {
        hung.delete(drop)
        reject(error)
      }
      hung.add(drop)
      signal?.addEventListener('abort', () => drop(signal.reason as Error), { once: true })
    })
  }
  const route = routeApiFetch(answer)
  const apiUrl = API_URL

  const api = (auth: Auth, opts: ApiChoice = {}) =>
    createApi({
      url: apiUrl,
      getToken: () => auth.getToken(),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    })
  // What this file mounted and the Pinias it made, unmounted and disposed at close: nothing it
  // left running (a banner's polling, a store's watch) reaches into the next file of the worker.
  const apps = new Set<App>()
  const pinias = new Set<Pinia>()
  let current: Pinia | undefined
  const provide = (auth: Auth, opts: ApiChoice = {}): Plugin => ({
    install(app) {
      apps.add(app)
      app.onUnmount(() => apps.delete(app))
      app.provide(AuthKey, auth)
      app.provide(ApiKey, api(auth, opts))
      if (opts.timeoutMs) app.provide(RequestTimeoutKey, opts.timeoutMs)
    },
  })

  const web: WebStack = {
    stack,
    apiUrl,
    async setApi(next) {
      if (next !== 'hung') dropHung()
      state = next
    },
    account: (role) => stack.account(role),
    signedOut: () => localClerkAuth(stack),
    async signedIn(role) {
      const auth = localClerkAuth(stack)
      const a = stack.account(role)
      await auth.signInWithPassword(a.identifier, a.password)
      auth.calls.length = 0
      return auth
    },
    async impersonating(customerId, reason = 'Customer reports missing invoices', sessionMinutes) {
      const admin = await stack.signIn('admin')
      const client = stack.client(() => admin.token())
      const started = await client.impersonation.start.mutate({
        userId: customerId,
        reason,
        ...(sessionMinutes ? { sessionMinutes } : {}),
      })
      const auth = localClerkAuth(stack)
      await auth.signInWithTicket(started.ticket)
      auth.calls.length = 0
      return { auth, impersonationId: started.impersonationId, adminUserId: admin.userId }
    },
    api,
    plugins: (auth, opts) => {
      const pinia = createTestingPinia({ stubActions: false, createSpy: vi.fn })
      pinias.add(pinia)
      current = pinia
      return [provide(auth, opts), pinia]
    },
    storeApp(auth, opts) {
      const app = createApp({ render: () => null })
      app.use(provide(auth, opts))
      apps.delete(app) // never mounted: its stores live in its Pinia, disposed at close
      const pinia = createPinia()
      pinias.add(pinia)
      current = pinia
      app.use(pinia)
      setActivePinia(pinia)
      return { app, pinia }
    },
    get pinia() {
      if (!current) throw new Error('no Pinia yet: mount with web.plugins() or call web.storeApp()')
      // Active as well: under NODE_ENV=test, a store called with a Pinia while a *testing* Pinia
      // is active ignores the one given and uses the active one (pinia's useStore), and a late
      // action of an earlier file may have made its disposed testing Pinia active.
      setActivePinia(current)
      return current
    },
    async close() {
      for (const app of [...apps]) app.unmount()
      for (const pinia of pinias) disposePinia(pinia)
      freshPage()
      dropHung()
      route.restore()
      await stack.close()
    },
  }
  return web
}

/** Lets requests and the renders they cause finish: waits until `ready()` holds. */
export async function until(ready: () => boolean, what = 'the condition'): Promise<void> {
  await vi.waitFor(
    () => {
      if (!ready()) throw new Error(`still waiting for ${what}`)
    },
    { timeout: 15_000, interval: 10 },
  )
  await settle()
}

/** Lets pending promises, timers of 0 ms and the renders they cause finish. */
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
