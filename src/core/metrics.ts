// Every Prometheus metric of a running app, defined once, on a registry of the app's own (several apps
// share a test process). Labels come from closed sets only: a call uuid, pixel id, caller number, webhook
// id or company id never becomes a label (the per-webhook health API answers those questions).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

export const METRIC_PREFIX = 'ringhook_'

/** The routes HTTP requests are counted and logged by. */
export type HttpRoute = 'postback' | 'data_writing' | 'call_events' | 'graphql' | 'health' | 'metrics' | 'openapi' | 'other'

/** The group commits whose batch sizes are measured. */
export type WriterStore = 'postbacks' | 'call_events' | 'outcomes'

/** How an attempt of a pixel ended. */
export type AttemptResultLabel = 'success' | 'timeout' | 'network' | 'http_4xx' | 'http_429' | 'http_5xx' | 'http_other' | 'refused'

/** What the outbox holds now, read from the database at scrape time. */
export interface PendingPixels {
  pending: number
  /** seconds since the oldest PENDING pixel that is due came due; 0 when none is */
  oldestDueAgeSeconds: number
}

/** the pending-pixel gauges are read at most this often, however often /metrics is scraped */
const PENDING_CACHE_MS = 2000

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx']

let processRegistry: Registry | null = null

/**
 * Process and Node metrics (CPU, memory, GC, event-loop delay): one registry per process, since they
 * describe the process, not an app (their collectors cannot be stopped, so one app each would leak).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry, prefix: METRIC_PREFIX })
  }
  return processRegistry
}

export class Metrics {
  /** this app's metrics; the GraphQL plugin registers its own here too */
  readonly registry = new Registry()

  private readonly postbacks = new Counter({
    name: 'ringhook_postbacks_total',
    help: 'Postbacks answered, by outcome and by the door they came in by (refused keys count as REJECTED).',
    labelNames: ['outcome', 'channel'] as const,
    registers: [this.registry],
  })
  private readonly callEvents = new Counter({
    name: 'ringhook_call_events_total',
    help: 'Call events, by event and whether they were recorded, refused (bad input, a state that does not allow them) or failed.',
    labelNames: ['event', 'result'] as const,
    registers: [this.registry],
  })
  private readonly pixels = new Counter({
    name: 'ringhook_pixels_total',
    help: 'Pixels that reached a final status, by status and trigger.',
    labelNames: ['status', 'trigger'] as const,
    registers: [this.registry],
  })
  private readonly attempts = new Counter({
    name: 'ringhook_pixel_attempts_total',
    help: 'Delivery attempts, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  })
  private readonly attemptDuration = new Histogram({
    name: 'ringhook_pixel_attempt_duration_seconds',
    help: 'How long the webhook request of an attempt took (sent to answered, failed or timed out).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  })
  private readonly triggerToRequest = new Histogram({
    name: 'ringhook_pixel_trigger_to_request_seconds',
    help: "From the pixel's due time (its nextAttemptAt, else its creation) to the start of the attempt.",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  })
  private readonly batchSize = new Histogram({
    name: 'ringhook_writer_batch_size',
    help: 'Items written together in one group commit, by store.',
    labelNames: ['store'] as const,
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
    registers: [this.registry],
  })
  private readonly httpDuration = new Histogram({
    name: 'ringhook_http_request_duration_seconds',
    help: 'HTTP requests by route and status class, and how long they took (its _count is the number of requests).',
    labelNames: ['route', 'status_class'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })

  private readPending: (() => Promise<PendingPixels>) | null = null
  private pendingRead: { at: number; value: Promise<PendingPixels> } | null = null

  constructor() {
    const pending = () => this.pendingPixels()
    new Gauge({
      name: 'ringhook_pixels_pending',
      help: 'Pixels waiting in the outbox (PENDING: new, retries, timers), read from the database at scrape time.',
      registers: [this.registry],
      async collect() {
        const value = await pending()
        if (value) this.set(value.pending)
      },
    })
    new Gauge({
      name: 'ringhook_pixels_oldest_due_age_seconds',
      help: 'Seconds since the oldest due PENDING pixel came due (0 when none is waiting): how far deliveries lag.',
      registers: [this.registry],
      async collect() {
        const value = await pending()
        if (value) this.set(value.oldestDueAgeSeconds)
      },
    })
  }

  /** Where the pending-pixel gauges are read from (the composition root knows the database). */
  readPendingPixelsWith(read: () => Promise<PendingPixels>): void {
    this.readPending = read
  }

  /** One read for both gauges, kept a moment: a scrape storm costs the database one query pair. */
  private pendingPixels(): Promise<PendingPixels | null> {
    const read = this.readPending
    if (!read) return Promise.resolve(null)
    const now = Date.now()
    if (!this.pendingRead || now - this.pendingRead.at > PENDING_CACHE_MS) {
      // a database out of reach leaves the gauges unknown (NaN) rather than failing the whole scrape
      this.pendingRead = { at: now, value: read().catch(() => ({ pending: Number.NaN, oldestDueAgeSeconds: Number.NaN })) }
    }
    return this.pendingRead.value
  }

  postbackAnswered(channel: string, outcome: string): void {
    this.postbacks.inc({ outcome, channel })
  }

  callEvent(event: string, result: 'recorded' | 'refused' | 'failed'): void {
    this.callEvents.inc({ event, result })
  }

  pixelFinished(status: string, trigger: string, count = 1): void {
    this.pixels.inc({ status, trigger }, count)
  }

  /** An attempt: how it ended, how long its request took, and how long after the pixel came due it started. */
  attempt(result: AttemptResultLabel, durationMs: number, sinceDueMs: number): void {
    this.attempts.inc({ result })
    // a refused target was never requested
    if (result !== 'refused') this.attemptDuration.observe(durationMs / 1000)
    this.triggerToRequest.observe(Math.max(0, sinceDueMs) / 1000)
  }

  /** The onBatch hook of a store's group commit. */
  writerBatch(store: WriterStore): (size: number) => void {
    const child = this.batchSize.labels(store)
    return (size) => child.observe(size)
  }

  httpRequest(route: HttpRoute, status: number, seconds: number): void {
    this.httpDuration.observe({ route, status_class: STATUS_CLASSES[Math.floor(status / 100)] ?? 'other' }, seconds)
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** The text a scraper reads: this app's metrics, then the process's. */
  async text(): Promise<string> {
    const [app, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()])
    return `${app}\n${process}`
  }
}
