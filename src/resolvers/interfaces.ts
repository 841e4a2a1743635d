import type { DatabaseProvider } from '../config.js'
import type { Db } from '../db/client.js'
import type { PubSub } from '../events/bus.js'
import type { ApiKeyCache } from './apiKeyCache.js'
import type { OpenStreams } from '../events/openStreams.js'
import type { Call, Pixel, Webhook } from '../generated/prisma/client.js'
import type { CallEventStore } from './callEvents.js'
import type { OutboundHttp } from './outboundHttp.js'
import type { PixelStore } from './pixelStore.js'
import type { PostbackRateLimiter } from './postbackRateLimiter.js'
import type { PostbackWriter } from './postbackWriter.js'

/** What the operations in resolvers/ work with; transports (GraphQL, REST, jobs) pass it in. */
export interface Services {
  db: Db
  provider: DatabaseProvider
  pubsub: PubSub
  /** key lookups for the postback path */
  apiKeys: ApiKeyCache
  /** live streams by the key that opened them (revoking a key ends them) */
  streams: OpenStreams
  postbackWriter: PostbackWriter
  postbackLimiter: PostbackRateLimiter
  /** writes call events (call, tags, pixels) */
  callEvents: CallEventStore
  /** loads pixels for delivery and records attempts */
  pixelStore: PixelStore
  /** told when pixels were written, so the delivery worker (if this process runs one) looks at once */
  pixelQueue: PixelQueue
  /** the pooled, target-checked HTTP client webhooks are delivered with */
  outboundHttp: OutboundHttp
}

export interface PixelQueue {
  /** pixels were written PENDING: look for due work now */
  notify(): void
  /** pixels written claimed by this process (slots reserved while writing): deliver them now */
  deliver(jobs: DeliveryJob[]): void
}

/** A pixel with what its delivery needs, in memory. */
export interface DeliveryJob {
  pixel: Pixel
  webhook: Webhook
  call: Call
  /** the call's tags, for rendering the first attempt and checking a timer's matches; null when not loaded */
  tags: Record<string, string> | null
}

export type TagSource = 'POSTBACK' | 'WEBHOOK' | 'CALL_EVENT' | 'API'

export interface TagInput {
  key: string
  value: string
}

export type CallStatus = 'STARTED' | 'ANSWERED' | 'ENDED'
