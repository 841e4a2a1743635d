// Rate limits per webhook: `maxPerSecond` and `maxInFlight`, and the slow-down an endpoint asks for with
// 429 or 503 (Retry-After). Shared across workers through Redis when the server has it (REDIS_URL), in
// memory otherwise (one process, or each worker on its own: README). A delivery over a limit is not made
// and not failed: its pixel waits (PENDING, due when the limit has room), no attempt spent.
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Redis } from 'ioredis'
import type { Webhook } from '../generated/prisma/client.js'
import type { PubSub } from '../events/bus.js'

/** A request may go; release() when it is over (for maxInFlight). */
export type Permit = { ok: true; release(): void }
/** Not now: try again at `until` (ms), for this reason. */
export type Wait = { ok: false; until: number; reason: string }

export interface DeliveryLimits {
  /**
   * A permit for one request of the webhook now, or when to try again; answers at once when nothing limits
   * the webhook. `lease` names the request; its maxInFlight slot is given back by release(), or lapses at
   * `leaseUntil` (ms: the pixel's lock) if its worker dies.
   */
  acquire(webhook: Pick<Webhook, 'id' | 'maxPerSecond' | 'maxInFlight'>, lease: string, leaseUntil: number): Permit | Wait | Promise<Permit | Wait>
  /** The endpoint answered 429 or 503: its requests wait until `until` (ms), on every worker. */
  slowDown(webhookId: string, until: number): void
  close(): void
}

const GO: Permit = { ok: true, release: () => {} }
/** A request over maxInFlight tries again after this, spread by how many wait already. */
const IN_FLIGHT_RETRY_MS = 100
/** A maxInFlight lease outlasts the pixel's lock by this, so it never lapses while the request may still be out. */
const LEASE_MARGIN_MS = 5_000

/** Takes an in-flight slot atomically: expired leases (a worker died) are dropped first. */
const TAKE_SLOT = `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) - tonumber(ARGV[1]))
  return 1
end
return 0`

export function createDeliveryLimits(redis: Redis | null, pubsub: PubSub): DeliveryLimits {
  const pausedUntil = new Map<string, number>()
  const perSecond = new Map<number, RateLimiterAbstract>()
  const inFlight = new Map<string, number>()
  /** deferrals per webhook in the current second: each waits a little longer, so they come back spread out */
  const deferred = new Map<string, { second: number; count: number }>()

  // slow-downs another instance saw reach this one through the bus (Redis when configured)
  const slowDowns = pubsub.subscribe('endpointSlowedDown')
  void (async () => {
    for await (const { webhookId, until } of slowDowns) pause(webhookId, until)
  })()

  function pause(webhookId: string, until: number) {
    if ((pausedUntil.get(webhookId) ?? 0) < until) pausedUntil.set(webhookId, until)
  }

  /** The k-th deferral of a webhook within a second waits k / rate seconds longer. */
  function spread(webhookId: string, until: number, perSecondRate: number): number {
    const second = Math.floor(Date.now() / 1000)
    const d = deferred.get(webhookId)
    const count = d && d.second === second ? d.count + 1 : 0
    deferred.set(webhookId, { second, count })
    return until + Math.floor((count * 1000) / Math.max(1, perSecondRate))
  }

  function limiterFor(points: number): RateLimiterAbstract {
    let limiter = perSecond.get(points)
    if (!limiter) {
      const options = { points, duration: 1, keyPrefix: `ringhook:webhook-rate:${points}` }
      limiter = redis
        ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: new RateLimiterMemory(options) })
        : new RateLimiterMemory(options)
      perSecond.set(points, limiter)
    }
    return limiter
  }

  function takeLocalSlot(webhook: Pick<Webhook, 'id' | 'maxInFlight'>): Permit | null {
    const n = inFlight.get(webhook.id) ?? 0
    if (n >= webhook.maxInFlight!) return null
    inFlight.set(webhook.id, n + 1)
    let released = false
    return {
      ok: true,
      release: () => {
        if (released) return
        released = true
        const left = (inFlight.get(webhook.id) ?? 1) - 1
        if (left > 0) inFlight.set(webhook.id, left)
        else inFlight.delete(webhook.id)
      },
    }
  }

  /** A maxInFlight slot: shared through Redis, or this process's own when there is no Redis or it cannot be reached. */
  async function takeSlot(webhook: Pick<Webhook, 'id' | 'maxInFlight'>, lease: string, leaseUntil: number): Promise<Permit | null> {
    if (!redis) return takeLocalSlot(webhook)
    const key = `ringhook:webhook-in-flight:${webhook.id}`
    const now = Date.now()
    let taken: unknown
    try {
      taken = await redis.eval(TAKE_SLOT, 1, key, now, Math.max(leaseUntil, now) + LEASE_MARGIN_MS, webhook.maxInFlight!, lease)
    } catch {
      // Redis out of reach: the limit holds per process meanwhile (as the per-second limiter's insurance does)
      return takeLocalSlot(webhook)
    }
    if (taken !== 1) return null
    return { ok: true, release: () => void redis.zrem(key, lease).catch(() => {}) }
  }

  /**
   * The in-flight slot is taken before the per-second point: a request refused for want of a slot spends no
   * point of the second (the points would otherwise run out on requests that never went).
   */
  async function limited(webhook: Pick<Webhook, 'id' | 'maxPerSecond' | 'maxInFlight'>, lease: string, leaseUntil: number): Promise<Permit | Wait> {
    let permit = GO
    if (webhook.maxInFlight) {
      const slot = await takeSlot(webhook, lease, leaseUntil)
      if (!slot) {
        const until = spread(webhook.id, Date.now() + IN_FLIGHT_RETRY_MS, webhook.maxInFlight * (1000 / IN_FLIGHT_RETRY_MS))
        return { ok: false, until, reason: `maxInFlight ${webhook.maxInFlight} requests under way` }
      }
      permit = slot
    }
    if (webhook.maxPerSecond) {
      try {
        await limiterFor(webhook.maxPerSecond).consume(webhook.id)
      } catch (e) {
        permit.release()
        if (!(e instanceof RateLimiterRes)) throw e
        const until = spread(webhook.id, Date.now() + e.msBeforeNext, webhook.maxPerSecond)
        return { ok: false, until, reason: `maxPerSecond ${webhook.maxPerSecond} reached` }
      }
    }
    return permit
  }

  return {
    acquire(webhook, lease, leaseUntil) {
      const paused = pausedUntil.get(webhook.id)
      if (paused !== undefined) {
        if (paused > Date.now()) {
          const until = spread(webhook.id, paused, webhook.maxPerSecond ?? 10)
          return { ok: false, until, reason: `the endpoint asked to slow down (429/503) until ${new Date(paused).toISOString()}` }
        }
        pausedUntil.delete(webhook.id)
      }
      if (!webhook.maxPerSecond && !webhook.maxInFlight) return GO
      return limited(webhook, lease, leaseUntil)
    },
    slowDown(webhookId, until) {
      pause(webhookId, until)
      pubsub.publish('endpointSlowedDown', { webhookId, until })
    },
    close() {
      void slowDowns.return?.(undefined)
    },
  }
}
