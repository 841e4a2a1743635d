// Endpoint health, kept incrementally: each delivery attempt is counted in a bucket of its webhook and
// endpoint origin for its minute and its hour (HealthBucket rows), written by the pixel stores with the
// attempt's outcome. Health answers and the circuit breaker read those buckets, never the pixels. This
// module is the one definition of what an attempt counts as and of how buckets add up; pure.
import type { AttemptResult } from './http/outboundHttp.js'

/** What an attempt counts as. `failure` kinds are those the circuit breaker counts (the endpoint is unwell). */
export type AttemptKind = 'success' | 'timeout' | 'network' | 'http4xx' | 'http429' | 'http5xx' | 'httpOther' | 'refused'

export function attemptKind(result: Pick<AttemptResult, 'statusCode' | 'error'>): AttemptKind {
  const { statusCode, error } = result
  if (statusCode !== null) {
    if (statusCode >= 200 && statusCode < 300) return 'success'
    if (statusCode === 429) return 'http429'
    if (statusCode >= 500) return 'http5xx'
    if (statusCode >= 400) return 'http4xx'
    return 'httpOther'
  }
  if (error?.startsWith('refused')) return 'refused'
  if (error?.startsWith('timed out')) return 'timeout'
  return 'network'
}

/**
 * The attempts the circuit breaker counts as failures: the endpoint did not answer in time, could not be
 * reached, failed (5xx) or asked us to slow down (429). Other 4xx answers are the receiver refusing one
 * request (its data), and a refused target is our own rule: neither says the endpoint is down.
 */
export const BREAKER_FAILURES: ReadonlySet<AttemptKind> = new Set(['timeout', 'network', 'http5xx', 'http429'])

/** Upper bounds (ms) of the latency histogram's buckets, the last one open; the columns le5 … leInf. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 75, 100, 150, 250, 400, 600, 1000, 1500, 2500, 5000, 10000, Number.POSITIVE_INFINITY] as const
export const LATENCY_COLUMNS = [
  'le5',
  'le10',
  'le25',
  'le50',
  'le75',
  'le100',
  'le150',
  'le250',
  'le400',
  'le600',
  'le1000',
  'le1500',
  'le2500',
  'le5000',
  'le10000',
  'leInf',
] as const

/** The histogram bucket an answered attempt's duration falls in. */
export function latencyBucket(durationMs: number): number {
  return LATENCY_BOUNDS_MS.findIndex((bound) => durationMs <= bound)
}

export type HealthPeriod = 'MINUTE' | 'HOUR'
const PERIOD_MS: Record<HealthPeriod, number> = { MINUTE: 60_000, HOUR: 3_600_000 }

export const bucketStart = (at: Date | number, period: HealthPeriod) => {
  const ms = typeof at === 'number' ? at : at.getTime()
  return new Date(ms - (ms % PERIOD_MS[period]))
}

/** One attempt, as endpoint health counts it. */
export interface HealthSample {
  companyId: string
  webhookId: string
  /** scheme://host:port of the request */
  origin: string
  /** when it was made (epoch ms) */
  at: number
  kind: AttemptKind
  durationMs: number
}

/** The count columns of a bucket, in the order the stores write them. */
export const COUNT_COLUMNS = [
  'attempts',
  'successes',
  'timeouts',
  'networkErrors',
  'http4xx',
  'http429',
  'http5xx',
  'httpOther',
  'refused',
  'answered',
  ...LATENCY_COLUMNS,
] as const

const KIND_COLUMN: Record<AttemptKind, (typeof COUNT_COLUMNS)[number]> = {
  success: 'successes',
  timeout: 'timeouts',
  network: 'networkErrors',
  http4xx: 'http4xx',
  http429: 'http429',
  http5xx: 'http5xx',
  httpOther: 'httpOther',
  refused: 'refused',
}

/** What a batch of attempts adds to one bucket (times in epoch ms). */
export interface HealthDelta {
  companyId: string
  webhookId: string
  origin: string
  period: HealthPeriod
  bucketStart: number
  /** COUNT_COLUMNS, in order */
  counts: number[]
  latencySumMs: number
  lastSuccessAt: number | null
  lastFailureAt: number | null
}

const COLUMN_INDEX = Object.fromEntries(COUNT_COLUMNS.map((c, i) => [c, i])) as Record<(typeof COUNT_COLUMNS)[number], number>

/**
 * The samples of a batch added up per bucket (minute and hour), one delta per bucket, sorted by key so
 * that concurrent writers lock bucket rows in the same order.
 */
