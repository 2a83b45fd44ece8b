// The composition root of the console: env → router → Clerk (auth adapter) → API client → Pinia.
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { installAuth } from './auth/install'
import { env } from './env'
import { ApiKey, createApi } from './lib/api'
import { createAppRouter, installGuards } from './router'
import './styles.css'

const app = createApp(App)
const router = createAppRouter(env.baseUrl)
const auth = installAuth(app, env, router)
app.provide(ApiKey, createApi({ url: env.apiUrl, getToken: () => auth.getToken() }))
const pinia = createPinia()
app.use(pinia)
installGuards(router, auth, pinia)
app.use(router)
app.mount('#app')
