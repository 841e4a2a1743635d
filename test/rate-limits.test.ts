// Rate limits per webhook against a real receiver: maxPerSecond and maxInFlight hold, across two worker
// processes sharing a database and Redis; pixels over a limit wait (no attempt spent) and all arrive; a 429
// with Retry-After holds the webhook's other requests too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, until, type TestApp } from './helpers/app.js'
import { redisUrl, testProvider } from './helpers/db.js'
import { startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook, startCall } from './fixtures.js'

describe(`rate limits per webhook on ${testProvider}`, () => {
  let t: TestApp
  let second: TestApp
  let sink: Receiver
  beforeAll(async () => {
    const env = { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '50', REDIS_URL: redisUrl }
    t = await startTestApp({ env })
    // a second instance on the same database and Redis: both deliver
    second = await startTestApp({ env, database: { url: t.databaseUrl } })
    sink = await startReceiver()
  })
  afterAll(async () => {
    await second?.close()
    await t?.close()
    await sink?.close()
  })

  const settled = (campaignId: string, n: number) =>
    until(async () => (await t.app.db.pixel.count({ where: { campaignId, status: { in: ['SUCCEEDED', 'FAILED'] } } })) === n, 20_000)
  const fire = async (campaignId: string, n: number, prefix: string, via: TestApp[] = [t, second]) => {
    await Promise.all(Array.from({ length: n }, (_, i) => startCall(via[i % via.length]!, { campaignId, uuid: `${prefix}-${i}` }, t.company.adminKey)))
  }

  it('maxInFlight holds across workers: never more requests open at once, and every pixel arrives without a spent attempt', async () => {
    sink.on('/one-at-a-time', { delayMs: 150 })
    const campaignId = await createCampaign(t, 'in-flight')
    await createWebhook(t, { campaignId, url: `${sink.url}/one-at-a-time`, maxInFlight: 1 })
    await fire(campaignId, 6, 'inflight')
    await settled(campaignId, 6)
    expect(sink.received('/one-at-a-time')).toHaveLength(6)
    expect(sink.mostOpen('/one-at-a-time')).toBe(1)
    const pixels = await t.app.db.pixel.findMany({ where: { campaignId } })
    expect(pixels.every((p) => p.status === 'SUCCEEDED' && p.attemptCount === 1)).toBe(true)
  })

  it('maxPerSecond holds across workers: 6 pixels at 2 a second take more than two seconds, all arrive once', async () => {
    const campaignId = await createCampaign(t, 'per-second')
    await createWebhook(t, { campaignId, url: `${sink.url}/paced`, maxPerSecond: 2 })
    await fire(campaignId, 6, 'paced')
    await settled(campaignId, 6)
    const at = sink.received('/paced').map((r) => r.at)
    expect(at).toHaveLength(6)
    // three windows of a second at least: the last request is not in the first request's second or the next
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual(1000)
    for (const first of at) expect(at.filter((x) => x >= first && x < first + 1000).length).toBeLessThanOrEqual(4)
    const pixels = await t.app.db.pixel.findMany({ where: { campaignId } })
    expect(pixels.every((p) => p.status === 'SUCCEEDED' && p.attemptCount === 1)).toBe(true)
  })

  it("a 429 with Retry-After holds the webhook's other pixels until then; none fails", async () => {
    sink.on('/busy', { status: 429, headers: { 'retry-after': '1' } }, { status: 200 })
    const campaignId = await createCampaign(t, 'slow-down')
    await createWebhook(t, { campaignId, url: `${sink.url}/busy`, maxInFlight: 1, retryBaseDelayMs: 100 })
    await fire(campaignId, 4, 'busy', [t])
    await settled(campaignId, 4)
    const [first, ...rest] = sink.received('/busy').map((r) => r.at)
    // the 429 was the first answer: nothing more went to the endpoint for the second it asked for
    expect(rest.length).toBe(4)
    expect(Math.min(...rest) - first!).toBeGreaterThanOrEqual(900)
    const pixels = await t.app.db.pixel.findMany({ where: { campaignId }, orderBy: { attemptCount: 'desc' } })
    expect(pixels.map((p) => [p.status, p.attemptCount])).toEqual([
      ['SUCCEEDED', 2],
      ['SUCCEEDED', 1],
      ['SUCCEEDED', 1],
      ['SUCCEEDED', 1],
    ])
  })

  it('refuses limits out of range, naming the field', async () => {
    const campaignId = await createCampaign(t, 'bad-limits')
    const r = await t.gql(`mutation($i:CreateWebhookInput!){ createWebhook(input:$i) { id } }`, {
      i: { campaignId, name: 'w', trigger: 'CALL_START', url: `${sink.url}/x`, maxInFlight: 0 },
    })
    expect(r.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'maxInFlight' } })
  })
})
