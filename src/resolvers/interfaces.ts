import type { DatabaseProvider } from '../config.js'
import type { Db } from '../db/client.js'
import type { PubSub } from '../events/bus.js'
import type { ApiKeyCache } from './apiKeyCache.js'
import type { OutboundHttp } from './outboundHttp.js'
import type { PostbackRateLimiter } from './postbackRateLimiter.js'
import type { PostbackWriter } from './postbackWriter.js'

/** What the operations in resolvers/ work with; transports (GraphQL, REST, jobs) pass it in. */
export interface Services {
  db: Db
  provider: DatabaseProvider
  pubsub: PubSub
  /** key lookups for the postback path */
  apiKeys: ApiKeyCache
  postbackWriter: PostbackWriter
  postbackLimiter: PostbackRateLimiter
  /** told when pixels were written, so the delivery worker (if this process runs one) looks at once */
  pixelQueue: PixelQueue
  /** the pooled, target-checked HTTP client webhooks are delivered with */
  outboundHttp: OutboundHttp
}

export interface PixelQueue {
  notify(): void
}

export type TagSource = 'POSTBACK' | 'WEBHOOK' | 'CALL_EVENT' | 'API'

export interface TagInput {
  key: string
  value: string
}

export type CallStatus = 'STARTED' | 'ANSWERED' | 'ENDED'
