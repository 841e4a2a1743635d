// Agenda: the jobs that must run once across all instances, on the job store JOBS_URL names.
// Today: expiring pending postback tags. Webhook deliveries are claimed from the pixel outbox by the
// delivery worker (pixelWorker.ts), in batches, so the job store does not pay per pixel.
import { Agenda, type AgendaBackend } from 'agenda'
import type { Logger } from '../core/logger.js'
import { expirePendingTags } from '../postbacks/pendingTags.js'
import { createJobsBackend, jobsBackendKind } from './backend.js'
import type { Db } from '../core/db.js'

export const JOB_NAMES = { expirePendingTags: 'expire-pending-tags' } as const

export interface RinghookJobs {
  agenda: Agenda
  backend: AgendaBackend
  /** waits for running jobs, then disconnects (SIGTERM) */
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

export async function startJobs(jobsUrl: string, deps: { db: Db; logger: Logger; sweepSeconds: number }): Promise<RinghookJobs> {
  let backend: AgendaBackend
  try {
    // connect first: a store that is down would otherwise leave agenda.ready pending forever (platform facts)
    backend = await connectBackend(createJobsBackend(jobsUrl))
  } catch (e) {
    throw new JobsStartupError(`cannot open the job store (${jobsBackendKind(jobsUrl)}): ${(e as Error).message}`)
  }
  const agenda = new Agenda({ backend, processEvery: 1000, defaultLockLifetime: 60_000 })
  agenda.on('error', (e) => deps.logger.error({ err: e }, 'job store error'))
  agenda.define(
    JOB_NAMES.expirePendingTags,
    async () => {
      const count = await expirePendingTags(deps.db)
      if (count) deps.logger.info({ count }, 'expired pending tags deleted')
    },
    { lockLifetime: 60_000 },
  )
  await agenda.start()
  await agenda.every(`${deps.sweepSeconds} seconds`, JOB_NAMES.expirePendingTags)
  return {
    agenda,
    backend,
    stop: async () => {
      await agenda.drain({ timeout: 10_000 })
    },
  }
}
