// Retention: each company's postbacks, finished pixels and calls older than its days are deleted (0 days:
// kept for ever), in batches: a batch of ids is selected, then deleted in one short transaction with the
// rows that hang off them, and a pause follows, so no statement holds the tables for long. Every run is
// recorded per company (RetentionRun). Operational rows are purged server-wide by fixed ages.
//
// Children are deleted explicitly rather than left to the foreign keys' cascades: the same statements then
// do the same on both databases, and a call's pixels and attempts go in batches of their own call batch.
import { companyRetention } from '../tenancy/companySettings.js'
import type { Db } from '../core/db.js'

export const RETENTION_LIMITS = {
  /** rows a statement deletes at most */
  batchSize: 1000,
  /** between two batches */
  pauseMs: 20,
  minuteBucketsHours: 48,
  hourBucketsDays: 35,
  retentionRunsDays: 90,
} as const

const DAY_MS = 86_400_000
const FINISHED_PIXEL = ['SUCCEEDED', 'FAILED', 'CANCELLED']
const FINISHED_REPLAY = ['COMPLETED', 'CANCELLED', 'FAILED']

export interface PurgeOptions {
  /** RETENTION_DAYS: for companies that set no days of their own (0: for ever) */
  defaultDays: number
  batchSize?: number
  pauseMs?: number
  now?: Date
  /** after each batch (the job keeps its lock with it) */
  onBatch?: () => Promise<void>
  /** aborted: no further batch starts (the next run goes on) */
  signal?: AbortSignal
}

export interface RetentionCounts {
  postbacks: number
  /** finished pixels past their days, and the pixels of purged calls */
  pixels: number
  calls: number
}

export interface PurgeResult {
  companies: { companyId: string; counts: RetentionCounts; error: string | null }[]
  /** server-wide and per-company operational rows */
  operational: { healthBuckets: number; healthEvents: number; replayJobs: number; retentionRuns: number }
}

type Batcher = (step: () => Promise<{ selected: number; deleted: number }>) => Promise<number>

/** Runs `step` until a batch selects fewer rows than a batch holds; answers the rows deleted. */
function batcher(options: PurgeOptions): Batcher {
  const size = options.batchSize ?? RETENTION_LIMITS.batchSize
  const pauseMs = options.pauseMs ?? RETENTION_LIMITS.pauseMs
  return async (step) => {
    let deleted = 0
    for (;;) {
      const batch = await step()
      deleted += batch.deleted
      if (batch.selected < size || options.signal?.aborted) return deleted
      await options.onBatch?.()
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
    }
  }
}

const ago = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS)

/** Every company's purge, each recorded as a RetentionRun, then the operational rows. */
export async function purgeRetention(db: Db, options: PurgeOptions): Promise<PurgeResult> {
  const now = options.now ?? new Date()
  const batches = batcher(options)
  const size = options.batchSize ?? RETENTION_LIMITS.batchSize
  const result: PurgeResult = { companies: [], operational: { healthBuckets: 0, healthEvents: 0, replayJobs: 0, retentionRuns: 0 } }
  const companies = await db.company.findMany({
    select: { id: true, postbackRetentionDays: true, pixelRetentionDays: true, callRetentionDays: true },
    orderBy: { id: 'asc' },
  })
  for (const company of companies) {
    const retention = companyRetention(company, options.defaultDays)
    const run = await db.retentionRun.create({ data: { companyId: company.id, startedAt: new Date() } })
    const counts: RetentionCounts = { postbacks: 0, pixels: 0, calls: 0 }
    let error: string | null = null
    try {
      if (retention.pixels.days > 0) {
        counts.pixels += await purgePixels(db, company.id, ago(now, retention.pixels.days), size, batches)
        const before = ago(now, retention.pixels.days)
        result.operational.healthEvents += await batches(async () => {
          const ids = await ids$(
            db.webhookHealthEvent.findMany({ where: { companyId: company.id, createdAt: { lt: before } }, select: { id: true }, take: size }),
          )
          return { selected: ids.length, deleted: ids.length ? (await db.webhookHealthEvent.deleteMany({ where: { id: { in: ids } } })).count : 0 }
        })
        result.operational.replayJobs += await batches(async () => {
          const ids = await ids$(
            db.replayJob.findMany({
              where: { companyId: company.id, status: { in: FINISHED_REPLAY }, createdAt: { lt: before } },
              select: { id: true },
              take: size,
            }),
          )
          return { selected: ids.length, deleted: ids.length ? (await db.replayJob.deleteMany({ where: { id: { in: ids } } })).count : 0 }
        })
      }
      if (retention.calls.days > 0) {
        const purged = await purgeCalls(db, company.id, ago(now, retention.calls.days), size, batches)
        counts.calls += purged.calls
        counts.pixels += purged.pixels
      }
      if (retention.postbacks.days > 0) counts.postbacks += await purgePostbacks(db, company.id, ago(now, retention.postbacks.days), size, batches)
    } catch (e) {
      error = (e as Error).message.slice(0, 500)
    }
    await db.retentionRun.update({ where: { id: run.id }, data: { ...counts, error, finishedAt: new Date() } })
    result.companies.push({ companyId: company.id, counts, error })
  }
  result.operational.healthBuckets += await purgeHealthBuckets(
    db,
    'MINUTE',
    new Date(now.getTime() - RETENTION_LIMITS.minuteBucketsHours * 3_600_000),
    size,
    batches,
  )
  result.operational.healthBuckets += await purgeHealthBuckets(db, 'HOUR', ago(now, RETENTION_LIMITS.hourBucketsDays), size, batches)
  const runsBefore = ago(now, RETENTION_LIMITS.retentionRunsDays)
  result.operational.retentionRuns += await batches(async () => {
    const ids = await ids$(db.retentionRun.findMany({ where: { startedAt: { lt: runsBefore } }, select: { id: true }, take: size }))
    return { selected: ids.length, deleted: ids.length ? (await db.retentionRun.deleteMany({ where: { id: { in: ids } } })).count : 0 }
  })
  return result
}

