import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Redis } from 'ioredis'

/**
 * Postbacks accepted per key per minute: the key's own limit, else the server default (0: no limit).
 * In memory per instance, or shared in Redis when the server has one.
 */
export class PostbackRateLimiter {
  private readonly limiters = new Map<number, RateLimiterAbstract>()
  constructor(
    private readonly defaultPerMinute: number,
    private readonly redis: Redis | null = null,
  ) {}

  /** null when allowed; otherwise the seconds to wait before trying again */
  async check(apiKeyId: string, keyLimitPerMinute: number | null): Promise<number | null> {
    const points = keyLimitPerMinute ?? this.defaultPerMinute
    if (!points) return null
    let limiter = this.limiters.get(points)
    if (!limiter) {
      const options = { points, duration: 60, keyPrefix: `ringhook:postbacks:${points}` }
      limiter = this.redis
        ? new RateLimiterRedis({ ...options, storeClient: this.redis, insuranceLimiter: new RateLimiterMemory(options) })
        : new RateLimiterMemory(options)
      this.limiters.set(points, limiter)
    }
    try {
      await limiter.consume(apiKeyId)
      return null
    } catch (e) {
      if (e instanceof RateLimiterRes) return Math.max(1, Math.ceil(e.msBeforeNext / 1000))
      throw e
    }
  }
}
