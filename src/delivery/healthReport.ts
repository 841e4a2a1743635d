// Endpoint health as a person reads it: a webhook's, or an endpoint origin's across the company's webhooks,
// over the last hour, day or week, with a series for plotting. Read from the health buckets (health.ts),
// a few hundred rows at most, whatever the number of pixels.
import type { Db } from '../core/db.js'
import { healthFigures, WINDOWS, windowStart, type HealthFigures, type HealthRow, type HealthWindow } from './health.js'

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

/** The rows added up over the window and per bucket. */
function report(rows: HealthRow[], window: HealthWindow, now: Date): HealthReport {
  const byStart = new Map<number, HealthRow[]>()
  for (const r of rows) {
    const key = r.bucketStart.getTime()
    byStart.set(key, [...(byStart.get(key) ?? []), r])
  }
  const series = [...byStart.entries()].sort(([a], [b]) => a - b).map(([at, group]) => ({ at: new Date(at), ...healthFigures(group) }))
  return { window, from: windowStart(window, now), to: now, ...healthFigures(rows), series }
}

export async function webhookHealth(db: Db, webhookId: string, window: HealthWindow, now = new Date()): Promise<HealthReport> {
  const rows = await db.healthBucket.findMany({ where: { webhookId, period: WINDOWS[window].period, bucketStart: { gte: windowStart(window, now) } } })
  return report(rows, window, now)
}

/** An endpoint origin's health across the company's webhooks. */
export async function originHealth(db: Db, companyId: string, origin: string, window: HealthWindow, now = new Date()): Promise<HealthReport> {
  const rows = await db.healthBucket.findMany({
    where: { companyId, origin, period: WINDOWS[window].period, bucketStart: { gte: windowStart(window, now) } },
  })
  return report(rows, window, now)
}

/** The endpoint origins the company's webhooks reached in the window, busiest first. */
export async function endpointOrigins(db: Db, companyId: string, window: HealthWindow, now = new Date()): Promise<{ origin: string; attempts: number }[]> {
  const groups = await db.healthBucket.groupBy({
    by: ['origin'],
    where: { companyId, period: WINDOWS[window].period, bucketStart: { gte: windowStart(window, now) } },
    _sum: { attempts: true },
  })
  return groups.map((g) => ({ origin: g.origin, attempts: g._sum.attempts ?? 0 })).sort((a, b) => b.attempts - a.attempts || (a.origin < b.origin ? -1 : 1))
}
