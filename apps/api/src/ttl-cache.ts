// The API's in-memory caches are lru-cache instances: bounded (the least recently used entry
// goes first when full) and timed by the injected clock, never by Date.now() directly.
import { LRUCache } from 'lru-cache'

export type TtlCache<V extends NonNullable<unknown>> = LRUCache<string, V>

/**
 * A cache of at most `max` entries, each fresh while it is younger than `ttlMs` on `now()`.
 * lru-cache keeps an entry up to and including its TTL; ours end at it, so lru-cache gets one
 * millisecond less (the clocks are integer milliseconds). `ttlResolution: 0` reads the clock
 * on every check (no cached time, no timer).
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