export function healthDeltas(samples: readonly HealthSample[]): HealthDelta[] {
  const byKey = new Map<string, HealthDelta>()
  for (const s of samples) {
    const minute = s.at - (s.at % PERIOD_MS.MINUTE)
    const kind = COLUMN_INDEX[KIND_COLUMN[s.kind]]
    // latency is the answered attempts': a timeout or a refused connection has no answer time
    const answered = s.kind !== 'timeout' && s.kind !== 'network' && s.kind !== 'refused'
    const latency = answered ? COLUMN_INDEX[LATENCY_COLUMNS[latencyBucket(s.durationMs)]!] : -1
    for (const period of ['MINUTE', 'HOUR'] as const) {
      const start = period === 'MINUTE' ? minute : s.at - (s.at % PERIOD_MS.HOUR)
      const key = `${s.webhookId} ${s.origin} ${period} ${start}`
      let d = byKey.get(key)
      if (!d) {
        d = {
          companyId: s.companyId,
          webhookId: s.webhookId,
          origin: s.origin,
          period,
          bucketStart: start,
          counts: new Array<number>(COUNT_COLUMNS.length).fill(0),
          latencySumMs: 0,
          lastSuccessAt: null,
          lastFailureAt: null,
        }
        byKey.set(key, d)
      }
      const c = d.counts
      c[0]!++
      c[kind]!++
      if (s.kind === 'success') {
        if (d.lastSuccessAt === null || s.at > d.lastSuccessAt) d.lastSuccessAt = s.at
      } else if (d.lastFailureAt === null || s.at > d.lastFailureAt) {
        d.lastFailureAt = s.at
      }
      if (latency >= 0) {
        c[COLUMN_INDEX.answered]!++
        c[latency]!++
        d.latencySumMs += s.durationMs
      }
    }
  }
  return [...byKey.values()].sort(byBucketKey)
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** The order every writer locks bucket rows in. */
function byBucketKey(a: HealthDelta, b: HealthDelta): number {
  return compareText(a.webhookId, b.webhookId) || compareText(a.origin, b.origin) || compareText(a.period, b.period) || a.bucketStart - b.bucketStart
}

/** A bucket as read back (one row of HealthBucket). */
export type HealthRow = { bucketStart: Date; latencySumMs: number; lastSuccessAt: Date | null; lastFailureAt: Date | null } & Record<
  (typeof COUNT_COLUMNS)[number],
  number
>

export type HealthWindow = 'HOUR' | 'DAY' | 'WEEK'

/** How a window is read: minute buckets for the last hour, hour buckets for a day or a week. */
export const WINDOWS: Record<HealthWindow, { period: HealthPeriod; buckets: number }> = {
  HOUR: { period: 'MINUTE', buckets: 60 },
  DAY: { period: 'HOUR', buckets: 24 },
  WEEK: { period: 'HOUR', buckets: 7 * 24 },
}

/** The first bucket of a window ending now (the current, partial bucket is the window's last). */
export function windowStart(window: HealthWindow, now: Date): Date {
  const { period, buckets } = WINDOWS[window]
  return new Date(bucketStart(now, period).getTime() - (buckets - 1) * PERIOD_MS[period])
}

export interface HealthFigures {
  attempts: number
  successes: number
  failures: { timeout: number; network: number; http4xx: number; http429: number; http5xx: number; httpOther: number; refused: number; total: number }
  /** successes / attempts; null without attempts */
  successRate: number | null
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; mean: number | null }
  lastSuccessAt: Date | null
  lastFailureAt: Date | null
}

/** The rows added up (a window, or one point of a series). */
export function healthFigures(rows: readonly HealthRow[]): HealthFigures {
  const sum = (c: (typeof COUNT_COLUMNS)[number]) => rows.reduce((n, r) => n + r[c], 0)
  const latest = (pick: (r: HealthRow) => Date | null) =>
    rows.reduce<Date | null>((best, r) => {
      const d = pick(r)
      return d && (!best || d > best) ? d : best
    }, null)
  const attempts = sum('attempts')
  const successes = sum('successes')
  const answered = sum('answered')
  const histogram = LATENCY_COLUMNS.map((c) => sum(c))
  const failures = {
    timeout: sum('timeouts'),
    network: sum('networkErrors'),
    http4xx: sum('http4xx'),
    http429: sum('http429'),
    http5xx: sum('http5xx'),
    httpOther: sum('httpOther'),
    refused: sum('refused'),
    total: attempts - successes,
  }
  return {
    attempts,
    successes,
    failures,
    successRate: attempts ? successes / attempts : null,
    latencyMs: {
      p50: percentile(histogram, 0.5),
      p95: percentile(histogram, 0.95),
      p99: percentile(histogram, 0.99),
      mean: answered ? Math.round(rows.reduce((n, r) => n + r.latencySumMs, 0) / answered) : null,
    },
    lastSuccessAt: latest((r) => r.lastSuccessAt),
    lastFailureAt: latest((r) => r.lastFailureAt),
  }
}

/** The longest a webhook waits for an answer: the open bucket is read as ending there. */
const LATENCY_CEILING_MS = 30_000

/**
 * The q-quantile of a histogram, interpolated linearly within the bucket it falls in (as Prometheus's
 * histogram_quantile does); null when empty. Accurate to the bucket's width.
 */
export function percentile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const rank = q * total
  let below = 0
  for (let i = 0; i < histogram.length; i++) {
    const n = histogram[i]!
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!
      const upper = Math.min(LATENCY_BOUNDS_MS[i]!, LATENCY_CEILING_MS)
      return Math.round(lower + (upper - lower) * ((rank - below) / n))
    }
    below += n
  }
  return null
}
