// Prints the gzip size of what a host application ships for the banner: the custom element
// (`@actas/host-kit/element`, Vue's runtime included) and the Vue component alone (Vue external,
// as a Vue application already has it). A figure, not a test.
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'

const root = fileURLToPath(new URL('..', import.meta.url))
const define = {
  __VUE_OPTIONS_API__: 'false',
  __VUE_PROD_DEVTOOLS__: 'false',
  __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  'process.env.NODE_ENV': '"production"',
}

async function size(entry, external) {
  const out = await build({
    root,
    logLevel: 'silent',
    configFile: false,
    define,
    resolve: { conditions: ['@actas/source', 'browser', 'module', 'import', 'default'] },
    build: {
      write: false,
      minify: true,
      lib: { entry: `${root}src/${entry}`, formats: ['es'], fileName: 'out' },
      rollupOptions: { external },
    },
  })
  const chunks = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output)
  const code = chunks
    .filter((c) => c.type === 'chunk')
    .map((c) => c.code)
    .join('')
  return { raw: Buffer.byteLength(code), gzip: gzipSync(code).length }
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`
const element = await size('element.ts', [])
const component = await size('index.ts', ['vue'])
console.log(
  `<actas-banner> custom element (Vue runtime included): ${kb(element.gzip)} gzip (${kb(element.raw)} min)`,
)
console.log(
  `ActAsBanner Vue component (Vue external): ${kb(component.gzip)} gzip (${kb(component.raw)} min)`,
)
