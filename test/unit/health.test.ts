// Endpoint health counted per bucket (src/delivery/health.ts) and the circuit breaker's rules
// (src/delivery/circuitRules.ts): pure functions, checked on their own.
import { describe, expect, it } from 'vitest'
import {
  attemptKind,
  healthDeltas,
  healthFigures,
  percentile,
  windowStart,
  COUNT_COLUMNS,
  type HealthRow,
  type HealthSample,
} from '../../src/delivery/health.js'
import { BREAKER_DEFAULTS, breakerSettings, checkBreakerSettings, cooldownMs, disableReason, shouldTrip } from '../../src/delivery/circuitRules.js'

const at = new Date('2026-12-01T12:34:56.789Z')
const sample = (kind: HealthSample['kind'], durationMs: number, when = at, origin = 'http://127.0.0.1:9'): HealthSample => ({
  companyId: 'c',
  webhookId: 'w',
  origin,
  at: when.getTime(),
  kind,
  durationMs,
})
const col = (d: { counts: number[] }, name: (typeof COUNT_COLUMNS)[number]) => d.counts[COUNT_COLUMNS.indexOf(name)]

describe('attemptKind', () => {
  it('tells answers by class, and failures without an answer by their error', () => {
    const k = (statusCode: number | null, error: string | null = null) => attemptKind({ statusCode, error })
    expect([k(200), k(204), k(429), k(503), k(500), k(404), k(410), k(302), k(101)]).toEqual([
      'success',
      'success',
      'http429',
      'http5xx',
      'http5xx',
      'http4xx',
      'http4xx',
      'httpOther',
      'httpOther',
    ])
    expect([k(null, 'timed out after 100 ms'), k(null, 'refused: loopback'), k(null, 'ECONNREFUSED: connect ECONNREFUSED')]).toEqual([
      'timeout',
      'refused',
      'network',
    ])
  })
})

describe('healthDeltas', () => {
  it('adds a batch up per webhook, origin, minute and hour, one delta a bucket, with a latency histogram of answered attempts', () => {
    const nextMinute = new Date('2026-12-01T12:35:01.000Z')
    const deltas = healthDeltas([
      sample('success', 3),
      sample('success', 40),
      sample('http5xx', 120),
      sample('timeout', 5000),
      sample('success', 7, nextMinute),
      sample('success', 7, at, 'https://example.test'),
    ])
    const minute = deltas.filter((d) => d.period === 'MINUTE' && d.origin === 'http://127.0.0.1:9')
    expect(minute.map((d) => new Date(d.bucketStart).toISOString())).toEqual(['2026-12-01T12:34:00.000Z', '2026-12-01T12:35:00.000Z'])
    const first = minute[0]!
    expect([col(first, 'attempts'), col(first, 'successes'), col(first, 'http5xx'), col(first, 'timeouts'), col(first, 'answered')]).toEqual([4, 2, 1, 1, 3])
    // 3 ms -> le5, 40 ms -> le50, 120 ms -> le150; the timeout has no answer time
    expect([col(first, 'le5'), col(first, 'le50'), col(first, 'le150'), col(first, 'leInf')]).toEqual([1, 1, 1, 0])
    expect(first.latencySumMs).toBe(163)
    expect(first.lastSuccessAt).toBe(at.getTime())
    expect(first.lastFailureAt).toBe(at.getTime())
    const hour = deltas.find((d) => d.period === 'HOUR' && d.origin === 'http://127.0.0.1:9')!
    expect(new Date(hour.bucketStart).toISOString()).toBe('2026-12-01T12:00:00.000Z')
    expect(col(hour, 'attempts')).toBe(5)
    expect(hour.lastSuccessAt).toBe(nextMinute.getTime())
    // keys sorted: every writer locks bucket rows in the same order
    const keys = deltas.map((d) => [d.webhookId, d.origin, d.period, d.bucketStart] as const)
    const sorted = [...keys].sort((a, b) => (a[0] + a[1] + a[2] < b[0] + b[1] + b[2] ? -1 : a[0] + a[1] + a[2] > b[0] + b[1] + b[2] ? 1 : a[3] - b[3]))
    expect(sorted).toEqual(keys)
  })
})

