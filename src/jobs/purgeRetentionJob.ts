// Retention every RETENTION_SWEEP_SECONDS, one run at a time across instances (purgeRetention.ts).
import { JOB_NAMES } from '../core/jobScheduler.js'
import type { JobDefinition } from './jobDefinition.js'
import { purgeRetention } from './purgeRetention.js'

export const purgeRetentionJob: JobDefinition = {
  name: JOB_NAMES.purgeRetention,
  // touched after every batch: a run is taken for dead only when it stops moving
  lockLifetime: 5 * 60_000,
  concurrency: 1,
  everySeconds: (s) => s.retentionSweepSeconds,
  run: async (job, { db, logger, settings, stopping }) => {
    const result = await purgeRetention(db, { defaultDays: settings.retentionDays, onBatch: () => job.touch(), signal: stopping })
    const total = result.companies.reduce((n, c) => n + c.counts.postbacks + c.counts.pixels + c.counts.calls, 0)
    for (const c of result.companies) if (c.error) logger.error({ companyId: c.companyId, error: c.error }, 'retention purge failed for a company')
    if (total || Object.values(result.operational).some(Boolean)) logger.info({ total, operational: result.operational }, 'retention purge deleted rows')
  },
}
