// Endpoint health as a person reads it: a webhook's, or an endpoint origin's across the company's webhooks,
// over the last hour, day or week, with a series for plotting. Read from the health buckets (health.ts),
// a few hundred rows at most, whatever the number of pixels.
import type { Db } from '../core/db.js'
import type { Prisma } from '../generated/prisma/client.js'
import { COUNT_COLUMNS, healthFigures, WINDOWS, windowStart, type HealthFigures, type HealthRow, type HealthWindow } from './health.js'

export interface HealthPoint extends HealthFigures {
  at: Date
}

export interface HealthReport extends HealthFigures {
  window: HealthWindow
  from: Date
  to: Date
  /** one point a bucket with attempts (minutes for HOUR, hours for DAY and WEEK), oldest first */
  series: HealthPoint[]
}

const SUMS = Object.fromEntries([...COUNT_COLUMNS, 'latencySumMs'].map((c) => [c, true])) as Prisma.HealthBucketSumAggregateInputType

/** The window's buckets added up by the database, one row a minute or hour (whatever the webhooks and origins), then as figures. */
async function report(db: Db, where: Prisma.HealthBucketWhereInput, window: HealthWindow, now: Date): Promise<HealthReport> {
  const from = windowStart(window, now)
  const groups = await db.healthBucket.groupBy({
    by: ['bucketStart'],
    where: { ...where, period: WINDOWS[window].period, bucketStart: { gte: from } },
    _sum: SUMS,
    _max: { lastSuccessAt: true, lastFailureAt: true },
    orderBy: { bucketStart: 'asc' },
  })
  const rows = groups.map(
    (g) =>
      ({
        ...Object.fromEntries(Object.entries(g._sum).map(([k, v]) => [k, Number(v ?? 0)])),
        bucketStart: g.bucketStart,
        lastSuccessAt: g._max.lastSuccessAt,
        lastFailureAt: g._max.lastFailureAt,
      }) as HealthRow,
  )
  return { window, from, to: now, ...healthFigures(rows), series: rows.map((r) => ({ at: r.bucketStart, ...healthFigures([r]) })) }
}

export const webhookHealth = (db: Db, webhookId: string, window: HealthWindow, now = new Date()) => report(db, { webhookId }, window, now)

/** An endpoint origin's health across the company's webhooks. */
export const originHealth = (db: Db, companyId: string, origin: string, window: HealthWindow, now = new Date()) =>
  report(db, { companyId, origin }, window, now)

/** The endpoint origins the company's webhooks reached in the window, busiest first. */
export async function endpointOrigins(db: Db, companyId: string, window: HealthWindow, now = new Date()): Promise<{ origin: string; attempts: number }[]> {
  const groups = await db.healthBucket.groupBy({
    by: ['origin'],
    where: { companyId, period: WINDOWS[window].period, bucketStart: { gte: windowStart(window, now) } },
    _sum: { attempts: true },
  })
  return groups.map((g) => ({ origin: g.origin, attempts: g._sum.attempts ?? 0 })).sort((a, b) => b.attempts - a.attempts || (a.origin < b.origin ? -1 : 1))
}
