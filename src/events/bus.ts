// The event bus behind subscriptions: in-process by default, Redis when REDIS_URL is set, so that a
// subscriber on one instance receives what another instance published.
import { setMaxListeners } from 'node:events'
import { createPubSub } from 'graphql-yoga'
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target'
import { Redis } from 'ioredis'
import type { Logger } from '../core/logger.js'

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

export interface WebhookHealthChangedEvent {
  /** the WebhookHealthEvent row: webhookId, from, to, reason, createdAt */
  event: Record<string, unknown>
}

export interface ReplayJobUpdatedEvent {
  /** the ReplayJob row after a batch, a change of status or the end */
  replayJob: Record<string, unknown>
}

export type BusTopics = {
  callUpdated: [companyId: string, payload: CallUpdatedEvent]
  postbackReceived: [companyId: string, payload: PostbackReceivedEvent]
  pixelFired: [companyId: string, payload: PixelFiredEvent]
  replayJobUpdated: [companyId: string, payload: ReplayJobUpdatedEvent]
  /** a key was revoked: every instance ends the streams it opened and forgets it */
  apiKeyRevoked: [payload: { apiKeyId: string }]
  /** a webhook's circuit changed state (circuit breaker) */
  webhookHealthChanged: [companyId: string, payload: WebhookHealthChangedEvent]
  /** an endpoint answered 429/503: every worker holds the webhook's requests until then (ms) */
  endpointSlowedDown: [payload: { webhookId: string; until: number }]
}

export type PubSub = ReturnType<typeof createPubSub<BusTopics>> & {
  /**
   * Whether anything may receive `topic` for the company: on the in-process bus, only while someone
   * subscribes to it (publishers skip building what nobody reads: a pixel row per delivery shows in
   * profiles under load); over Redis, always (another instance may).
   */
  listens(topic: 'callUpdated' | 'postbackReceived' | 'pixelFired' | 'webhookHealthChanged' | 'replayJobUpdated', companyId: string): boolean
}

/** An EventTarget that knows which event types have listeners (graphql-yoga's pubsub adds one per subscriber). */
class CountingEventTarget extends EventTarget {
  private readonly listeners = new Map<string, number>()

  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void {
    super.addEventListener(type, listener, options)
    if (listener) this.listeners.set(type, (this.listeners.get(type) ?? 0) + 1)
  }

  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: EventListenerOptions | boolean): void {
    super.removeEventListener(type, listener, options)
    const n = (this.listeners.get(type) ?? 0) - (listener ? 1 : 0)
    if (n > 0) this.listeners.set(type, n)
    else this.listeners.delete(type)
  }

  listens(type: string): boolean {
    return this.listeners.has(type)
  }
}

export interface EventBus {
  pubsub: PubSub
  kind: 'memory' | 'redis'
  close(): Promise<void>
}

export function createEventBus(redisUrl: string | undefined, logger: Logger): EventBus {
  if (!redisUrl) {
    const eventTarget = new CountingEventTarget()
    // one listener per subscriber on a topic: no listener limit (the default warns past 10)
    setMaxListeners(0, eventTarget)
    const pubsub = Object.assign(createPubSub<BusTopics>({ eventTarget }), {
      listens: (topic: string, companyId: string) => eventTarget.listens(`${topic}:${companyId}`),
    })
    return { pubsub, kind: 'memory', close: async () => {} }
  }
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: 3 })
  const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null })
  for (const [name, client] of [
    ['publish', publisher],
    ['subscribe', subscriber],
  ] as const) {
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
    subscribe: (channel: string) => subscriber.subscribe(channel).catch((e) => logger.error({ err: e }, `redis subscribe to ${channel} failed`)),
    unsubscribe: (channel: string) => subscriber.unsubscribe(channel).catch((e) => logger.error({ err: e }, `redis unsubscribe from ${channel} failed`)),
  }
  const eventTarget = createRedisEventTarget<CustomEvent>({
    publishClient: publishClient as unknown as Redis,
    subscribeClient: subscribeClient as unknown as Redis,
  })
  return {
    pubsub: Object.assign(createPubSub<BusTopics>({ eventTarget: eventTarget as never }), { listens: () => true }),
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
 * copy, not a round trip through JSON text.
 */
export function jsonRow(row: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(row)) out[key] = value instanceof Date ? value.toISOString() : value
  return out
}
