// Bulk replay: the pixels a filter selects delivered again, each as a new pixel (trigger RESEND) that
// names its original. Asking counts (a dry run stops there) and stores a ReplayJob; a job on a worker
// makes the new pixels in batches (runReplay.ts). One replay of a filter at a time per company: the
// unique activeKey decides it in the database, across instances.
import crypto from 'node:crypto'
import type { Prisma, ReplayJob } from '../generated/prisma/client.js'
import { badInput, notFound } from '../core/errors.js'
import { JOB_NAMES, type JobScheduler } from '../core/jobScheduler.js'
import { timeRange } from '../core/times.js'
import { jsonRow, type PubSub } from '../events/bus.js'
import { summarisePixels, type PixelSummary } from './pixelSummary.js'
import type { Db } from '../core/db.js'
import { PIXEL_TRIGGERS, type PixelTrigger } from '../webhooks/webhookConfig.js'

export interface ReplayFilter {
  webhookId?: string | null
  campaignId?: string | null
  status?: string | null
  trigger?: PixelTrigger | null
  createdAfter?: Date | null
  createdBefore?: Date | null
}

/** The filter as stored on the ReplayJob: fields in one order, times as ISO text, unset fields left out. */
export interface StoredReplayFilter {
  webhookId?: string
  campaignId?: string
  status?: string
  trigger?: string
  createdAfter?: string
  createdBefore?: string
}

