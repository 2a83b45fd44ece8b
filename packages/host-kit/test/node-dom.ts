// A DOM for the tests that also run the real ActAs API in this process (the Node environment):
// happy-dom's document, elements, events and custom elements, but Node's own fetch, URL, streams
// and timers, so the API, its Clerk SDK and the component's client talk real HTTP on loopback
// with no browser same-origin rule in between. Import it first: Vue reads `document` as it loads.
// (A fixture of this folder's tests; the `tests` helper may fold it into test/support.)
import { Window } from 'happy-dom'

export const domWindow = new Window({ url: 'http://localhost:5173' })

/** Node's own (the API and the clients use them) even where happy-dom has one. */
const NODE_OWN = new Set([
  'fetch',
  'Request',
  'Response',
  'Headers',
  'FormData',
  'URL',
  'URLSearchParams',
  'AbortController',
  'AbortSignal',
  'Blob',
  'File',
  'TextEncoder',
  'TextDecoder',
  'ReadableStream',
  'WritableStream',
  'TransformStream',
  'crypto',
  'performance',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'clearImmediate',
  'queueMicrotask',
  'structuredClone',
  'console',
  'WebSocket',
  'BroadcastChannel',
  'MessageChannel',
  'MessagePort',
  'MessageEvent',
])
/** DOM events must be happy-dom's to be dispatched on its elements. */
const DOM_OWN = new Set(['Event', 'CustomEvent', 'EventTarget'])

const win = domWindow as unknown as Record<string, unknown>
const names = new Set<string>()
for (
  let o: object | null = domWindow;
  o && o !== Object.prototype;
  o = Object.getPrototypeOf(o) as object | null
)
  for (const name of Object.getOwnPropertyNames(o)) names.add(name)
for (const name of names) {
  if (NODE_OWN.has(name) || name === 'constructor') continue
  if (name in globalThis && !DOM_OWN.has(name)) continue
  let value: unknown
  try {
    value = win[name]
  } catch {
    continue
  }
  if (value === undefined) continue
  const bound =
    typeof value === 'function' && /^[a-z]/.test(name)
      ? (value as (...a: unknown[]) => unknown).bind(domWindow)
      : value
  Object.defineProperty(globalThis, name, { configurable: true, writable: true, value: bound })
}
Object.defineProperty(globalThis, 'window', {
  configurable: true,
  writable: true,
  value: domWindow,
})
