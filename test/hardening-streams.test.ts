// Live streams end with their key: revoking an API key closes its graphql-ws sockets (4403) and ends its
// SSE responses, at once on the instance that revoked it, through Redis on the others, and on an
// instance without Redis within API_KEY_CACHE_MS.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, ok, sleep, sseSubscribe, startTestApp, untilSubscribed, type TestApp } from './helpers/app.js'
import { redisUrl, testProvider } from './helpers/db.js'
import { createCampaign, startCall } from './fixtures.js'

const SUBSCRIPTION = 'subscription { callUpdated { event call { uuid } } }'

async function adminKey(t: TestApp, name: string): Promise<{ id: string; secret: string }> {
  const d = ok(
    await t.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      `mutation($n:String!){ createApiKey(input:{name:$n, role:ADMIN}) { secret apiKey { id } } }`,
      { n: name },
    ),
  )
  return { id: d.createApiKey.apiKey.id, secret: d.createApiKey.secret }
}

/** Resolves within `ms` (true) or not (false). */
const within = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)])

describe(`streams end when their key is revoked, on ${testProvider}`, () => {
  let a: TestApp
  let viaRedis: TestApp
  let alone: TestApp
  let redis: Redis
  let campaignId: string
  let n = 0
  const probe =
    (t: TestApp = a) =>
    () =>
      startCall(t, { campaignId, uuid: `rev-${++n}-${Date.now()}` }, a.company.adminKey)
  beforeAll(async () => {
    a = await startTestApp({ env: { REDIS_URL: redisUrl } })
    // another instance on Redis, whose key cache alone would keep a revoked key for a minute
    viaRedis = await startTestApp({ env: { REDIS_URL: redisUrl, API_KEY_CACHE_MS: '60000', ROLE: 'api' }, database: { url: a.databaseUrl } })
    // and one without Redis, which finds the revocation by looking again
    alone = await startTestApp({ env: { API_KEY_CACHE_MS: '400', ROLE: 'api' }, database: { url: a.databaseUrl } })
    redis = new Redis(redisUrl)
    campaignId = await createCampaign(a)
  })
  afterAll(async () => {
    redis?.disconnect()
    await alone?.close()
    await viaRedis?.close()
    await a?.close()
  })

  it('closes a graphql-ws socket with 4403 and ends an SSE stream at once on the revoking instance', async () => {
    const key = await adminKey(a, 'watcher')
    const client = a.wsClient(key.secret)
    const closed = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)))
    const ws = collect(client, SUBSCRIPTION)
    await untilSubscribed(ws, probe())
    const sse = await sseSubscribe(a.url, key.secret, SUBSCRIPTION)
    expect(sse.status).toBe(200)
    await untilSubscribed(sse, probe())
    // the other key's streams stay open
    const bystander = collect(a.wsClient(), SUBSCRIPTION)
    await untilSubscribed(bystander, probe())
    await sleep(100)
    ws.events.length = 0
    sse.events.length = 0

    ok(await a.gql(`mutation($i:ID!){ revokeApiKey(input:{id:$i}) { revokedAt } }`, { i: key.id }))
    expect(await within(closed, 1000)).toBe(true)
    expect(await closed).toBe(4403)
    expect(await within(sse.ended, 1000)).toBe(true)
    await probe()()
    await bystander.waitFor(1)
    expect(ws.events).toEqual([])
    expect(sse.events).toEqual([])
    // and the key opens nothing new
    const again = await sseSubscribe(a.url, key.secret, SUBSCRIPTION)
    expect(again.status).toBe(401)
    await again.close()
  })

  it('ends the streams of a key revoked on another instance: through Redis at once, without it within API_KEY_CACHE_MS', async () => {
    const key = await adminKey(a, 'elsewhere')
    const onRedis = await sseSubscribe(viaRedis.url, key.secret, SUBSCRIPTION)
    await untilSubscribed(onRedis, probe(viaRedis))
    const client = alone.wsClient(key.secret)
    const closed = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)))
    const onAlone = collect(client, SUBSCRIPTION)
    // the instance without Redis sees only its own events: probe through it
    await untilSubscribed(onAlone, probe(alone))

    const revokedAt = Date.now()
    ok(await a.gql(`mutation($i:ID!){ revokeApiKey(input:{id:$i}) { revokedAt } }`, { i: key.id }))
    expect(await within(onRedis.ended, 1000)).toBe(true)
    expect(await within(closed, 3000)).toBe(true)
    expect(await closed).toBe(4403)
    expect(Date.now() - revokedAt).toBeLessThan(3000)
    // the instance on Redis forgot the key too, not a minute later
    const refused = await viaRedis.gql('{ company { id } }', {}, key.secret)
    expect(refused.status).toBe(401)
  })
})
