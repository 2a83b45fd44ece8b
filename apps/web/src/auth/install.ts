// Installs @clerk/vue with clerk-js loaded from our own origin (see vite.config.ts), no
// prebuilt UI, no telemetry, and the Frontend API behind the same-origin proxy.
import { clerkPlugin } from '@clerk/vue'
import type { App } from 'vue'
import type { Router } from 'vue-router'
import type { AppEnv } from '../env'
import { REQUEST_TIMEOUT_MS } from '../lib/deadline'
import { createClerkAuth } from './adapter'
import { HeadlessClerkUI } from './headless-ui'
import { AuthKey } from './types'
import type { Auth } from './types'

// clerk-js (script and first Frontend API answer) gets the same 10 s as every other request.
const LOAD_TIMEOUT_MS = REQUEST_TIMEOUT_MS

export function installAuth(app: App, env: AppEnv, router: Router): Auth {
  app.use(clerkPlugin, {
    publishableKey: env.publishableKey,
    ...(env.proxyUrl ? { proxyUrl: env.proxyUrl } : {}),
    telemetry: false,
    prefetchUI: false,
    ui: { ClerkUI: HeadlessClerkUI as never },
    // The vue plugin's types omit the script options; they pass through to loadClerkJSScript.
    ...({ __internal_clerkJSUrl: env.clerkJsUrl, scriptLoadTimeout: LOAD_TIMEOUT_MS } as object),
    routerPush: (to: string) => void router.push(to),
    routerReplace: (to: string) => void router.replace(to),
    signInUrl: '/sign-in',
  })
  const auth = app.runWithContext(() => createClerkAuth(LOAD_TIMEOUT_MS))
  app.provide(AuthKey, auth)
  return auth
}
