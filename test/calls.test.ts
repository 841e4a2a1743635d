import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { createCampaign, startCall } from './fixtures.js'

const CALL_FIELDS =
  'uuid status callerNumber calledNumber startedAt answeredAt endedAt durationSeconds converted convertedAt campaign { id } tags { key value source }'

describe(`call lifecycle and call log on ${testProvider}`, () => {
  let t: TestApp
  let campaignId: string
  beforeAll(async () => {
    t = await startTestApp()
    campaignId = await createCampaign(t)
  })
  afterAll(async () => t?.close())

  it('starts, answers, ends and converts a call with times, duration and tags', async () => {
    const started = ok(
      await t.gql<{ startCall: Record<string, any> }>(`mutation($i:StartCallInput!){ startCall(input:$i) { ${CALL_FIELDS} } }`, {
        i: {
          campaignId,
          uuid: 'call-1',
          callerNumber: '(415) 555-0101',
          calledNumber: '1-800-555-0199',
          startedAt: '2026-11-30T10:00:00.000Z',
          tags: [{ key: ' Caller-State ', value: 'CA' }],
        },
      }),
    ).startCall
    expect(started).toMatchObject({
      uuid: 'call-1',
      status: 'STARTED',
      callerNumber: '+14155550101',
      calledNumber: '+18005550199',
      startedAt: '2026-11-30T10:00:00.000Z',
      answeredAt: null,
      converted: false,
      campaign: { id: campaignId },
      tags: [{ key: 'caller_state', value: 'CA', source: 'CALL_EVENT' }],
    })
    const answered = ok(
      await t.gql<{ answerCall: Record<string, any> }>(
        `mutation{ answerCall(input:{uuid:"call-1", answeredAt:"2026-11-30T10:00:05.000Z"}) { ${CALL_FIELDS} } }`,
      ),
    ).answerCall
    expect(answered).toMatchObject({ status: 'ANSWERED', answeredAt: '2026-11-30T10:00:05.000Z' })
    const ended = ok(
      await t.gql<{ endCall: Record<string, any> }>(`mutation{ endCall(input:{uuid:"call-1", endedAt:"2026-11-30T10:02:05.000Z"}) { ${CALL_FIELDS} } }`),
    ).endCall
    expect(ended).toMatchObject({ status: 'ENDED', endedAt: '2026-11-30T10:02:05.000Z', durationSeconds: 120 })
    const converted = ok(
      await t.gql<{ convertCall: Record<string, any> }>(
        `mutation{ convertCall(input:{uuid:"call-1", tags:[{key:"sale_amount", value:"99"}]}) { ${CALL_FIELDS} } }`,
      ),
    ).convertCall
    expect(converted.converted).toBe(true)
    expect(converted.convertedAt).not.toBeNull()
    expect(converted.tags).toEqual([
      { key: 'caller_state', value: 'CA', source: 'CALL_EVENT' },
      { key: 'sale_amount', value: '99', source: 'CALL_EVENT' },
    ])
    const tagged = ok(
      await t.gql<{ addCallTags: { tags: { key: string; value: string; source: string }[] } }>(
        `mutation{ addCallTags(input:{uuid:"call-1", tags:[{key:"caller_state", value:"NV"}, {key:"Lead ID", value:"L-7"}]}) { tags { key value source } } }`,
      ),
    ).addCallTags
    expect(tagged.tags).toEqual([
      { key: 'caller_state', value: 'NV', source: 'API' },
      { key: 'lead_id', value: 'L-7', source: 'API' },
      { key: 'sale_amount', value: '99', source: 'CALL_EVENT' },
    ])
    const one = ok(
      await t.gql<{ call: { tag: { value: string } | null; missing: null } }>(
        `{ call(uuid:"call-1") { tag(key:"lead_id") { value } missing: tag(key:"nope") { value } } }`,
      ),
    )
    expect(one.call).toEqual({ tag: { value: 'L-7' }, missing: null })
  })

  it('refuses impossible transitions and bad input, naming the field', async () => {
    const cases: [string, string, string][] = [
      [`mutation{ answerCall(input:{uuid:"call-1"}) { uuid } }`, 'uuid', 'BAD_USER_INPUT'],
      [`mutation{ endCall(input:{uuid:"call-1"}) { uuid } }`, 'uuid', 'BAD_USER_INPUT'],
      [`mutation{ convertCall(input:{uuid:"call-1"}) { uuid } }`, 'uuid', 'BAD_USER_INPUT'],
      [`mutation{ answerCall(input:{uuid:"no-such-call"}) { uuid } }`, 'uuid', 'NOT_FOUND'],
      [`mutation($c:ID!){ startCall(input:{campaignId:$c, callerNumber:"hello"}) { uuid } }`, 'callerNumber', 'BAD_USER_INPUT'],
      [`mutation($c:ID!){ startCall(input:{campaignId:$c, callerNumber:"4155550100", uuid:"call-1"}) { uuid } }`, 'uuid', 'BAD_USER_INPUT'],
      [`mutation($c:ID!){ startCall(input:{campaignId:$c, callerNumber:"4155550100", uuid:"bad uuid!"}) { uuid } }`, 'uuid', 'BAD_USER_INPUT'],
      [`mutation($c:ID!){ startCall(input:{campaignId:$c, callerNumber:"4155550100", tags:[{key:"", value:"x"}]}) { uuid } }`, 'tags[0].key', 'BAD_USER_INPUT'],
      [`mutation{ startCall(input:{campaignId:"nope", callerNumber:"4155550100"}) { uuid } }`, 'campaignId', 'NOT_FOUND'],
      [`mutation{ addCallTags(input:{uuid:"call-1", tags:[]}) { uuid } }`, 'tags', 'BAD_USER_INPUT'],
    ]
    for (const [query, field, code] of cases) {
      const r = await t.gql(query, { c: campaignId })
      expect(r.errors?.[0]?.extensions, query).toMatchObject({ code, field })
    }
    expect(await t.app.db.call.count()).toBe(1)
  })

  it('lists the call log newest first with filters and cursor pagination', async () => {
    const other = await createCampaign(t, 'Other')
    const base = Date.parse('2026-11-29T00:00:00.000Z')
    for (let i = 0; i < 7; i++) {
      await startCall(t, {
        campaignId: i % 2 ? other : campaignId,
        uuid: `log-${i}`,
        callerNumber: i === 3 ? '+14155550303' : '+14155550200',
        startedAt: new Date(base + i * 60_000).toISOString(),
      })
    }
    ok(await t.gql(`mutation{ answerCall(input:{uuid:"log-6"}) { uuid } }`))
    type Page = { calls: { edges: { cursor: string; node: { uuid: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }
    const page = (filter: object, first: number, after?: string) =>
      t.gql<Page>(
        `query($f:CallFilter,$n:Int,$a:String){ calls(filter:$f, first:$n, after:$a) { edges { cursor node { uuid } } pageInfo { hasNextPage endCursor } } }`,
        {
          f: filter,
          n: first,
          a: after,
        },
      )
    const window = { startedAfter: '2026-11-29T00:00:00.000Z', startedBefore: '2026-11-29T01:00:00.000Z' }
    const p1 = ok(await page(window, 3)).calls
    expect(p1.edges.map((e) => e.node.uuid)).toEqual(['log-6', 'log-5', 'log-4'])
    expect(p1.pageInfo.hasNextPage).toBe(true)
    const p2 = ok(await page(window, 3, p1.pageInfo.endCursor)).calls
    expect(p2.edges.map((e) => e.node.uuid)).toEqual(['log-3', 'log-2', 'log-1'])
    const p3 = ok(await page(window, 3, p2.pageInfo.endCursor)).calls
    expect(p3.edges.map((e) => e.node.uuid)).toEqual(['log-0'])
    expect(p3.pageInfo.hasNextPage).toBe(false)

    const uuids = async (f: object) => ok(await page(f, 50)).calls.edges.map((e) => e.node.uuid)
    expect(await uuids({ ...window, campaignId: other })).toEqual(['log-5', 'log-3', 'log-1'])
    expect(await uuids({ ...window, status: 'ANSWERED' })).toEqual(['log-6'])
    expect(await uuids({ callerNumber: '(415) 555-0303' })).toEqual(['log-3'])
    expect(await uuids({ startedAfter: '2026-11-29T00:02:00.000Z', startedBefore: '2026-11-29T00:04:00.000Z' })).toEqual(['log-3', 'log-2'])
    const bad = await page({ callerNumber: 'abc' }, 5)
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.callerNumber' })
  })
})
