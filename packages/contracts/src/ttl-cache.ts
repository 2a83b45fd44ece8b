// @actas/contracts/ttl-cache (Node only): the one in-memory cache idiom of the API and the guard.
// Every cache is an lru-cache instance: bounded (the least recently used entry goes first when
// full) and timed by the injected clock, never by Date.now() directly. `VerifiedTokens` is the one
// cache of verified bearer tokens: keyed by a SHA-256 digest of the token (a cache never holds a
// bearer credential), each verdict kept until the token's own expiry and at most `maxAgeMs`.
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'

export type TtlCache<V extends NonNullable<unknown>> = LRUCache<string, V>

/**
 * A cache of at most `max` entries, each fresh while it is younger than `ttlMs` on `now()`.
 * lru-cache keeps an entry up to and including its TTL; ours end at it, so lru-cache gets one
 * millisecond less (the clocks are integer milliseconds). `ttlResolution: 0` reads the clock
 * on every check (no cached time, no timer). `set(key, value, { ttl })` gives one entry a
 * shorter life (its own expiry).
 */
export function ttlCache<V extends NonNullable<unknown>>(options: {
  max: number
  ttlMs: number
  now: () => number
}): TtlCache<V> {
  if (!(options.ttlMs > 0)) throw new RangeError('ttlCache: ttlMs must be positive')
  return new LRUCache<string, V>({
    max: options.max,
    ttl: Math.max(1, options.ttlMs - 1),
    ttlResolution: 0,
    perf: { now: options.now },
  })
}

/** The key a token is cached under: its SHA-256 digest, never the token itself. */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** What a verification said about a token. `expiresAt` (epoch ms) bounds how long it is kept. */
export type TokenVerdict<T> =
  | { ok: true; value: T; expiresAt: number }
  | { ok: false; reason: 'expired' | 'invalid' | 'unavailable' }

export interface VerifiedTokensOptions<T> {
  /** Verifies a token the cache has no verdict for. */
  verify: (token: string) => Promise<TokenVerdict<T>>
  /** Entries kept at most (0: verify every time). */
  max: number
  /** Upper bound on an entry's life, whatever the token's expiry (default 60 s). */
  maxAgeMs?: number
  now: () => number
}

/**
 * Accepted tokens, kept until their expiry (strictly before it) and at most `maxAgeMs`.
 * Refusals are never kept: a token refused because Clerk was unreachable is verified again.
 */
export class VerifiedTokens<T extends NonNullable<unknown>> {
  private readonly entries: LRUCache<
    string,
    { value: T; expiresAt: number; keepUntil: number }
  > | null
  private readonly maxAgeMs: number
  hits = 0
  misses = 0

  constructor(private readonly o: VerifiedTokensOptions<T>) {
    this.maxAgeMs = o.maxAgeMs ?? 60_000
    this.entries =
      o.max > 0
        ? new LRUCache({ max: o.max, ttl: this.maxAgeMs, ttlResolution: 0, perf: { now: o.now } })
        : null
  }

  get size(): number {
    return this.entries?.size ?? 0
  }

  /** The verdict kept for `token`, or undefined when it must be verified. */
  cached(token: string): { ok: true; value: T; expiresAt: number } | undefined {
    if (!this.entries) return undefined
    const key = tokenKey(token)
    const hit = this.entries.get(key)
    if (hit && this.o.now() < hit.keepUntil) {
      this.hits++
      return { ok: true, value: hit.value, expiresAt: hit.expiresAt }
    }
    if (hit) this.entries.delete(key)
    return undefined
  }

  /** Verifies `token` (no cache look-up) and keeps an acceptance. */
  async verify(token: string): Promise<TokenVerdict<T>> {
    this.misses++
    const verdict = await this.o.verify(token)
    if (verdict.ok && this.entries) {
      const now = this.o.now()
      const keepUntil = Math.min(verdict.expiresAt, now + this.maxAgeMs)
      if (keepUntil > now)
        this.entries.set(
          tokenKey(token),
          { value: verdict.value, expiresAt: verdict.expiresAt, keepUntil },
          { ttl: keepUntil - now },
        )
    }
    return verdict
  }

  /** The kept verdict, else a verification. */
  check(token: string): Promise<TokenVerdict<T>> {
    const hit = this.cached(token)
    return hit ? Promise.resolve(hit) : this.verify(token)
  }
}
