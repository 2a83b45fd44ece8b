import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defaultClientConditions, defineConfig, loadEnv } from 'vite'
import type { Plugin, ProxyOptions } from 'vite'
// From the source file (bundled into the config), not the package's dist: `dev` on a fresh
// clone runs before any build.
import { CONSOLE_CONFIG_PATH } from '../../packages/contracts/src/facts.ts'
import { validateWebEnv } from './env.schema.ts'

// clerk-js comes from the npm package and is served from our own origin as a chunk of its
// own: its browser build (clerk.browser.js, ~84 KB gzipped, UI in lazy chunks) lives at
// /clerk-js/<version>/ — served from node_modules in dev, copied into dist/ at build time.
const require = createRequire(import.meta.url)
const clerkJsDir = dirname(require.resolve('@clerk/clerk-js'))
const clerkJsVersion = (
  JSON.parse(readFileSync(join(clerkJsDir, '..', 'package.json'), 'utf8')) as { version: string }
).version
const isClerkBrowserFile = (f: string) =>
  f === 'clerk.browser.js' || /^[\w-]+_clerk\.browser_[0-9a-f]+_[\d.]+\.js$/.test(f)
const clerkJsPrefix = `/clerk-js/${clerkJsVersion}/`

function clerkJsFromNpm(): Plugin {
  return {
    name: 'actas:clerk-js-from-npm',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = req.url?.split('?')[0] ?? ''
        if (!path.startsWith(clerkJsPrefix)) return next()
        const file = path.slice(clerkJsPrefix.length)
        if (!isClerkBrowserFile(file)) return next()
        res.setHeader('content-type', 'text/javascript; charset=utf-8')
        res.setHeader('cache-control', 'public, max-age=31536000, immutable')
        res.end(readFileSync(join(clerkJsDir, file)))
      })
    },
    generateBundle() {
      for (const file of readdirSync(clerkJsDir).filter(isClerkBrowserFile)) {
        this.emitFile({
          type: 'asset',
          fileName: `${clerkJsPrefix.slice(1)}${file}`,
          source: readFileSync(join(clerkJsDir, file)),
        })
      }
    },
  }
}

// Same-origin proxies (dev and preview): /__clerk → the Frontend API (clerk-js `proxyUrl`),
// /trpc and /config.json → the API. Targets come from the environment (scripts/dev.mjs, the e2e harness).
function proxies(): Record<string, ProxyOptions> {
  const out: Record<string, ProxyOptions> = {}
  const fapi = process.env['ACTAS_FAPI_TARGET']
  const api = process.env['ACTAS_API_TARGET']
  if (fapi) {
    out['/__clerk'] = {
      target: fapi,
      changeOrigin: true,
      rewrite: (path) => path.replace(/^\/__clerk/, ''),
    }
  }
  if (api) {
    out['/trpc'] = { target: api, changeOrigin: true }
    // The console's settings (src/env.ts) come from the API in dev and preview too.
    out[CONSOLE_CONFIG_PATH] = { target: api, changeOrigin: true }
  }
  return out
}

export default defineConfig(({ mode }) => {
  validateWebEnv(loadEnv(mode, process.cwd(), 'VITE_'))
  return {
    plugins: [vue(), clerkJsFromNpm()],
    resolve: { conditions: ['@actas/source', ...defaultClientConditions] },
    define: { __CLERK_JS_VERSION__: JSON.stringify(clerkJsVersion) },
    server: { proxy: proxies() },
    preview: { proxy: proxies() },
    build: {
      target: 'es2022',
      manifest: true,
    },
  }
})
