// Opens the stores and starts the server: used by main.ts and by the tests (same code path).
import type { Config } from './core/config.js'
import { openDatabase, type OpenDatabaseOptions } from './store/client.js'
import { applyMigrations } from './store/migrate.js'
import { createEventBus, type EventBus } from './events/bus.js'
import { createLogger, flushLogger, type Logger } from './core/logger.js'
import { Metrics } from './core/metrics.js'
import { DeliveryMetrics } from './delivery/deliveryMetrics.js'
import { readPendingPixels } from './delivery/pendingPixels.js'
import { startMetricsServer, type MetricsServer } from './http/metricsRoutes.js'
import { createCompany, type CreatedCompany } from './tenancy/createCompany.js'
import { createServer, type RinghookServer } from './http/server.js'
import { Redis } from 'ioredis'
import { ApiKeyCache } from './tenancy/apiKeyCache.js'
import { JOB_NAMES, openJobs, type RinghookJobs } from './jobs/agenda.js'
import type { JobScheduler } from './core/jobScheduler.js'
import { PostbackRateLimiter } from './postbacks/postbackRateLimiter.js'
import { PostbackWriter } from './postbacks/postbackWriter.js'
import { PgPostbackStore } from './store/postgres/postbackStore.js'
import { SqlitePostbackStore } from './store/sqlite/postbackStore.js'
import { sqliteFilePath } from './store/sqlite/sqlitePath.js'
import { PixelWorker } from './delivery/pixelWorker.js'
import { createThreadedOutboundHttp } from './delivery/http/outboundHttp.js'
import { PgCallEventStore } from './store/postgres/callEventStore.js'
import { SqliteCallEventStore } from './store/sqlite/callEventStore.js'
import { SqlitePixelStore } from './store/sqlite/pixelStore.js'
import { SqliteWriter } from './store/sqlite/sqliteWriter.js'
import { OpenStreams } from './events/openStreams.js'
import type { Services } from './graphql/context.js'
import { NO_SLOTS, type DeliverySlots } from './delivery/handoff.js'
import { PgPixelStore } from './store/postgres/pixelStore.js'
import { openPool } from './store/postgres/pool.js'
import type { Db } from './core/db.js'
import { CircuitBreaker } from './delivery/circuitBreaker.js'
import { createDeliveryLimits } from './delivery/deliveryLimits.js'

export interface RunningApp {
  config: Config
  db: Db
  bus: EventBus
  logger: Logger
  http: RinghookServer
  port: number
  url: string
  /** this app's metrics registry (served at /metrics) */
  metrics: Metrics
  /** the METRICS_PORT listener's /metrics URL, when it runs */
  metricsUrl: string | null
  /** set when this start created the demo company of an empty embedded database */
  demo: CreatedCompany | null
  services: Services
  jobs: RinghookJobs
  close(): Promise<void>
}

export class StartupError extends Error {}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}

/** Until the job store is open (startApp opens it): a job asked for before fails. */
const JOBS_NOT_OPEN: JobScheduler = {
  now: async () => {
    throw new Error('the job store is not open in this process')
  },
  cancel: async () => 0,
}

/** Deliveries under way (claimed or handed over, queued for the delivery thread, or out) per request slot. */
const DELIVERIES_PER_REQUEST_SLOT = 4

/** The stores and helpers that the operations in resolvers/ work with; what they count goes to `metrics`. */
export function createServices(
  config: Config,
  db: Db,
  bus: EventBus,
  logger: Logger,
  metrics: Metrics = new Metrics(),
): { services: Services; worker: PixelWorker | null; ready(): Promise<void>; closeServices(): Promise<void> } {
  // a Redis that hangs answers no later than commandTimeout: the limiters fall back to their in-memory insurance
  const rateLimitRedis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, commandTimeout: 1000 }) : null
  rateLimitRedis?.on('error', (e) => logger.error({ err: e }, 'redis (rate limits) connection error'))
  // requests go out on a thread of their own, PIXEL_CONCURRENCY at most at once; the worker keeps more
  // than that under way, so the next request is waiting there when one ends
  const http = createThreadedOutboundHttp(config.allowedTargets, config.pixelConnectionsPerEndpoint, config.pixelConcurrency)
  const sqliteFile = config.databaseProvider === 'sqlite' ? sqliteFilePath(config.databaseUrl) : null
  // on SQLite, call events, outcomes and claims are written on a thread of their own
  const writer = sqliteFile ? new SqliteWriter(sqliteFile) : null
  // on PostgreSQL, the hot paths write set-based statements through a pg pool of their own
  const pool = sqliteFile ? null : openPool(config.databaseUrl)
  const pgPixels = pool ? new PgPixelStore(pool, metrics.writerBatch('outcomes')) : null
  const pixelStore = writer ? new SqlitePixelStore(writer, db, metrics.writerBatch('outcomes')) : pgPixels!
  // rate limits per webhook, shared across workers through Redis when there is one
  const limits = createDeliveryLimits(rateLimitRedis, bus.pubsub)
  let worker: PixelWorker | null = null
  const circuit = new CircuitBreaker({ db, pixels: pixelStore, pubsub: bus.pubsub, logger, wake: () => worker?.notify() })
  worker =
    config.role === 'api'
      ? null
      : new PixelWorker({ pixels: pixelStore, pubsub: bus.pubsub, http, circuit, limits, metrics: new DeliveryMetrics(metrics) }, logger, {
          concurrency: config.pixelConcurrency * DELIVERIES_PER_REQUEST_SLOT,
          pollMs: config.pixelPollMs,
          lockMs: config.pixelLockMs,
        })
  // an API-only instance hands nothing over: its pixels wait in the outbox for the workers
  const slots: DeliverySlots = worker ?? NO_SLOTS
  const services: Services = {
    db,
    outboundHttp: http,
    provider: config.databaseProvider,
    pubsub: bus.pubsub,
    apiKeys: new ApiKeyCache(db, config.apiKeyCacheMs, (e) => logger.error({ err: e }, "writing an API key's lastUsedAt failed")),
    streams: new OpenStreams(),
    postbackWriter: new PostbackWriter(sqliteFile ? new SqlitePostbackStore(sqliteFile) : new PgPostbackStore(pool!), {
      onBatch: metrics.writerBatch('postbacks'),
    }),
    postbackLimiter: new PostbackRateLimiter(config.postbackRateLimitPerMinute, rateLimitRedis),
    callEvents: writer
      ? new SqliteCallEventStore(writer, worker, metrics.writerBatch('call_events'))
      : new PgCallEventStore(pool!, slots, metrics.writerBatch('call_events')),
    pixelStore,
    pixelQueue: worker ?? { notify: () => {}, deliver: () => {} },
    circuit,
    deliveryLimits: limits,
    metrics,
    jobs: JOBS_NOT_OPEN,
    retentionDays: config.retentionDays,
  }
  metrics.readPendingPixelsWith(() => readPendingPixels(db))
  return {
    services,
    worker,
    ready: async () => {
      await writer?.ready()
      // PENDING pixels any instance writes wake this worker at once (else its poll interval finds them)
      if (pgPixels && worker) await pgPixels.listen(() => worker.notify())
    },
    closeServices: async () => {
      // SIGTERM: deliveries in flight finish and are recorded before the process ends
      await services.callEvents.close()
      await worker?.stop()
      await http.close()
      await pixelStore.close()
      await services.postbackWriter.close()
      await writer?.close()
      await pool?.end()
      services.streams.close()
      limits.close()
      rateLimitRedis?.disconnect()
    },
  }
}

