// Subscriptions of one company with the same operation and variables share one execution: an event is
// resolved once (its tags read once) however many subscribe, while each subscriber's stream stays its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, ok, sleep, startTestApp, type TestApp, untilSubscribed } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { createCampaign, startCall } from './fixtures.js'

const QUERY = 'subscription($c:ID){ callUpdated(campaignId:$c) { event call { uuid tags { key value } tag(key:"n") { value } } } }'

describe(`shared subscriptions on ${testProvider}`, () => {
  let t: TestApp
  let campaignId: string
  const tagQueries: string[] = []
  let counting = false
  beforeAll(async () => {
    t = await startTestApp({ onQuery: (sql) => counting && /FROM [`"]?(main[`"]\.)?[`"]Tag[`"]/.test(sql) && tagQueries.push(sql) })
    campaignId = await createCampaign(t)
  })
  afterAll(async () => t?.close())

  it('resolves an event once for every subscriber of the same operation, each getting it; a stream that leaves leaves alone', async () => {
    const probe = await startCall(t, { campaignId, uuid: 'shared-probe' })
    const poke = () => t.gql(`mutation($u:String!){ addCallTags(input:{uuid:$u, tags:[{key:"probe", value:"${Date.now()}"}]}) { id } }`, { u: probe.uuid })
    const subs = Array.from({ length: 20 }, () => collect(t.wsClient(), QUERY, { c: campaignId }))
    for (const s of subs) await untilSubscribed(s, poke)
    await sleep(100)
    for (const s of subs) s.events.length = 0

    counting = true
    await startCall(t, { campaignId, uuid: 'shared-1', tags: [{ key: 'n', value: '1' }] })
    for (const s of subs) await s.waitFor(1)
    counting = false
    for (const s of subs)
      expect(s.events[0]!.callUpdated).toEqual({ event: 'STARTED', call: { uuid: 'shared-1', tags: [{ key: 'n', value: '1' }], tag: { value: '1' } } })
    // one execution: the tags and the tag(key:) were read once for all twenty
    expect(tagQueries.length).toBeLessThanOrEqual(2)

    // the next event sees the tag as it is now (nothing cached across events), and one leaving ends only itself
    subs[0]!.dispose()
    ok(await t.gql(`mutation{ addCallTags(input:{uuid:"shared-1", tags:[{key:"n", value:"2"}]}) { id } }`))
    for (const s of subs.slice(1)) await s.waitFor(2)
    for (const s of subs.slice(1)) expect(s.events[1]!.callUpdated.call.tag).toEqual({ value: '2' })
    await sleep(100)
    expect(subs[0]!.events).toHaveLength(1)
  })

  it('does not share between different variables', async () => {
    const other = await createCampaign(t, 'Other')
    const mine = collect(t.wsClient(), QUERY, { c: campaignId })
    const theirs = collect(t.wsClient(), QUERY, { c: other })
    const probeMine = await startCall(t, { campaignId, uuid: 'vars-probe-1' })
    const probeTheirs = await startCall(t, { campaignId: other, uuid: 'vars-probe-2' })
    await untilSubscribed(mine, () => t.gql(`mutation{ addCallTags(input:{uuid:"${probeMine.uuid}", tags:[{key:"p", value:"1"}]}) { id } }`))
    await untilSubscribed(theirs, () => t.gql(`mutation{ addCallTags(input:{uuid:"${probeTheirs.uuid}", tags:[{key:"p", value:"1"}]}) { id } }`))
    await startCall(t, { campaignId: other, uuid: 'vars-2' })
    await theirs.waitFor(1)
    await sleep(100)
    expect(theirs.events.map((e) => e.callUpdated.call.uuid)).toEqual(['vars-2'])
    expect(mine.events).toEqual([])
  })
})
