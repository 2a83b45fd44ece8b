/**
 * An in-app path to navigate to, or `fallback`. Only same-origin paths are accepted
 * ("/x?y#z"); absolute URLs, protocol-relative ("//evil") and backslash tricks are not.
 */
export function safeRedirectPath(
  candidate: unknown,
  origin: string = window.location.origin,
  fallback = '/',
): string {
  if (typeof candidate !== 'string' || !candidate.startsWith('/')) return fallback
  if (candidate.startsWith('//') || candidate.includes('\\')) return fallback
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f]/.test(candidate)) return fallback
  try {
    const url = new URL(candidate, origin)
    if (url.origin !== origin) return fallback
    return `${url.pathname}${url.search}${url.hash}`
  } catch {
    return fallback
  }
}

/**
 * The host application's URL the API handed back for the landing (`landingUrl`, already checked
 * there against APP_ORIGINS), or null: only http(s) URLs of another origin are taken.
 */
export function safeLandingUrl(
  candidate: unknown,
  origin: string = window.location.origin,
): string | null {
  if (typeof candidate !== 'string') return null
  try {
    const url = new URL(candidate)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
    if (url.origin === origin || url.username || url.password) return null
    return url.href
  } catch {
    return null
  }
}

/** Goes to an in-app path (the router) or to another origin's URL (a full navigation). */
export async function leaveTo(
  router: { replace(path: string): Promise<unknown> },
  target: string,
): Promise<void> {
  if (target.startsWith('/')) {
    await router.replace(target)
    return
  }
  window.location.assign(target)
}
