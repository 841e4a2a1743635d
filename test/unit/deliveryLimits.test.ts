// Rate limits per webhook (src/delivery/deliveryLimits.ts) on their own: in memory, and with a Redis that
// cannot be reached (the limits hold per process instead of failing the delivery).
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createDeliveryLimits, type Permit, type Wait } from '../../src/delivery/deliveryLimits.js'
import { createEventBus } from '../../src/events/bus.js'
import { createLogger } from '../../src/core/logger.js'

const bus = createEventBus(undefined, createLogger('silent'))
const webhook = (over: Partial<{ maxPerSecond: number | null; maxInFlight: number | null }>) => ({
  id: `w${Math.random()}`,
  maxPerSecond: null,
  maxInFlight: null,
  ...over,
})
const leaseUntil = () => Date.now() + 10_000
const settled = async (answer: Permit | Wait | Promise<Permit | Wait>) => answer

describe('delivery limits', () => {
  // port 1 on loopback: nothing listens, every command fails at once
  const unreachable = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true })
  unreachable.on('error', () => {})
  afterAll(() => unreachable.disconnect())

  for (const [name, redis] of [
    ['in memory', null],
    ['with Redis out of reach', unreachable],
  ] as const) {
    it(`${name}: maxInFlight grants that many at once and again once one is released`, async () => {
      const limits = createDeliveryLimits(redis, bus.pubsub)
      const w = webhook({ maxInFlight: 2 })
      const a = await settled(limits.acquire(w, 'a', leaseUntil()))
      const b = await settled(limits.acquire(w, 'b', leaseUntil()))
      const c = await settled(limits.acquire(w, 'c', leaseUntil()))
      expect([a.ok, b.ok, c.ok]).toEqual([true, true, false])
      expect((c as Wait).reason).toBe('maxInFlight 2 requests under way')
      ;(a as Permit).release()
      expect((await settled(limits.acquire(w, 'd', leaseUntil()))).ok).toBe(true)
      limits.close()
    })
  }

  it('both limits: a request refused a slot spends no point of the second, and one refused a point gives its slot back', async () => {
    const limits = createDeliveryLimits(null, bus.pubsub)
    const w = webhook({ maxPerSecond: 2, maxInFlight: 1 })
    const a = await settled(limits.acquire(w, 'a', leaseUntil()))
    const b = await settled(limits.acquire(w, 'b', leaseUntil()))
    expect([a.ok, b.ok]).toEqual([true, false])
    expect((b as Wait).reason).toBe('maxInFlight 1 requests under way')
    ;(a as Permit).release()
    // the second point of this second is still there: b spent none
    const c = await settled(limits.acquire(w, 'c', leaseUntil()))
    expect(c.ok).toBe(true)
    ;(c as Permit).release()
    const d = await settled(limits.acquire(w, 'd', leaseUntil()))
    expect((d as Wait).reason).toBe('maxPerSecond 2 reached')
    // d gave its slot back: only the second holds the webhook now
    const other = await settled(limits.acquire({ ...w, maxPerSecond: null }, 'e', leaseUntil()))
    expect(other.ok).toBe(true)
    limits.close()
  })

  it('nothing limits a webhook without limits, at once (no promise)', () => {
    const limits = createDeliveryLimits(null, bus.pubsub)
    const answer = limits.acquire(webhook({}), 'x', leaseUntil())
    expect(answer).toMatchObject({ ok: true })
    limits.close()
  })

  it('maxPerSecond: a second over the limit waits, spread out, and a slow-down holds every request of the webhook', async () => {
    const limits = createDeliveryLimits(null, bus.pubsub)
    const w = webhook({ maxPerSecond: 2 })
    const answers = []
    for (let i = 0; i < 5; i++) answers.push(await settled(limits.acquire(w, String(i), leaseUntil())))
    expect(answers.map((a) => a.ok)).toEqual([true, true, false, false, false])
    const waits = answers.slice(2).map((a) => (a as Wait).until)
    // each deferral waits a little longer than the one before
    expect(waits[1]!).toBeGreaterThan(waits[0]!)
    expect(waits[2]!).toBeGreaterThan(waits[1]!)
    const free = webhook({})
    limits.slowDown(free.id, Date.now() + 60_000)
    const held = await settled(limits.acquire(free, 'y', leaseUntil()))
    expect(held.ok).toBe(false)
    expect((held as Wait).reason).toMatch(/^the endpoint asked to slow down \(429\/503\) until /)
    limits.close()
  })
})
