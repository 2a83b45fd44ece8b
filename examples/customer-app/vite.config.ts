// The customer application's pages (web/): a multi-page Vite app, served on its own origin in
// `dev` (http://127.0.0.1:5180) and by `vite preview` in the e2e. Same-origin proxies: /__clerk →
// the Frontend API (clerk-js `proxyUrl`), /api → this app's Fastify service (src/main.ts).
import { fileURLToPath } from 'node:url'
import { defaultClientConditions, defineConfig } from 'vite'
import type { ProxyOptions } from 'vite'
import { pageShell } from './page-shell.ts'

const web = (file: string) => fileURLToPath(new URL(`web/${file}`, import.meta.url))

function proxies(): Record<string, ProxyOptions> {
  const out: Record<string, ProxyOptions> = {}
  const fapi = process.env['ACTAS_FAPI_TARGET']
  const service = process.env['CUSTOMER_APP_SERVICE_TARGET']
  if (fapi)
    out['/__clerk'] = {
      target: fapi,
      changeOrigin: true,
      rewrite: (path) => path.replace(/^\/__clerk/, ''),
    }
  // ActAs's API (the host kit's customer access page calls its customer.* procedures).
  const actas = process.env['ACTAS_API_TARGET']
  if (actas)
    out['/actas-api'] = {
      target: actas,
      changeOrigin: true,
      rewrite: (path) => path.replace(/^\/actas-api/, ''),
    }
  if (service)
    out['/api'] = {
      target: service,
      changeOrigin: true,
      rewrite: (path) => path.replace(/^\/api/, ''),
    }
  return out
}

export default defineConfig({
  root: web(''),
  plugins: [pageShell()],
  resolve: { conditions: ['@actas/source', ...defaultClientConditions] },
  // Vue's esm-bundler build (inside the host kit's custom element) reads these compile-time
  // flags; @vitejs/plugin-vue sets them for Vue apps, a page without Vue sets them itself.
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  server: { proxy: proxies() },
  preview: { proxy: proxies() },
  build: {
    target: 'es2022',
    outDir: fileURLToPath(new URL('dist/web', import.meta.url)),
    emptyOutDir: true,
    rollupOptions: {
      input: {
        orders: web('index.html'),
        account: web('account.html'),
        access: web('access.html'),
      },
    },
  },
})
