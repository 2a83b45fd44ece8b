// clerk-js instantiates `ui.ClerkUI` on load and awaits it whenever it would show a prebuilt
// component (including the impersonation badge of an `actor` session). @clerk/vue with
// `prefetchUI: false` hands it `undefined`, which makes clerk-js reject with
// "e is not a constructor" (unhandled) on load and again for every impersonated session.
// This console renders every screen itself, so it passes a UI that mounts nothing.

const noop = () => undefined

/** Any method call on the mounted UI is a no-op. `then` is left out so it is not a thenable. */
const mountedUi: object = new Proxy(
  {},
  { get: (_target, prop) => (prop === 'then' ? undefined : noop) },
)

export class HeadlessClerkUI {
  static readonly version = 'actas-headless'
  ensureMounted(): Promise<object> {
    return Promise.resolve(mountedUi)
  }
}