export const REPLAY_STATUSES = ['QUEUED', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED'] as const
/** a replay in one of these holds its activeKey */
export const ACTIVE_REPLAY = ['QUEUED', 'RUNNING']

export interface ReplayAnswer {
  /** pixels the filter selects now */
  count: number
  dryRun: boolean
  /** the replay stored (null for a dry run) */
  job: ReplayJob | null
}

export function storedFilter(filter: ReplayFilter): StoredReplayFilter {
  const out: StoredReplayFilter = {}
  if (filter.webhookId) out.webhookId = filter.webhookId
  if (filter.campaignId) out.campaignId = filter.campaignId
  if (filter.status) out.status = filter.status
  if (filter.trigger) out.trigger = filter.trigger
  if (filter.createdAfter) out.createdAfter = filter.createdAfter.toISOString()
  if (filter.createdBefore) out.createdBefore = filter.createdBefore.toISOString()
  return out
}

/** The pixels of the company the stored filter selects, created up to `upTo`, none of `replayJobId`'s own. */
export function replayWhere(companyId: string, filter: StoredReplayFilter, upTo: Date, replayJobId?: string): Prisma.PixelWhereInput {
  const created = timeRange(filter.createdAfter ? new Date(filter.createdAfter) : null, filter.createdBefore ? new Date(filter.createdBefore) : null)
  return {
    companyId,
    ...(filter.webhookId ? { webhookId: filter.webhookId } : {}),
    ...(filter.campaignId ? { campaignId: filter.campaignId } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.trigger ? { trigger: filter.trigger } : {}),
    AND: [
      ...(created ? [{ createdAt: created }] : []),
      { createdAt: { lte: upTo } },
      // a clock behind the one that set upTo must not make a replay pick up the pixels it made
      ...(replayJobId ? [{ OR: [{ replayJobId: null }, { replayJobId: { not: replayJobId } }] }] : []),
    ],
  }
}

async function checkFilter(db: Db, companyId: string, filter: ReplayFilter): Promise<void> {
  if (filter.trigger && !PIXEL_TRIGGERS.includes(filter.trigger)) throw badInput('filter.trigger', `must be one of ${PIXEL_TRIGGERS.join(', ')}`)
  // a deleted webhook's pixels may be asked for: they count as failed, not replayed
  if (filter.webhookId && !(await db.webhook.findFirst({ where: { id: filter.webhookId, companyId }, select: { id: true } })))
    throw notFound('webhook', 'filter.webhookId')
  if (filter.campaignId && !(await db.campaign.findFirst({ where: { id: filter.campaignId, companyId }, select: { id: true } })))
    throw notFound('campaign', 'filter.campaignId')
  if (filter.createdAfter && filter.createdBefore && filter.createdAfter >= filter.createdBefore)
    throw badInput('filter.createdBefore', 'must be later than createdAfter')
}

/**
 * What one replay of a filter at a time is decided by: a digest of the company and the stored filter (its
 * fields in one order), so the unique index holds a fixed length whatever the filter's ids are.
 */
export const replayActiveKey = (companyId: string, filter: StoredReplayFilter) =>
  crypto
    .createHash('sha256')
    .update(`${companyId}\n${JSON.stringify(filter)}`)
    .digest('hex')

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === 'P2002'

/** Publishes a replay's state to the company's replayJobUpdated subscribers (on every instance). */
export function publishReplay(pubsub: PubSub, job: ReplayJob): void {
  pubsub.publish('replayJobUpdated', job.companyId, { replayJob: jsonRow(job) })
}

/**
 * Counts the pixels the filter selects; unless it is a dry run, stores the replay (QUEUED) and asks a worker
 * to run it. A replay of the same filter still queued or running is refused, naming it.
 */
export async function replayPixels(
  services: { db: Db; jobs: JobScheduler; pubsub: PubSub },
  companyId: string,
  input: { filter: ReplayFilter; dryRun?: boolean | null },
): Promise<ReplayAnswer> {
  const { db } = services
  await checkFilter(db, companyId, input.filter)
  const filter = storedFilter(input.filter)
  const upTo = new Date()
  const count = await db.pixel.count({ where: replayWhere(companyId, filter, upTo) })
  if (input.dryRun) return { count, dryRun: true, job: null }
  const activeKey = replayActiveKey(companyId, filter)
  let job: ReplayJob | null = null
  for (let tries = 0; !job; tries++) {
    try {
      job = await db.replayJob.create({ data: { companyId, filter: filter as Prisma.InputJsonObject, status: 'QUEUED', total: count, upTo, activeKey } })
    } catch (e) {
      if (!isUniqueViolation(e)) throw e
      const running = await db.replayJob.findUnique({ where: { activeKey }, select: { id: true, status: true } })
      // the other one ended in between: try once more
      if (running || tries > 0)
        throw badInput(
          'filter',
          `a replay of the same filter is ${running?.status.toLowerCase() ?? 'running'} (replay job ${running?.id ?? 'unknown'}); wait for it or cancel it`,
        )
    }
  }
  try {
    await services.jobs.now(JOB_NAMES.replayPixels, { replayJobId: job.id })
  } catch (e) {
    await db.replayJob.update({
      where: { id: job.id },
      data: { status: 'FAILED', error: 'the job store could not take the job', activeKey: null, finishedAt: new Date() },
    })
    throw e
  }
  publishReplay(services.pubsub, job)
  return { count, dryRun: false, job }
}

/** The company's replay, or NOT_FOUND. */
export async function findReplayJob(db: Db, companyId: string, id: string, field = 'id'): Promise<ReplayJob> {
  const job = await db.replayJob.findFirst({ where: { id, companyId } })
  if (!job) throw notFound('replay job', field)
  return job
}

/** Stops a queued or running replay (the worker stops before its next batch); a finished one is answered as it is. */
export async function cancelReplay(services: { db: Db; jobs: JobScheduler; pubsub: PubSub }, companyId: string, id: string): Promise<ReplayJob> {
  const { db } = services
  const before = await findReplayJob(db, companyId, id)
  const { count } = await db.replayJob.updateMany({
    where: { id, companyId, status: { in: ACTIVE_REPLAY } },
    data: { status: 'CANCELLED', activeKey: null, finishedAt: new Date() },
  })
  const job = await findReplayJob(db, companyId, id)
  if (count) {
    // a job not taken yet is dropped from the store; a running one sees the status before its next batch
    if (before.status === 'QUEUED') await services.jobs.cancel(JOB_NAMES.replayPixels, { replayJobId: id }).catch(() => 0)
    publishReplay(services.pubsub, job)
  }
  return job
}

/** Counts of a replay's new pixels by status. */
export async function replayPixelSummary(db: Db, replayJobId: string): Promise<PixelSummary> {
  const groups = await db.pixel.groupBy({ by: ['status'], where: { replayJobId }, _count: { _all: true } })
  return summarisePixels(groups.map((g) => ({ status: g.status, n: g._count._all })))
}
