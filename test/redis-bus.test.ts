import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { collect, ok, sleep, startTestApp, untilSubscribed, type TestApp } from './helpers/app.js'
import { redisUrl, testProvider } from './helpers/db.js'
import { createCampaign, startCall } from './fixtures.js'

async function waitForRedisSubscriber(redis: Redis, channel: string): Promise<void> {
  const deadline = Date.now() + 5000
  for (;;) {
    const [, count] = (await redis.pubsub('NUMSUB', channel)) as [string, number]
    if (Number(count) >= 1) return
    if (Date.now() > deadline) throw new Error(`no Redis subscriber on ${channel}`)
    await sleep(20)
  }
}

describe(`event bus across two instances on ${testProvider}`, () => {
  let a: TestApp
  let b: TestApp
  let redis: Redis
  beforeAll(async () => {
    a = await startTestApp({ env: { REDIS_URL: redisUrl, ALLOWED_TARGETS: '127.0.0.1' } })
    b = await startTestApp({ env: { REDIS_URL: redisUrl, ALLOWED_TARGETS: '127.0.0.1' }, database: { url: a.databaseUrl } })
    redis = new Redis(redisUrl)
  })
  afterAll(async () => {
    redis?.disconnect()
    await b?.close()
    await a?.close()
  })

  it('delivers to a subscriber on instance A what a mutation on instance B published, through the real Redis', async () => {
    expect(a.app.bus.kind).toBe('redis')
    const campaignId = await createCampaign(a)
    const sub = collect(a.wsClient(), `subscription { callUpdated { event call { uuid } } }`)
    await waitForRedisSubscriber(redis, `callUpdated:${a.company.companyId}`)
    // B's own company is another tenant; use A's key against B: same database, other process
    await startCall(b, { campaignId, uuid: 'cross-1' }, a.company.adminKey)
    ok(await b.gql(`mutation{ answerCall(input:{uuid:"cross-1"}) { id } }`, {}, a.company.adminKey))
    const events = await sub.waitFor(2)
    expect(events.map((e) => [e.callUpdated.event, e.callUpdated.call.uuid])).toEqual([
      ['STARTED', 'cross-1'],
      ['ANSWERED', 'cross-1'],
    ])
  })

  it('delivers postbackReceived across instances too', async () => {
    const sub = collect(a.wsClient(), `subscription { postbackReceived { outcome tags } }`)
    await waitForRedisSubscriber(redis, `postbackReceived:${a.company.companyId}`)
    const res = await fetch(`${b.url.replace(/\/graphql$/, '')}/postback?key=${a.company.publisherKey}&caller_number=4155550400&n=cross`)
    expect(res.status).toBe(200)
    const [event] = await sub.waitFor(1)
    expect(event!.postbackReceived).toEqual({ outcome: 'TAGS_STORED', tags: { n: 'cross' } })
  })

  it("shares a publisher key's rate limit between instances through Redis", async () => {
    const created = ok(
      await a.gql<{ createApiKey: { secret: string } }>(`mutation { createApiKey(input:{name:"limited", role:PUBLISHER, rateLimitPerMinute:3}) { secret } }`),
    ).createApiKey.secret
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      const instance = i % 2 === 0 ? a : b
      const res = await fetch(`${instance.url.replace(/\/graphql$/, '')}/postback?key=${created}&caller_number=4155550401&n=${i}`)
      statuses.push(res.status)
      await res.body?.cancel()
    }
    // alone, each instance would have allowed 3: together they allow 3
    expect(statuses).toEqual([200, 200, 200, 429, 429])
  })

  it('delivers pixelFired from the instance that delivered to a subscriber on an API-only instance', async () => {
    const { startReceiver } = await import('./helpers/receiver.js')
    const sink = await startReceiver()
    const apiOnly = await startTestApp({ env: { REDIS_URL: redisUrl, ROLE: 'api' }, database: { url: a.databaseUrl } })
    try {
      const campaignId = await createCampaign(a)
      ok(
        await a.gql(`mutation($c:ID!,$u:String!){ createWebhook(input:{campaignId:$c, name:"w", trigger:CALL_START, url:$u}) { id } }`, {
          c: campaignId,
          u: `${sink.url}/x`,
        }),
      )
      const sub = collect(apiOnly.wsClient(a.company.adminKey), `subscription { pixelFired(status:SUCCEEDED) { trigger call { uuid } } }`)
      await waitForRedisSubscriber(redis, `pixelFired:${a.company.companyId}`)
      // the API-only instance writes the pixel; a worker of another instance delivers it and publishes
      await startCall(apiOnly, { campaignId, uuid: 'cross-pixel' }, a.company.adminKey)
      const [event] = await sub.waitFor(1, 10_000)
      expect(event!.pixelFired).toEqual({ trigger: 'CALL_START', call: { uuid: 'cross-pixel' } })
    } finally {
      await apiOnly.close()
      await sink.close()
    }
  })

  it('without Redis two instances do not share events (the in-process bus)', async () => {
    const c = await startTestApp({ database: { url: a.databaseUrl } })
    try {
      expect(c.app.bus.kind).toBe('memory')
      const campaignId = await createCampaign(a)
      const sub = collect(c.wsClient(a.company.adminKey), `subscription { callUpdated { event call { uuid } } }`)
      // c's own mutations prove the subscription is live; b's (through Redis) must not reach it
      const probe = await startCall(c, { campaignId, uuid: 'local-probe' }, a.company.adminKey)
      await untilSubscribed(sub, () =>
        c.gql(`mutation($u:String!){ addCallTags(input:{uuid:$u, tags:[{key:"p", value:"1"}]}) { id } }`, { u: probe.uuid }, a.company.adminKey),
      )
      await startCall(b, { campaignId, uuid: 'remote-1' }, a.company.adminKey)
      await startCall(c, { campaignId, uuid: 'local-1' }, a.company.adminKey)
      await sub.waitFor(1)
      await sleep(300)
      expect(sub.events.map((e) => e.callUpdated.call.uuid)).toEqual(['local-1'])
    } finally {
      await c.close()
    }
  })
})