describe('percentiles and figures', () => {
  it('interpolates within the bucket a quantile falls in, as histogram_quantile does; null when empty', () => {
    // 100 answers in le50 (25..50 ms]: the median is half way
    const h = Array(16).fill(0)
    h[3] = 100
    expect(percentile(h, 0.5)).toBe(38)
    expect(percentile(h, 0.99)).toBe(50)
    expect(percentile(Array(16).fill(0), 0.5)).toBeNull()
    // 99 fast, 1 very slow: p99 stays fast, the open bucket reads as ending at 30 s
    const tail = Array(16).fill(0)
    tail[0] = 99
    tail[15] = 1
    expect(percentile(tail, 0.99)).toBe(5)
    expect(percentile(tail, 1)).toBe(30_000)
  })

  it('adds rows up: rate, failures by kind, the latest success and failure', () => {
    const row = (over: Partial<HealthRow>): HealthRow =>
      ({
        bucketStart: at,
        latencySumMs: 0,
        lastSuccessAt: null,
        lastFailureAt: null,
        ...Object.fromEntries(COUNT_COLUMNS.map((c) => [c, 0])),
        ...over,
      }) as HealthRow
    const f = healthFigures([
      row({ attempts: 10, successes: 7, http5xx: 2, timeouts: 1, answered: 9, le100: 9, latencySumMs: 810, lastSuccessAt: at }),
      row({ attempts: 2, successes: 1, refused: 1, answered: 1, le100: 1, latencySumMs: 90, lastFailureAt: new Date(at.getTime() + 1) }),
    ])
    expect(f).toMatchObject({ attempts: 12, successes: 8, successRate: 8 / 12, lastSuccessAt: at })
    expect(f.failures).toEqual({ timeout: 1, network: 0, http4xx: 0, http429: 0, http5xx: 2, httpOther: 0, refused: 1, total: 4 })
    expect(f.latencyMs.mean).toBe(90)
    expect(healthFigures([]).successRate).toBeNull()
  })

  it('reads an hour minute by minute and a day or week hour by hour, the current bucket included', () => {
    expect(windowStart('HOUR', at).toISOString()).toBe('2026-12-01T11:35:00.000Z')
    expect(windowStart('DAY', at).toISOString()).toBe('2026-11-30T13:00:00.000Z')
    expect(windowStart('WEEK', at).toISOString()).toBe('2026-11-24T13:00:00.000Z')
  })
})

describe('circuit breaker rules', () => {
  it('trips at the failure rate over at least the minimum of attempts (Convoy: 70 % of 10)', () => {
    const s = BREAKER_DEFAULTS
    expect(shouldTrip({ attempts: 10, failures: 7 }, s)).toBe(true)
    expect(shouldTrip({ attempts: 10, failures: 6 }, s)).toBe(false)
    expect(shouldTrip({ attempts: 9, failures: 9 }, s)).toBe(false)
    expect(shouldTrip({ attempts: 100, failures: 100 }, { ...s, enabled: false })).toBe(false)
  })

  it('waits longer after each failed probe, up to the longest cool-down', () => {
    const s = BREAKER_DEFAULTS
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => cooldownMs(n, s))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000])
  })

  it('disables after failing continuously for five days (Svix), or after N trips when asked (Convoy: 10)', () => {
    const now = new Date('2026-12-06T12:00:00Z')
    expect(disableReason(BREAKER_DEFAULTS, 50, new Date('2026-12-02T12:00:00Z'), now)).toBeNull()
    expect(disableReason(BREAKER_DEFAULTS, 1, new Date('2026-12-01T12:00:00Z'), now)).toContain('failing continuously since 2026-12-01T12:00:00.000Z')
    expect(disableReason({ ...BREAKER_DEFAULTS, disableAfterTrips: 10 }, 10, null, now)).toContain('tripped 10 times')
    expect(disableReason({ ...BREAKER_DEFAULTS, disableAfterFailingSeconds: null }, 1, new Date(0), now)).toBeNull()
  })

  it('checks settings naming the field; fields left out keep the defaults', () => {
    expect(checkBreakerSettings({ failureRatePercent: 50, disableAfterTrips: 10 })).toEqual({ failureRatePercent: 50, disableAfterTrips: 10 })
    expect(breakerSettings({ circuitBreaker: { minAttempts: 3 } as never })).toEqual({ ...BREAKER_DEFAULTS, minAttempts: 3 })
    expect(checkBreakerSettings({})).toBeNull()
    expect(() => checkBreakerSettings({ failureRatePercent: 0 })).toThrow(/circuitBreaker.failureRatePercent: must be an integer from 1 to 100/)
    expect(() => checkBreakerSettings({ windowSeconds: 90 })).toThrow(/circuitBreaker.windowSeconds: must be whole minutes/)
    expect(() => checkBreakerSettings({ cooldownSeconds: 600, maxCooldownSeconds: 60 })).toThrow(/maxCooldownSeconds/)
  })
})
