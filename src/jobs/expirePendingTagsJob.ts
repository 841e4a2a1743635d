// Pending postback tags past their key's window are deleted (postbacks/pendingTags.ts).
import { JOB_NAMES } from '../core/jobScheduler.js'
import { expirePendingTags } from '../postbacks/pendingTags.js'
import type { JobDefinition } from './jobDefinition.js'

export const expirePendingTagsJob: JobDefinition = {
  name: JOB_NAMES.expirePendingTags,
  lockLifetime: 60_000,
  everySeconds: (s) => s.pendingTagSweepSeconds,
  run: async (_job, { db, logger }) => {
    const count = await expirePendingTags(db)
    if (count) logger.info({ count }, 'expired pending tags deleted')
  },
}
