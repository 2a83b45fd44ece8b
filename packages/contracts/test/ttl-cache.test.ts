import { describe, expect, it } from 'vitest'
import { tokenKey, ttlCache, VerifiedTokens } from '../src/ttl-cache.js'

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

describe('VerifiedTokens', () => {
  it('keeps an acceptance until the token expires, keyed by a digest (never the token), and no refusal', async () => {
    let now = 1_000_000
    const calls: string[] = []
    const tokens = new VerifiedTokens<string>({
      max: 10,
      now: () => now,
      verify: (token) => {
        calls.push(token)
        return Promise.resolve(
          token === 'good'
            ? { ok: true as const, value: 'user_1', expiresAt: now + 30_000 }
            : { ok: false as const, reason: 'invalid' as const },
        )
      },
    })
    expect(await tokens.check('good')).toMatchObject({ ok: true, value: 'user_1' })
    expect(await tokens.check('good')).toMatchObject({ ok: true, value: 'user_1' })
    expect(await tokens.check('bad')).toEqual({ ok: false, reason: 'invalid' })
    expect(await tokens.check('bad')).toEqual({ ok: false, reason: 'invalid' })
    expect(calls).toEqual(['good', 'bad', 'bad'])
    expect(tokens.size).toBe(1)
    const keys = [...(tokens as unknown as { entries: Map<string, unknown> }).entries.keys()]
    expect(keys).toEqual([tokenKey('good')])
    expect(keys[0]).not.toContain('good')
    now += 30_000
    await tokens.check('good')
    expect(calls).toEqual(['good', 'bad', 'bad', 'good'])
  })
})
