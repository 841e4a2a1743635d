import { describe, expect, it } from 'vitest'
import { createEventBus } from '../../src/events/bus.js'
import { createLogger } from '../../src/core/logger.js'

describe('the in-process event bus', () => {
  it('knows which company topics have a subscriber, and delivers to it while it has one', async () => {
    const { pubsub } = createEventBus(undefined, createLogger('error'))
    expect(pubsub.listens('pixelFired', 'co1')).toBe(false)
    const subscription = pubsub.subscribe('pixelFired', 'co1')[Symbol.asyncIterator]()
    const first = subscription.next()
    // the listener is added once the subscription is being read
    await new Promise((r) => setTimeout(r, 0))
    expect(pubsub.listens('pixelFired', 'co1')).toBe(true)
    expect(pubsub.listens('pixelFired', 'co2')).toBe(false)
    expect(pubsub.listens('callUpdated', 'co1')).toBe(false)
    pubsub.publish('pixelFired', 'co1', { pixel: { id: 'p1' } })
    expect(await first).toEqual({ done: false, value: { pixel: { id: 'p1' } } })
    await subscription.return?.()
    expect(pubsub.listens('pixelFired', 'co1')).toBe(false)
  })

  it('says a Redis bus always has listeners (another instance may subscribe)', async () => {
    const bus = createEventBus('redis://127.0.0.1:6379', createLogger('error'))
    expect(bus.pubsub.listens('pixelFired', 'anyone')).toBe(true)
    await bus.close()
  })
})
