import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { base, getPostback, postJson, request } from './helpers/postback.js'
import { createCampaign, startCall } from './fixtures.js'

const tagsOf = async (t: TestApp, uuid: string) =>
  Object.fromEntries(
    ok(
      await t.gql<{ call: { tags: { key: string; value: string; source: string }[] } }>(`query($u:String!){ call(uuid:$u) { tags { key value source } } }`, {
        u: uuid,
      }),
    ).call.tags.map((tag) => [tag.key, `${tag.value}/${tag.source}`]),
  )

async function publisherKey(t: TestApp, input: Record<string, unknown> = {}): Promise<{ secret: string; id: string }> {
  const d = ok(
    await t.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      `mutation($i:CreateApiKeyInput!){ createApiKey(input:$i) { secret apiKey { id } } }`,
      {
        i: { name: 'pub', role: 'PUBLISHER', ...input },
      },
    ),
  )
  return { secret: d.createApiKey.secret, id: d.createApiKey.apiKey.id }
}

describe(`postback doors and matching on ${testProvider}`, () => {
  let t: TestApp
  let campaignId: string
  let pub: string
  beforeAll(async () => {
    t = await startTestApp({ env: { PENDING_TAG_SWEEP_SECONDS: '1' } })
    campaignId = await createCampaign(t)
    pub = t.company.publisherKey
  })
  afterAll(async () => t?.close())

  it('GET, POST (JSON and form, key in query, body or header) and the GraphQL mutation give the same result', async () => {
    const call = await startCall(t, { campaignId, uuid: 'doors-1', callerNumber: '+14155550111' })
    const expected = { outcome: 'CALL_FOUND', status: 'call found, tags applied', callUuid: call.uuid, callerNumber: '+14155550111' }
    const answers = [
      await getPostback(t, { key: pub, caller_number: '(415) 555-0111', door: 'get' }),
      await postJson(t, `/postback?key=${pub}`, { caller_number: '4155550111', door: 'post_json_query_key' }),
      await postJson(t, '/postback', { key: pub, caller_number: '4155550111', door: 'post_json_body_key' }),
      await postJson(t, '/postback', { caller_number: '4155550111', door: 'post_json_header_key' }, { 'x-ringhook-key': pub }),
      await request(`${base(t.url)}/postback`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key: pub, caller_number: '4155550111', door: 'post_form' }).toString(),
      }),
    ]
    for (const a of answers) {
      expect(a.status).toBe(200)
      expect(a.body).toMatchObject(expected)
      expect(a.body.postbackId).toEqual(expect.any(String))
    }
    expect(answers.map((a) => a.body.tags.door)).toEqual(['get', 'post_json_query_key', 'post_json_body_key', 'post_json_header_key', 'post_form'])
    const viaGraphql = ok(
      await t.gql<{ ingestPostback: Record<string, unknown> }>(
        `mutation($p:JSON!){ ingestPostback(payload:$p) { outcome status callUuid callerNumber postbackId tags } }`,
        { p: { caller_number: '4155550111', door: 'graphql' } },
        pub,
      ),
    ).ingestPostback
    expect(viaGraphql).toMatchObject({ ...expected, tags: { door: 'graphql' } })
    expect((await tagsOf(t, call.uuid)).door).toBe('graphql/POSTBACK')
    expect(await t.app.db.postback.count({ where: { callId: call.id } })).toBe(6)
  })

  it("accepts Retreaver's URL shapes and answers in its shape", async () => {
    const call = await startCall(t, { campaignId, uuid: 'retreaver-1', callerNumber: '+14155550122' })
    const byGet = await request(`${base(t.url)}/data_writing/${pub}?caller_number=4155550122&age=39`)
    expect(byGet.status).toBe(200)
    expect(byGet.body).toEqual({ tag_values: { age: '39' }, call_uuid: call.uuid, status: 'call found, tags applied' })
    const byPost = await postJson(t, '/data_writing', { key: pub, caller_number: '4155550199', age: 40 })
    expect(byPost.body).toEqual({ tag_values: { age: '40' }, caller_number: '+14155550199', status: 'call not found, tags stored' })
    const bad = await request(`${base(t.url)}/data_writing/${pub}?age=41`)
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/caller_number or call_uuid/)
  })

  it('normalises keys, flattens nested objects, joins arrays, and reports what it changed', async () => {
    const answer = await postJson(t, `/postback?key=${pub}`, {
      caller_number: '4155550133',
      ' Lead-Source ': 'facebook',
      lead: { zip: '94103', address: { state: 'CA' } },
      interests: ['solar', 'roof'],
      items: [{ sku: 'A1' }],
      blank: '',
      'bad!key': 'x',
    })
    expect(answer.status).toBe(200)
    expect(answer.body.tags).toEqual({ lead_source: 'facebook', lead_zip: '94103', lead_address_state: 'CA', interests: 'solar,roof', items_0_sku: 'A1' })
    const codes = answer.body.problems.map((p: { code: string; field: string }) => `${p.code}:${p.field}`)
    expect(codes).toEqual(expect.arrayContaining(['NORMALISED_KEY: Lead-Source ', 'EMPTY_FIELD:blank', 'MALFORMED_KEY:bad!key']))
  })

  it('matches by call_uuid (same company only), else the newest call of the number; says when the call had ended', async () => {
    const older = await startCall(t, { campaignId, uuid: 'm-old', callerNumber: '+14155550144', startedAt: new Date(Date.now() - 3600_000).toISOString() })
    const newer = await startCall(t, { campaignId, uuid: 'm-new', callerNumber: '+14155550144' })
    const byNumber = await getPostback(t, { key: pub, caller_number: '4155550144', pick: 'newest' })
    expect(byNumber.body).toMatchObject({ outcome: 'CALL_FOUND', callUuid: newer.uuid })
    const byUuid = await getPostback(t, { key: pub, call_uuid: older.uuid, pick: 'uuid' })
    expect(byUuid.body).toMatchObject({ outcome: 'CALL_FOUND', callUuid: older.uuid })
    expect((await tagsOf(t, older.uuid)).pick).toBe('uuid/POSTBACK')
    expect((await tagsOf(t, newer.uuid)).pick).toBe('newest/POSTBACK')

    ok(await t.gql(`mutation{ endCall(input:{uuid:"m-new"}) { id } }`))
    const completed = await getPostback(t, { key: pub, caller_number: '4155550144', sale: 'yes' })
    expect(completed.body).toMatchObject({ outcome: 'COMPLETED_CALL_FOUND', status: 'completed call found, tags applied', callUuid: newer.uuid })

    const unknownUuid = await getPostback(t, { key: pub, call_uuid: 'no-such-call', x: '1' })
    expect(unknownUuid.status).toBe(404)
    expect(unknownUuid.body.problems.map((p: { code: string }) => p.code)).toContain('CALL_NOT_FOUND')
  })

  it('tags that reach a call in progress apply at once, before the answer is given', async () => {
    const call = await startCall(t, { campaignId, uuid: 'live-1', callerNumber: '+14155550155' })
    ok(await t.gql(`mutation{ answerCall(input:{uuid:"live-1"}) { id } }`))
    const a = await getPostback(t, { key: pub, caller_number: '4155550155', qualified: 'yes' })
    expect(a.body.outcome).toBe('CALL_FOUND')
    // the very next read (a routing decision, a webhook render) sees the tag
    const tag = ok(await t.gql<{ call: { tag: { value: string } | null } }>(`{ call(uuid:"live-1") { tag(key:"qualified") { value } } }`))
    expect(tag.call.tag).toEqual({ value: 'yes' })
    expect(call.uuid).toBe('live-1')
  })

  it('stores tags for a number that has not called, shows them as pending, and applies them when it calls in', async () => {
    const stored = await getPostback(t, { key: pub, caller_number: '4155550166', age: '39', state: 'CA' })
    expect(stored.body).toMatchObject({ outcome: 'TAGS_STORED', status: 'call not found, tags stored', callUuid: null, callerNumber: '+14155550166' })
    await getPostback(t, { key: pub, caller_number: '4155550166', age: '40' })
    const pending = ok(
      await t.gql<{ pendingTags: { key: string; value: string; expiresAt: string }[] }>(
        `{ pendingTags(callerNumber:"(415) 555-0166") { key value expiresAt } }`,
      ),
    )
    const listed = pending.pendingTags.map((p) => `${p.key}=${p.value}`)
    expect(listed).toHaveLength(3)
    expect(listed).toEqual(expect.arrayContaining(['age=39', 'state=CA', 'age=40']))
    expect(listed[2]).toBe('age=40') // oldest first: the later postback comes last
    const expires = Date.parse(pending.pendingTags[0]!.expiresAt) - Date.now()
    expect(expires).toBeGreaterThan(86_000_000)
    expect(expires).toBeLessThanOrEqual(86_400_000)

    const call = await startCall(t, { campaignId, uuid: 'pending-1', callerNumber: '+14155550166', tags: [{ key: 'state', value: 'NV' }] })
    expect(await tagsOf(t, call.uuid)).toEqual({ age: '40/POSTBACK', state: 'NV/CALL_EVENT' })
    expect(ok(await t.gql<{ pendingTags: unknown[] }>(`{ pendingTags(callerNumber:"4155550166") { key } }`)).pendingTags).toEqual([])
    const log = await t.app.db.postback.findMany({ where: { callerNumber: '+14155550166' } })
    expect(log.map((p) => p.callId)).toEqual([call.id, call.id])
  })

  it('never applies pending tags past their window, and cleans them up', async () => {
    const key = await publisherKey(t, { pendingTtlSeconds: 60 })
    await getPostback(t, { key: key.secret, caller_number: '4155550177', stale: 'yes' })
    // an hour passes
    await t.app.db.pendingTag.updateMany({ where: { callerNumber: '+14155550177' }, data: { expiresAt: new Date(Date.now() - 1000) } })
    expect(ok(await t.gql<{ pendingTags: unknown[] }>(`{ pendingTags(callerNumber:"4155550177") { key } }`)).pendingTags).toEqual([])
    const call = await startCall(t, { campaignId, uuid: 'late-1', callerNumber: '+14155550177' })
    expect(await tagsOf(t, call.uuid)).toEqual({})
    // the sweep (every PENDING_TAG_SWEEP_SECONDS) deletes them; this app runs it every second
    const deadline = Date.now() + 5000
    while ((await t.app.db.pendingTag.count({ where: { callerNumber: '+14155550177' } })) > 0) {
      if (Date.now() > deadline) throw new Error('expired pending tags were not cleaned up')
      await new Promise((r) => setTimeout(r, 100))
    }
  })

  it('a key pinned to a campaign matches and applies only within it; a tag prefix spares caller and geo keys', async () => {
    const other = await createCampaign(t, 'Other')
    const key = await publisherKey(t, { campaignId, tagPrefix: 'pub' })
    await startCall(t, { campaignId: other, uuid: 'pin-other', callerNumber: '+14155550188' })
    const a = await getPostback(t, { key: key.secret, caller_number: '4155550188', score: '9', caller_zip: '94103', geo_city: 'SF' })
    expect(a.body).toMatchObject({ outcome: 'TAGS_STORED', tags: { pub_score: '9', caller_zip: '94103', geo_city: 'SF' } })
    const inOther = await startCall(t, { campaignId: other, uuid: 'pin-other-2', callerNumber: '+14155550188' })
    expect(await tagsOf(t, inOther.uuid)).toEqual({})
    const inPinned = await startCall(t, { campaignId, uuid: 'pin-mine', callerNumber: '+14155550188' })
    expect(await tagsOf(t, inPinned.uuid)).toEqual({ pub_score: '9/POSTBACK', caller_zip: '94103/POSTBACK', geo_city: 'SF/POSTBACK' })
  })

  it('lets another company reach none of this company’s calls', async () => {
    const { createCompany } = await import('../src/tenancy/createCompany.js')
    const rival = await createCompany(t.app.db, 'Rival')
    await startCall(t, { campaignId, uuid: 'tenant-1', callerNumber: '+14155550198' })
    const byUuid = await getPostback(t, { key: rival.publisherKey, call_uuid: 'tenant-1', x: '1' })
    expect(byUuid.status).toBe(404)
    const byNumber = await getPostback(t, { key: rival.publisherKey, caller_number: '4155550198', x: '1' })
    expect(byNumber.body.outcome).toBe('TAGS_STORED')
    expect(await tagsOf(t, 'tenant-1')).toEqual({})
  })
}, 60_000)

