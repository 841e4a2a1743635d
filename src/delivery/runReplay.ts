// The work of a bulk replay, batch after batch: the next originals after the cursor (by createdAt, id),
// their new pixels (trigger RESEND, due now), the cursor and the counts, in one transaction; then the
// worker is told and the progress published. A cancelled replay stops before its next batch. Two runners
// of one replay make each batch once: a batch writes only from the cursor it read.
import type { ReplayJob } from '../generated/prisma/client.js'
import type { PubSub } from '../events/bus.js'
import type { PixelQueue } from './handoff.js'
import { ACTIVE_REPLAY, publishReplay, replayWhere, type StoredReplayFilter } from './replayPixels.js'
import type { Db } from '../core/db.js'

export interface ReplayRunDeps {
  db: Db
  pubsub: PubSub
  pixelQueue: PixelQueue
}

export interface ReplayRunOptions {
  /** originals a batch (and transaction) replays */
  batchSize: number
  /** a pause between batches, so that deliveries keep pace with the outbox */
  pauseMs: number
  /** after each batch (the job keeps its lock) */
  onBatch?: () => Promise<void>
  /** aborted (the process stops): the replay stays RUNNING and the job's next run goes on from its cursor */
  signal?: AbortSignal
}

/** One batch; answers the replay after it, and whether more may follow. */
export async function replayNextBatch(deps: ReplayRunDeps, job: ReplayJob, batchSize: number): Promise<{ job: ReplayJob; more: boolean }> {
  const { db } = deps
  const where = replayWhere(job.companyId, job.filter as StoredReplayFilter, job.upTo, job.id)
  const cursor = job.cursorCreatedAt
    ? { OR: [{ createdAt: { gt: job.cursorCreatedAt } }, { createdAt: job.cursorCreatedAt, id: { gt: job.cursorId ?? '' } }] }
    : {}
  const originals = await db.pixel.findMany({
    where: { AND: [where, cursor] },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: batchSize,
    select: {
      id: true,
      createdAt: true,
      companyId: true,
      campaignId: true,
      webhookId: true,
      callId: true,
      callerNumber: true,
      webhook: { select: { deletedAt: true } },
    },
  })
  const last = originals.at(-1)
  if (!last) return { job, more: false }
  const replayable = originals.filter((o) => o.webhook.deletedAt === null)
  const now = new Date()
  const after = await db.$transaction(async (tx) => {
    // written only while the replay runs and its cursor is where this batch read from: a cancel in
    // between, or another runner of the same replay (a requeued or stalled job) that wrote first, makes
    // this batch nothing (the row's lock orders the two; the loser's condition no longer holds)
    const { count } = await tx.replayJob.updateMany({
      where: { id: job.id, status: 'RUNNING', cursorCreatedAt: job.cursorCreatedAt, cursorId: job.cursorId },
      data: {
        cursorCreatedAt: last.createdAt,
        cursorId: last.id,
        done: { increment: replayable.length },
        failed: { increment: originals.length - replayable.length },
      },
    })
    if (count === 0) return null
    if (replayable.length)
      await tx.pixel.createMany({
        data: replayable.map((o) => ({
          companyId: o.companyId,
          campaignId: o.campaignId,
          webhookId: o.webhookId,
          callId: o.callId,
          callerNumber: o.callerNumber,
          trigger: 'RESEND',
          status: 'PENDING',
          nextAttemptAt: now,
          replayOfId: o.id,
          replayJobId: job.id,
        })),
      })
    return tx.replayJob.findUniqueOrThrow({ where: { id: job.id } })
  })
  if (!after) {
    // cancelled (stop), or another runner moved on: go on from where it got to
    const current = await db.replayJob.findUniqueOrThrow({ where: { id: job.id } })
    return { job: current, more: current.status === 'RUNNING' }
  }
  if (replayable.length) deps.pixelQueue.notify()
  publishReplay(deps.pubsub, after)
  return { job: after, more: originals.length === batchSize }
}

/**
 * Runs a replay to its end: QUEUED becomes RUNNING (a RUNNING one, whose worker died, goes on from its
 * cursor), batches until none is left, then COMPLETED. Answers the replay as it ended (or was found:
 * cancelled or finished).
 */
export async function runReplay(deps: ReplayRunDeps, replayJobId: string, options: ReplayRunOptions): Promise<ReplayJob | null> {
  const { db } = deps
  const started = await db.replayJob.updateMany({ where: { id: replayJobId, status: 'QUEUED' }, data: { status: 'RUNNING', startedAt: new Date() } })
  let job = await db.replayJob.findUnique({ where: { id: replayJobId } })
  if (job?.status !== 'RUNNING') return job
  if (started.count) publishReplay(deps.pubsub, job)
  try {
    for (;;) {
      const step = await replayNextBatch(deps, job, options.batchSize)
      job = step.job
      if (job.status !== 'RUNNING' || !step.more) break
      if (options.signal?.aborted) return job
      await options.onBatch?.()
      if (options.pauseMs > 0) await new Promise((r) => setTimeout(r, options.pauseMs))
    }
  } catch (e) {
    await endReplay(deps, job.id, 'FAILED', (e as Error).message.slice(0, 500))
    throw e
  }
  if (job.status !== 'RUNNING') return job
  return endReplay(deps, job.id, 'COMPLETED', null)
}

/** Ends a replay still queued or running (its activeKey freed); answers it as it now is (another runner may have ended it). */
async function endReplay(deps: ReplayRunDeps, id: string, status: 'COMPLETED' | 'FAILED', error: string | null): Promise<ReplayJob> {
  const { count } = await deps.db.replayJob.updateMany({
    where: { id, status: { in: ACTIVE_REPLAY } },
    data: { status, error, activeKey: null, finishedAt: new Date() },
  })
  const job = await deps.db.replayJob.findUniqueOrThrow({ where: { id } })
  if (count) publishReplay(deps.pubsub, job)
  return job
}
