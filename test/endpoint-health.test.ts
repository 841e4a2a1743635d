// Endpoint health through the API, from real deliveries to a real receiver: a webhook's attempts,
// failures by kind, success rate, latency percentiles and a series; the same for an endpoint origin across
// the company's webhooks; and another company sees none of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, until, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook, startCall } from './fixtures.js'
import { createCompany } from '../src/tenancy/createCompany.js'
import { latencyBucket, percentile } from '../src/delivery/health.js'

const HEALTH = `attempts successes successRate lastSuccessAt lastFailureAt
  failures { timeout network http4xx http429 http5xx httpOther refused total }
  latencyMs { p50 p95 p99 mean } series { at attempts successes }`

describe(`endpoint health on ${testProvider}`, () => {
  let t: TestApp
  let sink: Receiver
  let other: Receiver
  beforeAll(async () => {
    t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '50' } })
    sink = await startReceiver()
    other = await startReceiver()
  })
  afterAll(async () => {
    await t?.close()
    await sink?.close()
    await other?.close()
  })

  it('counts every attempt by kind, with latency, per webhook and per endpoint origin across webhooks', async () => {
    sink.on('/ok', { status: 200, delayMs: 30 })
    sink.on('/mixed', { status: 500 }, { status: 404 }, { status: 200 }, { status: 200, delayMs: 400 })
    other.on('/ok', { status: 200 })
    const campaignId = await createCampaign(t, 'health')
    const ok1 = await createWebhook(t, { campaignId, url: `${sink.url}/ok`, maxAttempts: 1 })
    const mixed = await createWebhook(t, { campaignId, url: `${sink.url}/mixed`, maxAttempts: 1 })
    await createWebhook(t, { campaignId, url: `${other.url}/ok`, maxAttempts: 1 })
    const timeout = await createWebhook(t, { campaignId, url: `${sink.url}/slow`, maxAttempts: 1, timeoutMs: 100 })
    sink.on('/slow', { delayMs: 1000 })
    for (let i = 0; i < 4; i++) await startCall(t, { campaignId, uuid: `h-${i}` })
    await until(async () => (await t.app.db.pixel.count({ where: { campaignId, status: { in: ['SUCCEEDED', 'FAILED'] } } })) === 16, 15_000)

    const d = ok(
      await t.gql<{ ok: { health: any }; mixed: { health: any }; slow: { health: any } }>(
        `query($a:ID!,$b:ID!,$c:ID!){ ok: webhook(id:$a) { health(window: HOUR) { ${HEALTH} } } mixed: webhook(id:$b) { health { ${HEALTH} } }
          slow: webhook(id:$c) { health(window: DAY) { ${HEALTH} } } }`,
        { a: ok1, b: mixed, c: timeout },
      ),
    )
    expect(d.ok.health).toMatchObject({ attempts: 4, successes: 4, successRate: 1, lastFailureAt: null, failures: { total: 0 } })
    // the percentiles are those of the attempts' own durations, read from the buckets they were counted in
    const durations = async (webhookId: string) =>
      (await t.app.db.pixelAttempt.findMany({ where: { pixel: { webhookId }, statusCode: { not: null } } })).map((a) => a.durationMs)
    const expected = (ms: number[], q: number) => {
      const histogram = Array(16).fill(0)
      for (const d of ms) histogram[latencyBucket(d)]++
      return percentile(histogram, q)
    }
    const okDurations = await durations(ok1)
    expect(okDurations).toHaveLength(4)
    expect(d.ok.health.latencyMs).toMatchObject({ p50: expected(okDurations, 0.5), p99: expected(okDurations, 0.99) })
    expect(d.ok.health.latencyMs.mean).toBe(Math.round(okDurations.reduce((a, b) => a + b, 0) / 4))
    expect(d.ok.health.series.reduce((n: number, p: { attempts: number }) => n + p.attempts, 0)).toBe(4)
    expect(d.mixed.health).toMatchObject({ attempts: 4, successes: 2, successRate: 0.5 })
    expect(d.mixed.health.failures).toEqual({ timeout: 0, network: 0, http4xx: 1, http429: 0, http5xx: 1, httpOther: 0, refused: 0, total: 2 })
    // one answer of four took 400 ms or more: the p99 is at least that
    const mixedDurations = await durations(mixed)
    expect(d.mixed.health.latencyMs).toMatchObject({ p50: expected(mixedDurations, 0.5), p99: expected(mixedDurations, 0.99) })
    expect(d.mixed.health.latencyMs.p99).toBeGreaterThanOrEqual(400)
    expect(d.slow.health).toMatchObject({ attempts: 4, successes: 0, failures: { timeout: 4, total: 4 }, latencyMs: { p50: null } })

    const e = ok(
      await t.gql<{ endpoints: { origin: string; attempts: number }[]; endpointHealth: any }>(
        `query($o:String!){ endpoints(window: HOUR) { origin attempts } endpointHealth(origin:$o) { origin ${HEALTH} } }`,
        { o: new URL(sink.url).origin },
      ),
    )
    // the sink's origin across its three webhooks, busiest first
    expect(e.endpoints).toEqual([
      { origin: new URL(sink.url).origin, attempts: 12 },
      { origin: new URL(other.url).origin, attempts: 4 },
    ])
    expect(e.endpointHealth).toMatchObject({ origin: new URL(sink.url).origin, attempts: 12, successes: 6, failures: { timeout: 4, http5xx: 1, http4xx: 1 } })

    // another company sees no origin of this one
    const stranger = await createCompany(t.app.db, 'Stranger')
    const s = ok(
      await t.gql<{ endpoints: unknown[]; endpointHealth: { attempts: number } }>(
        `query($o:String!){ endpoints { origin } endpointHealth(origin:$o) { attempts } }`,
        { o: new URL(sink.url).origin },
        stranger.adminKey,
      ),
    )
    expect(s).toEqual({ endpoints: [], endpointHealth: { attempts: 0 } })
    const w = await t.gql(`query($id:ID!){ webhook(id:$id) { health { attempts } } }`, { id: ok1 }, stranger.adminKey)
    expect(w.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
  })
})