export async function startApp(config: Config, options: OpenDatabaseOptions & { logger?: Logger } = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config.logLevel)
  try {
    const applied = await applyMigrations(config.databaseUrl)
    if (applied.length) logger.info({ applied }, 'applied migrations')
  } catch (e) {
    throw new StartupError(`cannot migrate the database at ${redact(config.databaseUrl)}: ${(e as Error).message}`)
  }
  const db = await openDatabase(config.databaseUrl, options)
  const bus = createEventBus(config.redisUrl, logger)

  let demo: CreatedCompany | null = null
  if (config.demoCompany && config.databaseProvider === 'sqlite' && (await db.company.count()) === 0) {
    demo = await createCompany(db, 'Demo')
  }

  // a registry of this app's own: several apps may run in one process (the tests)
  const metrics = new Metrics()
  const { services, worker, ready, closeServices } = createServices(config, db, bus, logger, metrics)
  try {
    await ready()
  } catch (e) {
    await closeServices()
    await bus.close()
    await db.$disconnect()
    throw new StartupError((e as Error).message)
  }
  worker?.start()
  // every instance opens the job store and can ask for jobs; those that deliver (ROLE=all|worker) run them
  let jobs: RinghookJobs
  try {
    jobs = await openJobs(
      config.jobsUrl,
      {
        db,
        pubsub: bus.pubsub,
        pixelQueue: services.pixelQueue,
        logger,
        http: services.outboundHttp,
        settings: {
          pendingTagSweepSeconds: config.pendingTagSweepSeconds,
          retentionSweepSeconds: config.retentionSweepSeconds,
          retentionDays: config.retentionDays,
          replayBatchSize: config.replayBatchSize,
          replayBatchPauseMs: config.replayBatchPauseMs,
        },
      },
      { run: config.role !== 'api' },
    )
  } catch (e) {
    await closeServices()
    await bus.close()
    await db.$disconnect()
    throw new StartupError((e as Error).message)
  }
  services.jobs = jobs.scheduler
  // every change of a circuit goes to its company's operator URL, if it has one, by a job with retries
  services.circuit.onChange((event) => {
    jobs.scheduler
      .now(JOB_NAMES.notifyOperator, { eventId: event.id })
      .catch((e) => logger.error({ err: e, eventId: event.id }, 'could not ask for the operator notification'))
  })

  // streams of keys revoked on other instances end too (at once through Redis, else within API_KEY_CACHE_MS)
  services.streams.watch(db, bus.pubsub, Math.max(250, config.apiKeyCacheMs), logger, (id) => services.apiKeys.forgetKey(id))
  const http = createServer({ config, services, logger, agenda: jobs.agenda })
  const port = await http.listen(config.port, config.host)
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  let metricsServer: MetricsServer | null = null
  if (config.metricsPort !== undefined) {
    try {
      metricsServer = await startMetricsServer(metrics, config.metricsPort, config.metricsHost)
    } catch (e) {
      await http.close()
      await jobs?.stop()
      await closeServices()
      await bus.close()
      await db.$disconnect()
      throw new StartupError(`cannot serve metrics on ${config.metricsHost}:${config.metricsPort}: ${(e as Error).message}`)
    }
  }
  const metricsHost = config.metricsHost === '0.0.0.0' || config.metricsHost === '::' ? '127.0.0.1' : config.metricsHost
  return {
    config,
    db,
    bus,
    logger,
    http,
    port,
    url: `http://${host}:${port}`,
    metrics,
    metricsUrl: metricsServer ? `http://${metricsHost.includes(':') ? `[${metricsHost}]` : metricsHost}:${metricsServer.port}/metrics` : null,
    demo,
    services,
    jobs,
    close: async () => {
      await http.close()
      await metricsServer?.close()
      await jobs.stop()
      await closeServices()
      await bus.close()
      await db.$disconnect()
      // log lines are written in chunks: the last ones now
      await flushLogger(logger)
    },
  }
}
