// Rate limits with rate-limiter-flexible: per actor and procedure (impersonation.start,
// users.search), and per client IP for requests whose credentials must be verified with Clerk
// (see plugins/auth.ts). With REDIS_URL the counters live in Redis, so every API instance
// shares one limit; without it, in this process's memory. When Redis is unreachable (or does
// not answer within its command timeout) each instance falls back to an in-memory "insurance"
// limiter with the same limits: logged, never a 5xx, and per instance until Redis is back.
import type { RateLimiterPort, RateLimitResult } from '@actas/contracts'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible'
import { countRateLimited } from './metrics/metrics.js'

const WINDOW_SECONDS = 60

export interface LimiterStore {
  /**
   * A clock other than the system's (tests move time by hand): windows are then calendar
   * minutes of it. Without it, a key's window starts at its first point (rate-limiter-flexible's
   * own fixed window, on the system clock).
   */
  now?: (() => number) | undefined
  /** A connected ioredis client (shared by every limiter), or undefined for memory only. */
  redis?: Redis | undefined
  /** Prefix of every Redis key (one per deployment sharing a Redis). */
  keyPrefix: string
  logger?: Pick<Logger, 'warn' | 'error'> | undefined
}

/** `perMinute` points per key in a 60-s window, in Redis with a memory insurance, or in memory. */
function createLimiter(name: string, perMinute: number, store: LimiterStore): RateLimiterAbstract {
  const keyPrefix = `${store.keyPrefix}:rl:${name}`
  const memory = new RateLimiterMemory({ keyPrefix, points: perMinute, duration: WINDOW_SECONDS })
  if (!store.redis) return memory
  return new RateLimiterRedis({
    storeClient: store.redis,
    keyPrefix,
    points: perMinute,
    duration: WINDOW_SECONDS,
    // Not connected: straight to the insurance, no waiting for a reconnect.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  })
}

const MINUTE_MS = WINDOW_SECONDS * 1000

/**
 * With a clock of its own, `key` in the current calendar minute of that clock and the ms left
 * in it (a key lives 60 s, at least the rest of its minute); else `key` as is.
 */
function windowed(key: string, store: LimiterStore): { key: string; msLeft: number | null } {
  if (!store.now) return { key, msLeft: null }
  const now = store.now()
  const minute = Math.floor(now / MINUTE_MS)
  return { key: `${key}:${minute}`, msLeft: (minute + 1) * MINUTE_MS - now }
}

/** One consume; a refusal is `{ allowed: false }`, any other failure is logged and allowed. */
async function consumeOne(
  limiter: RateLimiterAbstract,
  rawKey: string,
  store: LimiterStore,
): Promise<RateLimitResult> {
  const { key, msLeft } = windowed(rawKey, store)
  try {
    await limiter.consume(key)
    return { allowed: true }
  } catch (error) {
    if (error instanceof RateLimiterRes) {
      countRateLimited(limiter.keyPrefix.split(':').pop() ?? 'limit')
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((msLeft ?? error.msBeforeNext) / 1000)),
      }
    }
    // The insurance limiter answers Redis errors; this is a last resort, never a 5xx.
    store.logger?.error({ err: error }, 'rate limiter failed; request allowed')
    return { allowed: true }
  }
}

/** Per-actor limits of the procedures that have one (`RATE_LIMIT_*_PER_MINUTE`). */
export class ProcedureRateLimiter implements RateLimiterPort {
  private readonly limiters = new Map<string, RateLimiterAbstract>()

  constructor(
    limits: Readonly<Record<string, { perMinute: number }>>,
    private readonly store: LimiterStore,
  ) {
    for (const [procedure, { perMinute }] of Object.entries(limits))
      this.limiters.set(procedure, createLimiter(procedure, perMinute, store))
  }

  async consume(procedure: string, actorId: string): Promise<RateLimitResult> {
    const limiter = this.limiters.get(procedure)
    if (!limiter) return { allowed: true }
    return consumeOne(limiter, actorId, this.store)
  }
}

/**
 * Per client IP: credentials that need Clerk to be verified (cache misses). Each one takes a
 * point before Clerk is asked; a credential Clerk accepted gives it back, so the limit counts
 * refused (and in-flight) verifications only.
 */
export class IpRateLimiter {
  private readonly limiter: RateLimiterAbstract

  constructor(
    perMinute: number,
    private readonly store: LimiterStore,
  ) {
    this.limiter = createLimiter('unverified-ip', perMinute, store)
  }

  take(ip: string): Promise<RateLimitResult> {
    return consumeOne(this.limiter, ip, this.store)
  }

  /** Gives back the point of a verification Clerk accepted. */
  async giveBack(ip: string): Promise<void> {
    await this.limiter.reward(windowed(ip, this.store).key, 1).catch((error: unknown) => {
      this.store.logger?.warn({ err: error }, 'rate limiter reward failed')
    })
  }
}

/**
 * Connects to Redis for the limiters: fails fast while disconnected (the insurance limiter
 * answers), logs when Redis goes away and when it is back, and reconnects by itself.
 */
export async function connectRedis(
  url: string,
  logger: Pick<Logger, 'warn' | 'info'>,
): Promise<Redis> {
  const { Redis: RedisClient } = await import('ioredis')
  const redis = new RedisClient(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(200 * attempt, 2000),
    lazyConnect: true,
  })
  let down = false
  redis.on('error', (error: Error & { code?: string }) => {
    if (down) return
    down = true
    logger.warn(
      { err: { code: error.code, message: error.message } },
      'Redis unavailable; rate limits fall back to this instance’s memory until it is back',
    )
  })
  redis.on('ready', () => {
    if (!down) return
    down = false
    logger.info('Redis is back; rate limits are shared again')
  })
  await redis.connect().catch(() => {
    // Already logged by the 'error' listener; the limiters use their insurance until it connects.
  })
  return redis
}
