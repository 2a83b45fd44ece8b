// What every page does first: read the app's config (GET /api/config), load clerk-js headless
// (no Clerk UI) against the Frontend API behind this origin's /__clerk proxy, and put the host
// kit's <actas-banner> at the top. A staff member arrives here from the ActAs console with the
// dev browser token in the URL (`__clerk_db_jwt`, clerk-js `buildUrlWithAuth`): clerk-js takes it
// from the URL on load, so this origin shares the console's Clerk client and session.
import { Clerk } from '@clerk/clerk-js/no-rhc'
import '@actas/host-kit/element'

interface PageConfig {
  publishableKey: string
  consoleUrl: string
  endsUrl?: string
}

export interface Page {
  clerk: Clerk
  /** Calls this app's service with the session token; the parsed JSON body (or null). */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>
}

/** The message of the service's `{ error: { message } }`, or a plain one. */
export function errorMessage(body: unknown, fallback: string): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message
  return typeof message === 'string' ? message : fallback
}

export async function boot(): Promise<Page> {
  const config = (await (await fetch('/api/config')).json()) as PageConfig
  const clerk = new Clerk(config.publishableKey, { proxyUrl: '/__clerk' })
  await clerk.load({ telemetry: false })
  ;(window as unknown as { Clerk: Clerk }).Clerk = clerk

  const banner = document.createElement('actas-banner')
  banner.setAttribute('console-url', config.consoleUrl)
  banner.setAttribute('status-url', '/api/actas/session')
  if (config.endsUrl) banner.setAttribute('ends-url', config.endsUrl)
  document.getElementById('actas')?.replaceWith(banner)

  const user = clerk.user
  const who = document.getElementById('who')
  if (who) who.textContent = user ? `Signed in as ${user.fullName ?? user.id}` : ''
  if (!clerk.session) document.getElementById('signed-out')?.removeAttribute('hidden')
  // ActAs ended the impersonation (the banner's `ended` event): this application's choice is to
  // sign the session out of clerk-js and say so in the header; the banner stays, saying how it
  // ended, with its way back to the console.
  banner.addEventListener('ended', () => void signOutAfterEnd(clerk, who))

  return {
    clerk,
    async call(method, path, body) {
      const token = await clerk.session?.getToken()
      const res = await fetch(`/api${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      return { status: res.status, body: await res.json().catch(() => null) }
    },
  }
}

/**
 * After ActAs's end: the header no longer names the impersonated user, and clerk-js signs the
 * session out. Its callback replaces the navigation to `afterSignOutUrl`, so the page (and the
 * banner's alert) stays; a session Clerk already ended leaves nothing to sign out.
 */
async function signOutAfterEnd(clerk: Clerk, who: HTMLElement | null): Promise<void> {
  if (who) who.textContent = 'Signed out: the impersonation ended'
  try {
    await clerk.signOut(() => undefined)
  } catch {
    // Clerk unreachable: the session is refused by the guard all the same.
  }
}

/** Shows a result line (an error in red). */
export function showResult(id: string, text: string, error: boolean): void {
  const el = document.getElementById(id)
  if (!el) return
  el.textContent = text
  el.classList.toggle('result--error', error)
}