describe(`postback bad input, logging and idempotency on ${testProvider}`, () => {
  let t: TestApp
  let pub: string
  beforeAll(async () => {
    t = await startTestApp({ env: { BODY_LIMIT_BYTES: '4096' } })
    pub = t.company.publisherKey
  })
  afterAll(async () => t?.close())

  const latest = () => t.app.db.postback.findFirstOrThrow({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] })

  it('answers each bad input with 400 (415 for a content type) naming the problem, and logs it with the body exactly as received', async () => {
    const cases: [string, RequestInit, RegExp, string, number?][] = [
      [
        '/postback',
        { method: 'POST', headers: { 'content-type': 'application/json', 'x-ringhook-key': pub }, body: '{"caller_number": "415' },
        /invalid JSON body/,
        'INVALID_BODY',
      ],
      [
        '/postback',
        { method: 'POST', headers: { 'content-type': 'application/json', 'x-ringhook-key': pub }, body: '[1,2]' },
        /must be an object/,
        'INVALID_BODY',
      ],
      ['/postback', { method: 'POST', headers: { 'content-type': 'application/json', 'x-ringhook-key': pub }, body: '{}' }, /no fields/, 'EMPTY_PAYLOAD'],
      [`/postback?key=${pub}`, {}, /no fields/, 'EMPTY_PAYLOAD'],
      [`/postback?key=${pub}&age=39`, {}, /caller_number or call_uuid/, 'MISSING_IDENTIFICATION'],
      [`/postback?key=${pub}&caller_number=hello`, {}, /not a phone number/, 'INVALID_CALLER_NUMBER'],
      [
        '/postback',
        { method: 'POST', headers: { 'content-type': 'text/csv', 'x-ringhook-key': pub }, body: 'caller_number,age\n4155550100,39' },
        /content type "text\/csv" is not supported/,
        'UNSUPPORTED_CONTENT_TYPE',
        415,
      ],
    ]
    for (const [path, init, message, code, status = 400] of cases) {
      const before = await t.app.db.postback.count()
      const a = await request(`${base(t.url)}${path}`, init)
      expect(a.status, path + JSON.stringify(init.body)).toBe(status)
      expect(a.body.error).toMatch(message)
      expect(await t.app.db.postback.count()).toBe(before + 1)
      const row = await latest()
      expect(row.outcome).toBe('REJECTED')
      expect(row.httpStatus).toBe(status)
      expect((row.problems as { code: string }[])[0]!.code).toBe(code)
      expect(row.rawBody).toBe(typeof init.body === 'string' ? init.body : path.split('?')[1]!.replace(pub, '[REDACTED]'))
      expect(row.rawBody).not.toContain(pub)
      expect(a.body.postbackId).toBe(row.id)
    }
  })

  it('logs who sent it: source IP, user agent, channel, content type and time', async () => {
    await postJson(t, '/postback', { caller_number: '4155550100', a: 1 }, { 'x-ringhook-key': pub, 'user-agent': 'publisher-bot/2.1' })
    const row = await latest()
    expect(row).toMatchObject({ channel: 'REST_POST', contentType: 'application/json', userAgent: 'publisher-bot/2.1', outcome: 'TAGS_STORED' })
    expect(row.sourceIp).toMatch(/127\.0\.0\.1/)
    expect(Date.now() - row.createdAt.getTime()).toBeLessThan(60_000)
  })

  it('answers 401 to an unknown or revoked key and logs nothing', async () => {
    const before = await t.app.db.postback.count()
    expect((await getPostback(t, { key: 'rh_pub_unknown', caller_number: '4155550100', a: '1' })).status).toBe(401)
    expect((await getPostback(t, { caller_number: '4155550100', a: '1' })).status).toBe(401)
    const key = await publisherKey(t)
    expect((await getPostback(t, { key: key.secret, caller_number: '4155550100', a: '1' })).status).toBe(200)
    ok(await t.gql(`mutation($id:ID!){ revokeApiKey(input:{id:$id}) { id } }`, { id: key.id }))
    const revoked = await getPostback(t, { key: key.secret, caller_number: '4155550100', a: '1' })
    expect(revoked.status).toBe(401)
    expect(revoked.body.error).toMatch(/unknown or revoked/)
    expect(await t.app.db.postback.count()).toBe(before + 1)
  })

  it('answers 413 to a body over the limit and logs the refusal', async () => {
    const a = await postJson(t, '/postback', { caller_number: '4155550100', blob: 'x'.repeat(5000) }, { 'x-ringhook-key': pub })
    expect(a.status).toBe(413)
    expect(a.body.error).toMatch(/larger than the limit of 4096 bytes/)
    const row = await latest()
    expect(row).toMatchObject({ outcome: 'REJECTED', httpStatus: 413 })
    expect((row.problems as { code: string }[])[0]!.code).toBe('BODY_TOO_LARGE')
  })

  it('answers 429 with Retry-After over the key’s rate, and logs it', async () => {
    const key = await publisherKey(t, { rateLimitPerMinute: 3 })
    const statuses: number[] = []
    let last: Awaited<ReturnType<typeof getPostback>> | undefined
    for (let i = 0; i < 5; i++) {
      last = await getPostback(t, { key: key.secret, caller_number: '4155550100', n: String(i) })
      statuses.push(last.status)
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(last!.body.error).toMatch(/per minute/)
    const rows = await t.app.db.postback.findMany({ where: { apiKeyId: key.id }, orderBy: { createdAt: 'asc' } })
    expect(rows.map((r) => r.httpStatus)).toEqual([200, 200, 200, 429, 429])
  })

  it('gives a retry with the same Idempotency-Key the first answer, not a second postback', async () => {
    const headers = { 'x-ringhook-key': pub, 'idempotency-key': 'lead-123' }
    const first = await postJson(t, '/postback', { caller_number: '4155550101', age: 39 }, headers)
    const again = await postJson(t, '/postback', { caller_number: '4155550101', age: 39 }, headers)
    const concurrent = await Promise.all(
      [1, 2, 3].map(() => postJson(t, '/postback', { caller_number: '4155550101', age: 39 }, { ...headers, 'idempotency-key': 'lead-456' })),
    )
    expect(again.status).toBe(first.status)
    expect(again.body).toEqual(first.body)
    expect(new Set(concurrent.map((c) => c.body.postbackId)).size).toBe(1)
    expect(await t.app.db.postback.count({ where: { idempotencyKey: { in: ['lead-123', 'lead-456'] } } })).toBe(2)
    const viaGraphql = (k: string) =>
      t.gql<{ ingestPostback: { postbackId: string } }>(
        `mutation($p:JSON!,$k:String){ ingestPostback(payload:$p, idempotencyKey:$k) { postbackId } }`,
        { p: { caller_number: '4155550101', b: 1 }, k },
        pub,
      )
    expect(ok(await viaGraphql('gql-1')).ingestPostback.postbackId).toBe(ok(await viaGraphql('gql-1')).ingestPostback.postbackId)
  })

  it('refuses bad GraphQL postbacks with a code and field, and logs them too', async () => {
    const r = await t.gql(`mutation{ ingestPostback(payload:{age: 39}) { status } }`, {}, pub)
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'payload' })
    const row = await latest()
    expect(row).toMatchObject({ channel: 'GRAPHQL', outcome: 'REJECTED', rawBody: '{"age":39}' })
    const notObject = await t.gql(`mutation{ ingestPostback(payload:[1]) { status } }`, {}, pub)
    expect(notObject.errors?.[0]?.message).toMatch(/object of fields/)
  })
})
