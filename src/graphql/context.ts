import type DataLoader from 'dataloader'
import type { Tag } from '../generated/prisma/client.js'
import type { Auth } from '../tenancy/authenticate.js'
import type { DatabaseProvider } from '../core/config.js'
import type { PubSub } from '../events/bus.js'
import type { OpenStreams } from '../events/openStreams.js'
import type { ApiKeyCache } from '../tenancy/apiKeyCache.js'
import type { CallEventStore } from '../calls/callEvents.js'
import type { PixelQueue } from '../delivery/handoff.js'
import type { OutboundHttp } from '../delivery/http/outboundHttp.js'
import type { PixelStore } from '../delivery/pixelStore.js'
import type { PostbackRateLimiter } from '../postbacks/postbackRateLimiter.js'
import type { PostbackWriter } from '../postbacks/postbackWriter.js'
import type { Db } from '../core/db.js'
import type { CircuitBreaker } from '../delivery/circuitBreaker.js'
import type { DeliveryLimits } from '../delivery/deliveryLimits.js'
import type { Metrics } from '../core/metrics.js'
import type { JobScheduler } from '../core/jobScheduler.js'

export interface Loaders {
  /** `${callId}\u0000${key}` -> the tag, batched across a page of calls */
  tagByCallAndKey: DataLoader<string, Tag | null>
}

export interface Context {
  services: Services
  auth: Auth
  loaders: Loaders
}

/** The stores and helpers the composition root (app.ts) builds; transports (GraphQL, REST) pass them to the capabilities, each of which takes what it needs. */
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
  /** the webhooks' circuit breaker (enableWebhook, probes) */
  circuit: CircuitBreaker
  /** rate limits per webhook (maxPerSecond, maxInFlight, slow-downs) */
  deliveryLimits: DeliveryLimits
  /** this app's Prometheus metrics (a registry of its own) */
  metrics: Metrics
  /** jobs for a worker of any instance (bulk replays) */
  jobs: JobScheduler
  /** RETENTION_DAYS: what a company that sets no days of its own keeps */
  retentionDays: number
}