const ids$ = async (rows: Promise<{ id: string }[]>) => (await rows).map((r) => r.id)

/** Postbacks created before `before`, with their pending tags. */
function purgePostbacks(db: Db, companyId: string, before: Date, size: number, batches: Batcher): Promise<number> {
  return batches(async () => {
    const ids = await ids$(db.postback.findMany({ where: { companyId, createdAt: { lt: before } }, select: { id: true }, take: size }))
    if (!ids.length) return { selected: 0, deleted: 0 }
    const [, postbacks] = await db.$transaction([
      db.pendingTag.deleteMany({ where: { postbackId: { in: ids } } }),
      db.postback.deleteMany({ where: { id: { in: ids } } }),
    ])
    return { selected: ids.length, deleted: postbacks.count }
  })
}

/** Finished pixels created before `before`, with their attempts (pixels still to deliver stay). */
function purgePixels(db: Db, companyId: string, before: Date, size: number, batches: Batcher): Promise<number> {
  return batches(async () => {
    const ids = await ids$(
      db.pixel.findMany({ where: { companyId, createdAt: { lt: before }, status: { in: FINISHED_PIXEL } }, select: { id: true }, take: size }),
    )
    if (!ids.length) return { selected: 0, deleted: 0 }
    const [, pixels] = await db.$transaction([
      db.pixelAttempt.deleteMany({ where: { pixelId: { in: ids } } }),
      db.pixel.deleteMany({ where: { id: { in: ids } } }),
    ])
    return { selected: ids.length, deleted: pixels.count }
  })
}

/**
 * Calls started and last changed before `before`, with their tags, pixels and attempts; postbacks that
 * reached them are kept (their callId set null).
 */
async function purgeCalls(db: Db, companyId: string, before: Date, size: number, batches: Batcher): Promise<{ calls: number; pixels: number }> {
  let pixels = 0
  const calls = await batches(async () => {
    const ids = await ids$(db.call.findMany({ where: { companyId, startedAt: { lt: before }, updatedAt: { lt: before } }, select: { id: true }, take: size }))
    if (!ids.length) return { selected: 0, deleted: 0 }
    const [, deletedPixels, , , deletedCalls] = await db.$transaction([
      db.pixelAttempt.deleteMany({ where: { pixel: { callId: { in: ids } } } }),
      db.pixel.deleteMany({ where: { callId: { in: ids } } }),
      db.tag.deleteMany({ where: { callId: { in: ids } } }),
      db.postback.updateMany({ where: { callId: { in: ids } }, data: { callId: null } }),
      db.call.deleteMany({ where: { id: { in: ids } } }),
    ])
    pixels += deletedPixels.count
    return { selected: ids.length, deleted: deletedCalls.count }
  })
  return { calls, pixels }
}

/**
 * Health buckets of a period older than `before`, oldest first, at most `size` a statement. The table's key
 * is four columns: one statement deletes the keys its subquery selects (by row value; an OR of that many
 * keys is deeper than SQLite parses), the same SQL on both databases.
 */
function purgeHealthBuckets(db: Db, period: 'MINUTE' | 'HOUR', before: Date, size: number, batches: Batcher): Promise<number> {
  return batches(async () => {
    const deleted = await db.$executeRaw`
      DELETE FROM "HealthBucket" WHERE ("webhookId", "origin", "period", "bucketStart") IN (
        SELECT "webhookId", "origin", "period", "bucketStart" FROM "HealthBucket"
        WHERE "period" = ${period} AND "bucketStart" < ${before}
        ORDER BY "bucketStart" LIMIT ${size})`
    return { selected: deleted, deleted }
  })
}
