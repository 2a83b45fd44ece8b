// The composition root of the console: settings (from the server) → router → Clerk (auth
// adapter) → API client → Pinia.
// (No top-level await: Rollup would then move every module the lazy routes share with the entry
// into chunks of their own, which costs the first route ~3 KB gzip.)
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { installAuth } from './auth/install'
import { configUrl, loadEnv } from './env'
import type { AppEnv } from './env'
import { ApiKey, createApi } from './lib/api'
import { createAppRouter, installGuards } from './router'
import './styles.css'

function start(env: AppEnv): void {
  const app = createApp(App)
  const router = createAppRouter(env.baseUrl)
  const auth = installAuth(app, env, router)
  app.provide(ApiKey, createApi({ url: env.apiUrl, getToken: () => auth.getToken() }))
  const pinia = createPinia()
  app.use(pinia)
  installGuards(router, auth, pinia)
  app.use(router)
  app.mount('#app')
}

loadEnv().then(start, (error: unknown) => {
  // Without its settings the console cannot sign anyone in: say so instead of a blank page.
  const p = document.createElement('p')
  p.setAttribute('role', 'alert')
  p.textContent = `The console could not read its settings (${configUrl}): ${error instanceof Error ? error.message : String(error)}. Reload to try again.`
  document.getElementById('app')?.replaceChildren(p)
  throw error
})
