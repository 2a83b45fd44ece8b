import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { IpRateLimiter, ProcedureRateLimiter } from './rate-limit.js'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('ProcedureRateLimiter (memory)', () => {
  it('allows the configured calls per minute per actor, then tells when to retry', async () => {
    const limiter = new ProcedureRateLimiter(
      { 'impersonation.start': { perMinute: 2 } },
      { keyPrefix: 't' },
    )
    expect(await limiter.consume('impersonation.start', 'user_a')).toEqual({ allowed: true })
    vi.advanceTimersByTime(10_000)
    expect(await limiter.consume('impersonation.start', 'user_a')).toEqual({ allowed: true })
    expect(await limiter.consume('impersonation.start', 'user_a')).toEqual({
      allowed: false,
      retryAfterSeconds: 50,
    })
    expect(await limiter.consume('impersonation.start', 'user_b')).toEqual({ allowed: true })
    vi.advanceTimersByTime(50_001)
    expect(await limiter.consume('impersonation.start', 'user_a')).toEqual({ allowed: true })
  })

  it("follows a clock of the API's own: windows are its calendar minutes", async () => {
    let clock = 0
    const limiter = new ProcedureRateLimiter(
      { 'impersonation.start': { perMinute: 1 } },
      { keyPrefix: 't', now: () => clock },
    )
    expect((await limiter.consume('impersonation.start', 'user_a')).allowed).toBe(true)
    clock = 59_000
    expect(await limiter.consume('impersonation.start', 'user_a')).toEqual({
      allowed: false,
      retryAfterSeconds: 1,
    })
    clock = 60_000
    expect((await limiter.consume('impersonation.start', 'user_a')).allowed).toBe(true)
  })

  it('never limits procedures without a configured limit', async () => {
    const limiter = new ProcedureRateLimiter({}, { keyPrefix: 't' })
    for (let i = 0; i < 1000; i++)
      expect((await limiter.consume('me', 'user_a')).allowed).toBe(true)
  })
})

describe('IpRateLimiter (memory)', () => {
  it('counts only what is not given back', async () => {
    const limiter = new IpRateLimiter(2, { keyPrefix: 't' })
    for (let i = 0; i < 10; i++) {
      expect((await limiter.take('10.0.0.1')).allowed).toBe(true)
      await limiter.giveBack('10.0.0.1')
    }
    expect((await limiter.take('10.0.0.1')).allowed).toBe(true)
    expect((await limiter.take('10.0.0.1')).allowed).toBe(true)
    expect(await limiter.take('10.0.0.1')).toMatchObject({ allowed: false })
    expect((await limiter.take('10.0.0.2')).allowed).toBe(true)
  })
})
