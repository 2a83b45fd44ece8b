import { describe, expect, it } from 'vitest'
import { ttlCache } from './ttl-cache.js'

describe('ttlCache', () => {
  it('keeps an entry while it is younger than ttlMs on the injected clock, not a moment longer', () => {
    let now = 1_000_000
    const cache = ttlCache<number>({ max: 10, ttlMs: 5_000, now: () => now })
    cache.set('a', 1)
    now += 4_999
    expect(cache.get('a')).toBe(1)
    now += 1
    expect(cache.get('a')).toBeUndefined()
  })

  it('stays bounded when full: the least recently used entry goes, the others stay', () => {
    const cache = ttlCache<number>({ max: 2, ttlMs: 60_000, now: () => 1_000_000 })
    cache.set('a', 1)
    cache.set('b', 2)
    cache.get('a')
    cache.set('c', 3)
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3])
    expect(cache.size).toBe(2)
  })
})
