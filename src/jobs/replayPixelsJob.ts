// A bulk replay asked for with replayPixels (delivery/replayPixels.ts), run by whichever worker takes it.
import { JOB_NAMES } from '../core/jobScheduler.js'
import { runReplay } from '../delivery/runReplay.js'
import type { JobDefinition } from './jobDefinition.js'

export const replayPixelsJob: JobDefinition<{ replayJobId: string }> = {
  name: JOB_NAMES.replayPixels,
  // touched after every batch; a worker that dies leaves the replay RUNNING and locked, and when the lock
  // passes another worker runs the job again from the replay's cursor
  lockLifetime: 2 * 60_000,
  run: async (job, deps) => {
    const { replayJobId } = job.attrs.data
    const replay = await runReplay(deps, replayJobId, {
      batchSize: deps.settings.replayBatchSize,
      pauseMs: deps.settings.replayBatchPauseMs,
      onBatch: () => job.touch(),
      signal: deps.stopping,
    })
    // stopped by a shutdown between batches: the rest is a job for any worker, now
    if (replay?.status === 'RUNNING') await job.agenda.now(JOB_NAMES.replayPixels, { replayJobId })
  },
}
