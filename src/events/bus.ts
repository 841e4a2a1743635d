// The event bus behind subscriptions: in-process by default, Redis when REDIS_URL is set, so that a
// subscriber on one instance receives what another instance published.
import { setMaxListeners } from 'node:events'
import { createPubSub } from 'graphql-yoga'
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target'
import { Redis } from 'ioredis'
import type { Logger } from '../logger.js'

/** Everything published is JSON-safe (dates as ISO strings), so both buses deliver the same shape. */
export interface CallUpdatedEvent {
  event: 'STARTED' | 'ANSWERED' | 'ENDED' | 'CONVERTED' | 'TAGGED'
  call: Record<string, unknown>
}

export interface PostbackReceivedEvent {
  /** the logged postback row */
  postback: Record<string, unknown>
}

export interface PixelFiredEvent {
  /** the pixel row after an attempt or a final decision */
  pixel: Record<string, unknown>
}

export type BusTopics = {
  callUpdated: [companyId: string, payload: CallUpdatedEvent]
  postbackReceived: [companyId: string, payload: PostbackReceivedEvent]
  pixelFired: [companyId: string, payload: PixelFiredEvent]
}

export type PubSub = ReturnType<typeof createPubSub<BusTopics>>

export interface EventBus {
  pubsub: PubSub
  kind: 'memory' | 'redis'
  close(): Promise<void>
}


export function createEventBus(redisUrl: string | undefined, logger: Logger): EventBus {
  if (!redisUrl) {
    const eventTarget = new EventTarget()
    // one listener per subscriber on a topic: no listener limit (the default warns past 10)
    setMaxListeners(0, eventTarget)
    return { pubsub: createPubSub<BusTopics>({ eventTarget }), kind: 'memory', close: async () => {} }
  }
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: 3 })
  const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null })
  for (const [name, client] of [['publish', publisher], ['subscribe', subscriber]] as const) {
    client.on('error', (e) => logger.error({ err: e }, `redis (${name}) connection error`))
  }
  // redis-event-target does not await publish/subscribe: catch here so an outage is logged, not an
  // unhandled rejection that ends the process.
  const publishClient = {
    publish: (channel: string, message: string) =>
      publisher.publish(channel, message).catch((e) => logger.error({ err: e }, `redis publish to ${channel} failed`)),
  }
  const subscribeClient = {
    on: subscriber.on.bind(subscriber),
    subscribe: (channel: string) =>
      subscriber.subscribe(channel).catch((e) => logger.error({ err: e }, `redis subscribe to ${channel} failed`)),
    unsubscribe: (channel: string) =>
      subscriber.unsubscribe(channel).catch((e) => logger.error({ err: e }, `redis unsubscribe from ${channel} failed`)),
  }
  const eventTarget = createRedisEventTarget<CustomEvent>({
    publishClient: publishClient as unknown as Redis,
    subscribeClient: subscribeClient as unknown as Redis,
  })
  return {
    pubsub: createPubSub<BusTopics>({ eventTarget: eventTarget as never }),
    kind: 'redis',
    close: async () => {
      publisher.disconnect()
      subscriber.disconnect()
    },
  }
}

/**
 * A database row as the bus carries it: its Date columns as ISO strings, so a payload has the same shape
 * in-process and over Redis (JSON). Its other values must be JSON already (Json columns are); a shallow
 * copy, where toJsonSafe copies deeply through JSON text.
 */
export function jsonRow(row: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(row)) out[key] = value instanceof Date ? value.toISOString() : value
  return out
}
