// Bundle figures from dist/.vite/manifest.json: the console's initial JS (the entry and its
// static imports, i.e. what the first route needs before it renders) gzipped per chunk,
// lazy chunks, and clerk-js (served from our origin, loaded by @clerk/vue) reported apart.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length

export function bundleReport(distDir) {
  const manifest = JSON.parse(readFileSync(join(distDir, '.vite', 'manifest.json'), 'utf8'))
  const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry)
  if (!entryKey) throw new Error('no entry in the manifest: run `vite build` first')
  const initial = new Set()
  const walk = (key) => {
    if (initial.has(key)) return
    initial.add(key)
    for (const dep of manifest[key].imports ?? []) walk(dep)
  }
  walk(entryKey)
  const chunk = (key) => {
    const file = join(distDir, manifest[key].file)
    return { name: manifest[key].file, bytes: statSync(file).size, gzip: gz(file) }
  }
  // The first route a visitor sees is the sign-in screen: its lazy chunk loads before it renders.
  const firstRouteKey = Object.keys(manifest).find((k) => k.endsWith('views/SignInView.vue'))
  if (firstRouteKey) walk(firstRouteKey)
  const initialChunks = [...initial].map(chunk)
  const css = [...initial]
    .flatMap((k) => manifest[k].css ?? [])
    .map((f) => ({ name: f, gzip: gz(join(distDir, f)) }))
  const lazyChunks = Object.keys(manifest)
    .filter((k) => !initial.has(k) && manifest[k].file.endsWith('.js'))
    .map(chunk)
  const clerkDir = join(distDir, 'clerk-js')
  const version = readdirSync(clerkDir)[0]
  const clerkMain = join(clerkDir, version, 'clerk.browser.js')
  return {
    initialChunks,
    initialGzip: initialChunks.reduce((a, c) => a + c.gzip, 0),
    css,
    lazyChunks,
    clerkJs: {
      name: `clerk-js/${version}/clerk.browser.js`,
      bytes: statSync(clerkMain).size,
      gzip: gz(clerkMain),
    },
  }
}

export function printBundle(report) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`
  console.log('Bundle (gzip -9)')
  console.log(
    '  initial JS of the console (entry + static imports + the sign-in route), without clerk-js:',
  )
  for (const c of report.initialChunks)
    console.log(`    ${c.name.padEnd(52)} ${kb(c.gzip).padStart(9)}  (${kb(c.bytes)} raw)`)
  console.log(
    `    ${'TOTAL'.padEnd(52)} ${kb(report.initialGzip).padStart(9)}   target ≤ 60 KB: ${report.initialGzip <= 60 * 1024 ? 'met' : 'MISSED'}`,
  )
  for (const c of report.css) console.log(`    css ${c.name.padEnd(48)} ${kb(c.gzip).padStart(9)}`)
  console.log('  lazy chunks (loaded by later routes):')
  for (const c of report.lazyChunks)
    console.log(`    ${c.name.padEnd(52)} ${kb(c.gzip).padStart(9)}`)
  console.log(
    `  clerk-js, apart: ${report.clerkJs.name} ${kb(report.clerkJs.gzip)} gzip (${kb(report.clerkJs.bytes)} raw), loaded async by @clerk/vue`,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printBundle(bundleReport(new URL('../dist', import.meta.url).pathname))
}
