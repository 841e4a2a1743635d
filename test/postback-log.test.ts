import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompany, type CreatedCompany } from '../src/tenancy/createCompany.js'
import { collect, ok, sleep, sseSubscribe, startTestApp, until, untilSubscribed, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { getPostback } from './helpers/postback.js'
import { createCampaign, startCall } from './fixtures.js'

describe(`postback log and postbackReceived on ${testProvider}`, () => {
  let t: TestApp
  let rival: CreatedCompany
  let campaignId: string
  let pinned: { secret: string; id: string }
  beforeAll(async () => {
    t = await startTestApp()
    rival = await createCompany(t.app.db, 'Rival')
    campaignId = await createCampaign(t)
    const d = ok(
      await t.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
        `mutation($c:ID!){ createApiKey(input:{name:"pinned", role:PUBLISHER, campaignId:$c}) { secret apiKey { id } } }`,
        {
          c: campaignId,
        },
      ),
    )
    pinned = { secret: d.createApiKey.secret, id: d.createApiKey.apiKey.id }
  })
  afterAll(async () => t?.close())

  it('lists postbacks newest first, filtered by outcome, caller number, key and time, with cursors; one postback shows its call', async () => {
    const call = await startCall(t, { campaignId, uuid: 'log-call', callerNumber: '+14155550300' })
    const since = new Date().toISOString()
    await getPostback(t, { key: t.company.publisherKey, caller_number: '4155550300', n: '1' }) // CALL_FOUND
    await getPostback(t, { key: t.company.publisherKey, caller_number: '4155550301', n: '2' }) // TAGS_STORED
    await getPostback(t, { key: t.company.publisherKey, n: '3' }) // REJECTED
    await getPostback(t, { key: pinned.secret, caller_number: '4155550300', n: '4' }) // CALL_FOUND via pinned key
    await getPostback(t, { key: rival.publisherKey, caller_number: '4155550300', n: 'rival' })

    type Page = { postbacks: { edges: { node: { tags: { n: string }; outcome: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }
    const list = async (filter: object, first = 50, after?: string) =>
      ok(
        await t.gql<Page>(
          `query($f:PostbackFilter,$n:Int,$a:String){ postbacks(filter:$f, first:$n, after:$a) { edges { node { tags outcome } } pageInfo { hasNextPage endCursor } } }`,
          { f: filter, n: first, a: after },
        ),
      ).postbacks
    const ns = async (filter: object) => (await list(filter)).edges.map((e) => e.node.tags.n)
    expect(await ns({ receivedAfter: since })).toEqual(['4', '3', '2', '1'])
    expect(await ns({ receivedAfter: since, outcome: 'CALL_FOUND' })).toEqual(['4', '1'])
    expect(await ns({ receivedAfter: since, outcome: 'REJECTED' })).toEqual(['3'])
    expect(await ns({ receivedAfter: since, callerNumber: '(415) 555-0301' })).toEqual(['2'])
    expect(await ns({ receivedAfter: since, apiKeyId: pinned.id })).toEqual(['4'])
    expect(await ns({ receivedAfter: since, campaignId })).toEqual(['4', '1'])
    expect(await ns({ receivedBefore: since })).toEqual([])
    const p1 = await list({ receivedAfter: since }, 3)
    expect(p1.pageInfo.hasNextPage).toBe(true)
    const p2 = await list({ receivedAfter: since }, 3, p1.pageInfo.endCursor)
    expect(p2.edges.map((e) => e.node.tags.n)).toEqual(['1'])

    const rows = await t.app.db.postback.findMany({
      where: { companyId: t.company.companyId, createdAt: { gte: new Date(since) } },
      orderBy: { createdAt: 'asc' },
    })
    const one = ok(
      await t.gql<{ postback: Record<string, any> }>(
        `query($id:ID!){ postback(id:$id) { id rawBody tags problems { code } outcome httpStatus response call { uuid } apiKey { name } channel } }`,
        { id: rows[0]!.id },
      ),
    ).postback
    expect(one).toMatchObject({
      rawBody: 'key=[REDACTED]&caller_number=4155550300&n=1',
      tags: { n: '1' },
      outcome: 'CALL_FOUND',
      httpStatus: 200,
      call: { uuid: call.uuid },
      apiKey: { name: 'publisher' },
      channel: 'REST_GET',
    })
    expect(one.response).toEqual({
      httpStatus: 200,
      outcome: 'CALL_FOUND',
      status: 'call found, tags applied',
      postbackId: rows[0]!.id,
      callUuid: call.uuid,
      callerNumber: '+14155550300',
      tags: { n: '1' },
      problems: [],
    })
    // the answers rebuilt for the log are the answers that were sent
    const rejected = ok(
      await t.gql<{ postback: { response: Record<string, unknown> } }>(`query($id:ID!){ postback(id:$id) { response } }`, { id: rows[2]!.id }),
    ).postback
    expect(rejected.response).toMatchObject({
      httpStatus: 400,
      outcome: 'REJECTED',
      status: 'rejected',
      error: 'give caller_number or call_uuid to say which call the data is for',
    })
    const stored = ok(
      await t.gql<{ postback: { response: Record<string, unknown> } }>(`query($id:ID!){ postback(id:$id) { response } }`, { id: rows[1]!.id }),
    ).postback
    expect(stored.response).toMatchObject({ outcome: 'TAGS_STORED', status: 'call not found, tags stored', callUuid: null, callerNumber: '+14155550301' })
    const theirs = await t.gql(`query($id:ID!){ postback(id:$id) { id } }`, { id: rows[0]!.id }, rival.adminKey)
    expect(theirs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    const theirList = ok(await t.gql<Page>(`{ postbacks { edges { node { tags } } } }`, {}, rival.adminKey)).postbacks.edges.map((e) => e.node.tags.n)
    expect(theirList).toEqual(['rival'])
  })

  it("lists a call's postbacks oldest first, 50 unless asked, at most 200, and counts them all", async () => {
    const call = await startCall(t, { campaignId, uuid: 'busy-call', callerNumber: '+14155550310' })
    for (let n = 0; n < 52; n++) await getPostback(t, { key: t.company.publisherKey, call_uuid: call.uuid, n: String(n) })
    type Listed = { call: { postbackCount: number; postbacks: { tags: { n: string } }[] } }
    const listed = async (args: string) =>
      ok(await t.gql<Listed>(`query($u:String!){ call(uuid:$u) { postbackCount postbacks${args} { tags } } }`, { u: call.uuid })).call
    const byDefault = await listed('')
    expect(byDefault.postbackCount).toBe(52)
    expect(byDefault.postbacks.map((p) => p.tags.n)).toEqual(Array.from({ length: 50 }, (_, n) => String(n)))
    expect((await listed('(first: 2)')).postbacks.map((p) => p.tags.n)).toEqual(['0', '1'])
    expect((await listed('(first: 200)')).postbacks).toHaveLength(52)
    for (const first of [201, 0]) {
      const refused = await t.gql(`query($u:String!){ call(uuid:$u) { uuid postbacks(first: ${first}) { id } } }`, { u: call.uuid })
      expect(refused.errors?.[0]?.extensions, String(first)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' })
      expect(refused.errors?.[0]?.message).toBe(`first: must be from 1 to 200, not ${first}`)
    }
  })

  it('streams every logged postback over graphql-ws to its own company only, filterable by key and campaign', async () => {
    const all = collect(t.wsClient(), `subscription { postbackReceived { id outcome httpStatus tags rawBody problems { code } apiKey { id } } }`)
    const byKey = collect(t.wsClient(), `subscription($k:ID){ postbackReceived(apiKeyId:$k) { tags } }`, { k: pinned.id })
    const byCampaign = collect(t.wsClient(), `subscription($c:ID){ postbackReceived(campaignId:$c) { tags } }`, { c: campaignId })
    const theirs = collect(t.wsClient(rival.adminKey), `subscription { postbackReceived { tags } }`)
    const probe = () => getPostback(t, { key: pinned.secret, caller_number: '4155550399', probe: '1' })
    await untilSubscribed(all, probe)
    await untilSubscribed(byKey, probe)
    await untilSubscribed(byCampaign, probe)
    const theirProbe = () => getPostback(t, { key: rival.publisherKey, caller_number: '4155550399', probe: '1' })
    await untilSubscribed(theirs, theirProbe)
    // later probes reached the earlier subscriptions too: forget them all
    await sleep(200)
    for (const sub of [all, byKey, byCampaign, theirs]) sub.events.length = 0

    await getPostback(t, { key: t.company.publisherKey, caller_number: '4155550302', n: 'a' })
    await getPostback(t, { key: t.company.publisherKey, n: 'bad' })
    await getPostback(t, { key: pinned.secret, caller_number: '4155550303', n: 'b' })
    const events = await all.waitFor(3)
    expect(events.map((e) => [e.postbackReceived.tags.n, e.postbackReceived.outcome, e.postbackReceived.httpStatus])).toEqual([
      ['a', 'TAGS_STORED', 200],
      ['bad', 'REJECTED', 400],
      ['b', 'TAGS_STORED', 200],
    ])
    expect(events[1]!.postbackReceived.problems).toEqual([{ code: 'MISSING_IDENTIFICATION' }])
    expect(events[0]!.postbackReceived.rawBody).not.toContain(t.company.publisherKey)
    expect((await byKey.waitFor(1)).map((e) => e.postbackReceived.tags.n)).toEqual(['b'])
    expect((await byCampaign.waitFor(1)).map((e) => e.postbackReceived.tags.n)).toEqual(['b'])
    await sleep(200)
    expect(all.events).toHaveLength(3)
    expect(byKey.events).toHaveLength(1)
    expect(theirs.events).toEqual([])
  })

  it('streams postbacks over SSE', async () => {
    const sse = await sseSubscribe<{ postbackReceived: { tags: { n: string } } }>(
      t.url,
      t.company.adminKey,
      'subscription { postbackReceived { tags outcome } }',
    )
    await untilSubscribed(sse, () => getPostback(t, { key: t.company.publisherKey, caller_number: '4155550399', n: 'probe' }))
    await getPostback(t, { key: t.company.publisherKey, caller_number: '4155550304', n: 'sse' })
    const seen = () => sse.events.map((e) => e.postbackReceived.tags.n)
    await until(() => seen().includes('sse'))
    await sse.close()
    expect(seen()).toContain('sse')
  })
})
