// A circuit change sent to its company's operator URL (delivery/notifyOperator.ts), tried again with
// backoff while the URL does not answer 2xx: after 10 s, then doubling, for about a day.
import { exponential } from 'agenda'
import { JOB_NAMES } from '../core/jobScheduler.js'
import { notifyOperator } from '../delivery/notifyOperator.js'
import type { JobDefinition } from './jobDefinition.js'

export const notifyOperatorJob: JobDefinition<{ eventId: string }> = {
  name: JOB_NAMES.notifyOperator,
  lockLifetime: 60_000,
  backoff: exponential({ delay: 10_000, factor: 2, maxRetries: 13, maxDelay: 3_600_000, jitter: 0.2 }),
  run: async (job, { db, http }) => {
    await notifyOperator({ db, http }, job.attrs.data.eventId)
  },
}
