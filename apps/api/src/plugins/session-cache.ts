// A verdict cache in front of clerkPlugin's hook, for session tokens sent in the Authorization
// header. clerkPlugin still verifies every token the cache has not seen (signature, exp/nbf/iat
// with its clock skew, azp against authorizedParties); a hit reuses the auth object clerkPlugin
// built for that exact header, which is what it would build again:
// - a header token is authenticated from the token alone (@clerk/backend looks at no cookie,
//   no handshake when a header token is present) with options fixed at start-up, so the only
//   thing that changes the verdict is time: an entry lives until the token's `exp` (stricter
//   than Clerk, which tolerates a clock skew past it; after `exp` the request goes to
//   clerkPlugin again) and at most `maxAgeMs`;
// - only signed-in session tokens are cached; refusals, signed-out, pending sessions and
//   machine tokens always go through clerkPlugin;
// - revocation: networkless verification never asks Clerk whether a session was revoked, the
//   60-s token lifetime bounds it; the cache never extends a token past its own `exp`.
// Keys are SHA-256 digests of the header, so the cache holds no bearer token.
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

type Hook = (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) => unknown

/** A Fastify plugin that decorates the request and adds one hook (as clerkPlugin does). */
export type HookPlugin<O> = (
  instance: FastifyInstance,
  opts: O,
  done: (error?: Error) => void,
) => void

export interface SessionCacheOptions {
  /** Upper bound on an entry's life, whatever the token's `exp` (default 60 s). */
  maxAgeMs?: number
  /** Entries kept at most; the oldest is dropped first (default 10,000). */
  maxEntries?: number
  now?: () => number
}

interface CachedAuth {
  tokenType?: unknown
  isAuthenticated?: unknown
  userId?: unknown
  sessionClaims?: { exp?: unknown } | null
}

interface Entry {
  auth: unknown
  clerk: unknown
  expiresAt: number
}

export interface SessionCache {
  readonly size: number
  hits: number
  misses: number
}

/**
 * Registers `plugin` (clerkPlugin) in `scope` with its hook behind the cache: the plugin's
 * decorations are applied to `scope`, its hook is called for every request the cache cannot
 * answer.
 */
export async function registerWithSessionCache<O extends { hookName?: string }>(
  scope: FastifyInstance,
  plugin: HookPlugin<O>,
  opts: O,
  options: SessionCacheOptions = {},
): Promise<SessionCache> {
  const maxAgeMs = options.maxAgeMs ?? 60_000
  const maxEntries = options.maxEntries ?? 10_000
  const now = options.now ?? Date.now

  let hookName: string | undefined
  let verify: Hook | undefined
  const facade = {
    decorateRequest: (name: string, value: unknown) => scope.decorateRequest(name, value),
    addHook: (name: string, fn: Hook) => {
      if (verify) throw new Error('session cache: the plugin added more than one hook')
      hookName = name
      verify = fn
    },
  }
  await new Promise<void>((resolve, reject) => {
    plugin(facade as unknown as FastifyInstance, opts, (error) =>
      error ? reject(error) : resolve(),
    )
  })
  if (!verify || (hookName !== 'onRequest' && hookName !== 'preHandler'))
    throw new Error('session cache: the plugin added no onRequest/preHandler hook')
  const clerkHook = verify

  const entries = new Map<string, Entry>()
  const stats = {
    hits: 0,
    misses: 0,
    get size() {
      return entries.size
    },
  }

  const hook = async function (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
    const header = req.headers.authorization
    const key =
      typeof header === 'string' && header.length > 0
        ? createHash('sha256').update(header).digest('base64url')
        : undefined
    if (key !== undefined) {
      const hit = entries.get(key)
      if (hit && now() < hit.expiresAt) {
        stats.hits++
        const target = req as unknown as { auth: unknown; clerk: unknown }
        target.auth = hit.auth
        target.clerk = hit.clerk
        return
      }
      if (hit) entries.delete(key)
      stats.misses++
    }
    const result = await clerkHook.call(this, req, reply)
    if (result === reply || reply.sent) return reply
    if (key === undefined) return
    const auth = (req as unknown as { auth: CachedAuth | null }).auth
    const exp = auth?.sessionClaims?.exp
    if (
      auth?.tokenType !== 'session_token' ||
      auth.isAuthenticated !== true ||
      typeof auth.userId !== 'string' ||
      typeof exp !== 'number'
    )
      return
    const at = now()
    const expiresAt = Math.min(exp * 1000, at + maxAgeMs)
    if (expiresAt <= at) return
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next()
      if (!oldest.done) entries.delete(oldest.value)
    }
    entries.set(key, { auth, clerk: (req as unknown as { clerk: unknown }).clerk, expiresAt })
  }
  if (hookName === 'onRequest') scope.addHook('onRequest', hook)
  else scope.addHook('preHandler', hook)
  return stats
}
