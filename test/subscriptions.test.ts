import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { collect, ok, sleep, sseSubscribe, startTestApp, until, untilSubscribed, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { createCampaign, startCall } from './fixtures.js'

describe(`callUpdated subscription on ${testProvider}`, () => {
  let t: TestApp
  let campaignId: string
  beforeAll(async () => {
    t = await startTestApp()
    campaignId = await createCampaign(t)
  })
  afterAll(async () => t?.close())

  it('delivers an event for each lifecycle mutation over graphql-ws, filtered by campaign', async () => {
    const other = await createCampaign(t, 'Other')
    const probe = await startCall(t, { campaignId, uuid: 'probe-ws' })
    const sub = collect(
      t.wsClient(),
      `subscription($c:ID){ callUpdated(campaignId:$c) { event call { uuid status durationSeconds converted startedAt campaign { id } tags { key value } } } }`,
      { c: campaignId },
    )
    await untilSubscribed(sub, () => t.gql(`mutation($u:String!){ addCallTags(input:{uuid:$u, tags:[{key:"probe", value:"1"}]}) { id } }`, { u: probe.uuid }))

    await startCall(t, { campaignId: other, uuid: 'elsewhere' })
    await startCall(t, { campaignId, uuid: 'ws-1', startedAt: '2026-11-30T10:00:00.000Z', tags: [{ key: 'a', value: '1' }] })
    ok(await t.gql(`mutation{ answerCall(input:{uuid:"ws-1", answeredAt:"2026-11-30T10:00:10.000Z"}) { id } }`))
    ok(await t.gql(`mutation{ endCall(input:{uuid:"ws-1", endedAt:"2026-11-30T10:01:10.000Z"}) { id } }`))
    ok(await t.gql(`mutation{ convertCall(input:{uuid:"ws-1"}) { id } }`))
    ok(await t.gql(`mutation{ addCallTags(input:{uuid:"ws-1", tags:[{key:"b", value:"2"}]}) { id } }`))
    const events = await sub.waitFor(5)
    expect(events.map((e) => [e.callUpdated.event, e.callUpdated.call.uuid, e.callUpdated.call.status])).toEqual([
      ['STARTED', 'ws-1', 'STARTED'],
      ['ANSWERED', 'ws-1', 'ANSWERED'],
      ['ENDED', 'ws-1', 'ENDED'],
      ['CONVERTED', 'ws-1', 'ENDED'],
      ['TAGGED', 'ws-1', 'ENDED'],
    ])
    expect(events[0]!.callUpdated.call).toMatchObject({ startedAt: '2026-11-30T10:00:00.000Z', campaign: { id: campaignId }, tags: [{ key: 'a', value: '1' }] })
    expect(events[2]!.callUpdated.call.durationSeconds).toBe(60)
    expect(events[4]!.callUpdated.call.tags).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ])
    await sleep(100)
    expect(sub.events).toHaveLength(5)
  })

  it('delivers events over SSE (POST with Accept: text/event-stream)', async () => {
    const probe = await startCall(t, { campaignId, uuid: 'probe-sse' })
    const sse = await sseSubscribe<{ callUpdated: { event: string; call: { uuid: string } } }>(
      t.url,
      t.company.adminKey,
      'subscription { callUpdated { event call { uuid } } }',
    )
    expect(sse.status).toBe(200)
    expect(sse.contentType).toMatch(/text\/event-stream/)
    await untilSubscribed(sse, () => t.gql(`mutation($u:String!){ addCallTags(input:{uuid:$u, tags:[{key:"probe", value:"1"}]}) { id } }`, { u: probe.uuid }))
    await startCall(t, { campaignId, uuid: 'sse-1' })
    ok(await t.gql(`mutation{ answerCall(input:{uuid:"sse-1"}) { id } }`))
    await until(() => sse.events.length >= 2)
    await sse.close()
    const events = sse.events.map((e) => ({ event: e.callUpdated.event, uuid: e.callUpdated.call.uuid }))
    expect(events).toEqual([
      { event: 'STARTED', uuid: 'sse-1' },
      { event: 'ANSWERED', uuid: 'sse-1' },
    ])
  })

  it('refuses a graphql-ws connection without a valid key in connectionParams (4403), and SSE without a key (401)', async () => {
    for (const connectionParams of [{}, { authorization: 'Bearer rh_adm_wrong' }]) {
      const client = createClient({ url: t.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0 })
      const outcome = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: 'subscription { callUpdated { event } }' },
          { next: () => resolve('event'), error: resolve, complete: () => resolve('complete') },
        )
      })
      expect((outcome as { code?: number }).code).toBe(4403)
      await client.dispose()
    }
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { callUpdated { event } }' }),
    })
    expect(res.status).toBe(401)
    await res.body?.cancel()
  })
})
