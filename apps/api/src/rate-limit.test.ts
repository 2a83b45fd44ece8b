import { describe, expect, it } from 'vitest'
import { MemoryRateLimiter } from './rate-limit.js'

describe('MemoryRateLimiter', () => {
  it('allows the configured calls per minute per actor, then tells when to retry', () => {
    let now = 1_000_000
    const limiter = new MemoryRateLimiter({ 'impersonation.start': { perMinute: 2 } }, () => now)
    expect(limiter.consume('impersonation.start', 'user_a')).toEqual({ allowed: true })
    now += 10_000
    expect(limiter.consume('impersonation.start', 'user_a')).toEqual({ allowed: true })
    expect(limiter.consume('impersonation.start', 'user_a')).toEqual({
      allowed: false,
      retryAfterSeconds: 50,
    })
    expect(limiter.consume('impersonation.start', 'user_b')).toEqual({ allowed: true })
    now += 50_001
    expect(limiter.consume('impersonation.start', 'user_a')).toEqual({ allowed: true })
  })

  it('never limits procedures without a configured limit', () => {
    const limiter = new MemoryRateLimiter({})
    for (let i = 0; i < 1000; i++) expect(limiter.consume('me', 'user_a').allowed).toBe(true)
  })
})
