// What a job of Ringhook is: a name, the work, its lock and retries, and (for repeating jobs) how often.
// Adding a job: a file here exporting a JobDefinition, its name in JOB_NAMES (core/jobScheduler.ts), and
// the definition in the list of agenda.ts. Give it `backoff` (Agenda's `exponential({...})` etc.) to have a
// failed run tried again; without it a failed run is not.
import type { BackoffStrategy, Job } from 'agenda'
import type { Db } from '../core/db.js'
import type { JobName } from '../core/jobScheduler.js'
import type { Logger } from '../core/logger.js'
import type { PixelQueue } from '../delivery/handoff.js'
import type { PubSub } from '../events/bus.js'
import type { OutboundHttp } from '../delivery/http/outboundHttp.js'

/** Settings of the jobs, from the configuration. */
export interface JobSettings {
  pendingTagSweepSeconds: number
  retentionSweepSeconds: number
  /** RETENTION_DAYS */
  retentionDays: number
  replayBatchSize: number
  replayBatchPauseMs: number
}

/** What a job's work may use. */
export interface JobDeps {
  db: Db
  pubsub: PubSub
  /** this process's delivery worker: told when a job wrote pixels to deliver */
  pixelQueue: PixelQueue
  logger: Logger
  /** the target-checked HTTP client (operator notifications) */
  http: OutboundHttp
  settings: JobSettings
  /** aborted when the process stops: long jobs end at their next batch and leave the rest to the next run */
  stopping: AbortSignal
}

export interface JobDefinition<DATA = Record<string, unknown>> {
  name: JobName
  /** the work; a throw fails the run (tried again when `backoff` says so) */
  run(job: Job<DATA>, deps: JobDeps): Promise<void>
  /** a run not finished (or touched) within this is taken for dead and run again by another worker */
  lockLifetime: number
  /** runs at once per worker (Agenda's default: 5) */
  concurrency?: number
  backoff?: BackoffStrategy
  /** repeating jobs: seconds between runs (one run at a time across instances) */
  everySeconds?(settings: JobSettings): number
}
