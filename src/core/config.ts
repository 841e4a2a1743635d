import path from 'node:path'
import { z } from 'zod'
import { parseAllowedTargets } from './addresses.js'

/** Environment -> typed configuration, validated once; a bad value stops the process with a message naming it. */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .refine((v) => /^(file:|postgres(ql)?:\/\/)/.test(v), 'must start with file: or postgres://')
    .optional(),
  REDIS_URL: z
    .string()
    .refine((v) => /^rediss?:\/\//.test(v), 'must start with redis:// or rediss://')
    .optional(),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  MAX_QUERY_TOKENS: z.coerce.number().int().positive().default(1000),
  MAX_QUERY_DEPTH: z.coerce.number().int().positive().default(10),
  MAX_QUERY_COST: z.coerce.number().int().positive().default(5000),
  DEMO_COMPANY: z.enum(['auto', 'off']).default('auto'),
  POSTBACK_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  PENDING_TAG_SWEEP_SECONDS: z.coerce.number().int().positive().default(60),
  API_KEY_CACHE_MS: z.coerce.number().int().min(0).default(5000),
  ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  JOBS_URL: z
    .string()
    .refine((v) => /^(file:|postgres(ql)?:\/\/|mongodb(\+srv)?:\/\/)/.test(v), 'must start with file:, postgres:// or mongodb://')
    .optional(),
  ALLOWED_TARGETS: z.string().default(''),
  PIXEL_CONCURRENCY: z.coerce.number().int().positive().default(64),
  PIXEL_POLL_MS: z.coerce.number().int().positive().default(250),
  PIXEL_LOCK_MS: z.coerce.number().int().positive().default(60_000),
  PIXEL_CONNECTIONS_PER_ENDPOINT: z.coerce.number().int().positive().default(32),
  LOG_LEVEL: z.enum(['silent', 'error', 'info', 'debug']).default('info'),
  OPERATOR_KEY: z.string().min(24, "must be at least 24 characters (it guards every company's metrics and jobs)").optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().default('127.0.0.1'),
  RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).default(30),
  RETENTION_SWEEP_SECONDS: z.coerce.number().int().positive().default(3600),
  REPLAY_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  REPLAY_BATCH_PAUSE_MS: z.coerce.number().int().min(0).max(60_000).default(50),
})

export type DatabaseProvider = 'sqlite' | 'postgresql'

export interface Config {
  port: number
  host: string
  databaseUrl: string
  databaseProvider: DatabaseProvider
  redisUrl: string | undefined
  bodyLimitBytes: number
  /** tokens a GraphQL document may have; checked while it is lexed, before parsing can recurse */
  maxQueryTokens: number
  maxQueryDepth: number
  maxQueryCost: number
  demoCompany: boolean
  /** per publisher key, unless the key sets its own; 0: no limit */
  postbackRateLimitPerMinute: number
  pendingTagSweepSeconds: number
  apiKeyCacheMs: number
  /** all: API and delivery worker; api: no worker; worker: deliveries only (and /healthz, /readyz) */
  role: 'all' | 'api' | 'worker'
  /** Agenda's job store: file: (SQLite, default beside the embedded database), postgres:// or mongodb:// */
  jobsUrl: string
  /** private or loopback addresses and ranges webhooks may reach anyway (comma-separated IPs and CIDRs) */
  allowedTargets: string
  pixelConcurrency: number
  pixelPollMs: number
  pixelLockMs: number
  /** keep-alive connections the delivery client opens to one origin at most */
  pixelConnectionsPerEndpoint: number
  logLevel: 'silent' | 'error' | 'info' | 'debug'
  /** the server operator's key for /metrics and /agendash (server-wide: not a company's API key); unset: not served on the main port */
  operatorKey: string | undefined
  /** serves /metrics without a key on a port of its own (on metricsHost) */
  metricsPort: number | undefined
  metricsHost: string
  /** days data is kept when a company sets nothing; 0: for ever */
  retentionDays: number
  /** how often the retention job runs */
  retentionSweepSeconds: number
  /** original pixels a bulk replay handles per batch (one transaction) */
  replayBatchSize: number
  /** a bulk replay's pause between batches */
  replayBatchPauseMs: number
}

export const DEFAULT_DATABASE_URL = `file:${path.join('data', 'ringhook.db')}`

export function providerOf(databaseUrl: string): DatabaseProvider {
  return databaseUrl.startsWith('file:') ? 'sqlite' : 'postgresql'
}

export class ConfigError extends Error {}

/** JOBS_URL unset: a SQLite file beside the embedded database (`data/ringhook.db` -> `data/ringhook-jobs.db`). */
function defaultJobsUrl(databaseUrl: string): string {
  if (providerOf(databaseUrl) !== 'sqlite') return `file:${path.join('data', 'ringhook-jobs.db')}`
  return databaseUrl.replace(/\?.*$/, '').replace(/(\.[a-z]+)?$/, (ext) => `-jobs${ext || '.db'}`)
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  try {
    parseAllowedTargets(e.ALLOWED_TARGETS)
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${(err as Error).message}`)
  }
  const databaseUrl = e.DATABASE_URL ?? DEFAULT_DATABASE_URL
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl,
    databaseProvider: providerOf(databaseUrl),
    redisUrl: e.REDIS_URL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    maxQueryTokens: e.MAX_QUERY_TOKENS,
    maxQueryDepth: e.MAX_QUERY_DEPTH,
    maxQueryCost: e.MAX_QUERY_COST,
    demoCompany: e.DEMO_COMPANY === 'auto',
    postbackRateLimitPerMinute: e.POSTBACK_RATE_LIMIT_PER_MINUTE,
    pendingTagSweepSeconds: e.PENDING_TAG_SWEEP_SECONDS,
    apiKeyCacheMs: e.API_KEY_CACHE_MS,
    role: e.ROLE,
    jobsUrl: e.JOBS_URL ?? defaultJobsUrl(databaseUrl),
    allowedTargets: e.ALLOWED_TARGETS,
    pixelConcurrency: e.PIXEL_CONCURRENCY,
    pixelPollMs: e.PIXEL_POLL_MS,
    pixelLockMs: e.PIXEL_LOCK_MS,
    pixelConnectionsPerEndpoint: e.PIXEL_CONNECTIONS_PER_ENDPOINT,
    logLevel: e.LOG_LEVEL,
    operatorKey: e.OPERATOR_KEY,
    metricsPort: e.METRICS_PORT,
    metricsHost: e.METRICS_HOST,
    retentionDays: e.RETENTION_DAYS,
    retentionSweepSeconds: e.RETENTION_SWEEP_SECONDS,
    replayBatchSize: e.REPLAY_BATCH_SIZE,
    replayBatchPauseMs: e.REPLAY_BATCH_PAUSE_MS,
  }
}
