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
