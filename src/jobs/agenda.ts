// Agenda: the jobs that run once across all instances, on the job store JOBS_URL names: pending-tag
// expiry, retention, bulk replays. Every process opens the store and can schedule jobs (and serve
// Agendash); only ROLE=all|worker processes run them. Webhook deliveries are not jobs: the delivery worker
// claims them from the pixel outbox (pixelWorker.ts) in batches, so the job store does not pay per pixel.
import { Agenda, type AgendaBackend } from 'agenda'
import { JOB_NAMES, type JobScheduler } from '../core/jobScheduler.js'
import { createJobsBackend, jobsBackendKind } from './backend.js'
import { expirePendingTagsJob } from './expirePendingTagsJob.js'
import type { JobDefinition, JobDeps } from './jobDefinition.js'
import { purgeRetentionJob } from './purgeRetentionJob.js'
import { replayPixelsJob } from './replayPixelsJob.js'
import { notifyOperatorJob } from './notifyOperatorJob.js'

export { JOB_NAMES }

/** Every job of Ringhook: a new one is a file of this folder and a line here. */
export const JOBS: JobDefinition<never>[] = [expirePendingTagsJob, purgeRetentionJob, replayPixelsJob, notifyOperatorJob]

export interface RinghookJobs {
  agenda: Agenda
  backend: AgendaBackend
  /** what capabilities are given: schedule and cancel, nothing of Agenda itself */
  scheduler: JobScheduler
  /** whether this process runs jobs (ROLE=all|worker) or only schedules them (ROLE=api) */
  runs: boolean
  /** waits for running jobs (a while), then disconnects (SIGTERM) */
  stop(): Promise<void>
}

export class JobsStartupError extends Error {}

/**
 * PostgreSQL errors of two instances making the job store's schema at the same moment (the PostgreSQL
 * backend drops and creates its trigger at every connect): the schema is there once the other is done.
 */
const SCHEMA_RACE_CODES = new Set(['XX000', '23505', '40P01', '42P07', '42710'])

/**
 * Connects the job store, trying again a few times when another instance is making its schema right now,
 * and answers it as Agenda should be given it: connected, so that the connect() Agenda's constructor makes
 * (its rejection unhandled) does nothing more.
 */
export async function connectBackend(backend: AgendaBackend, tries = 5): Promise<AgendaBackend> {
  for (let i = 1; ; i++) {
    try {
      await backend.connect()
      break
    } catch (e) {
      if (i >= tries || !SCHEMA_RACE_CODES.has((e as { code?: string }).code ?? '')) throw e
      await backend.disconnect().catch(() => {})
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200))
    }
  }
  return {
    name: backend.name,
    repository: backend.repository,
    notificationChannel: backend.notificationChannel,
    logger: backend.logger,
    ownsConnection: backend.ownsConnection,
    connect: async () => {},
    disconnect: () => backend.disconnect(),
  }
}

/**
 * Opens the job store and defines every job; with `run`, starts processing and schedules the repeating
 * jobs (once across instances: Agenda keeps one row per repeating job).
 */
export async function openJobs(jobsUrl: string, given: Omit<JobDeps, 'stopping'>, options: { run: boolean }): Promise<RinghookJobs> {
  const stopping = new AbortController()
  const deps: JobDeps = { ...given, stopping: stopping.signal }
  let backend: AgendaBackend
  try {
    // connect first: a store that is down would otherwise leave agenda.ready pending forever (platform facts)
    backend = await connectBackend(createJobsBackend(jobsUrl))
  } catch (e) {
    throw new JobsStartupError(`cannot open the job store (${jobsBackendKind(jobsUrl)}): ${(e as Error).message}`)
  }
  const agenda = new Agenda({ backend, processEvery: 1000, defaultLockLifetime: 60_000 })
  agenda.on('error', (e) => deps.logger.error({ err: e }, 'job store error'))
  agenda.on('fail', (e: Error, job: { attrs: { name: string } }) => deps.logger.error({ err: e, job: job.attrs.name }, 'job failed'))
  for (const definition of JOBS as JobDefinition[]) {
    agenda.define(definition.name, (job) => definition.run(job, deps), {
      lockLifetime: definition.lockLifetime,
      ...(definition.concurrency ? { concurrency: definition.concurrency } : {}),
      ...(definition.backoff ? { backoff: definition.backoff } : {}),
    })
  }
  if (options.run) {
    await agenda.start()
    for (const definition of JOBS as JobDefinition[]) {
      const seconds = definition.everySeconds?.(deps.settings)
      if (seconds) await agenda.every(`${seconds} seconds`, definition.name)
    }
  }
  const scheduler: JobScheduler = {
    now: async (name, data) => {
      await agenda.now(name, data)
    },
    cancel: (name, data) => agenda.cancel({ name, data }),
  }
  return {
    agenda,
    backend,
    scheduler,
    runs: options.run,
    stop: async () => {
      // drain waits for running jobs (told to end at their next batch) and disconnects; an instance that never started only disconnects
      stopping.abort()
      if (options.run) await agenda.drain({ timeout: 10_000 })
      else await backend.disconnect()
    },
  }
}
