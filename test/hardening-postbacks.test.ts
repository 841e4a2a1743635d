// Bad postbacks found by an outside probe: each answered with a clear 4xx naming the problem, and logged
// whenever a valid key can be read from it (nothing a publisher sent is lost).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { base, postJson, request } from './helpers/postback.js'
import { createCampaign, startCall } from './fixtures.js'

const nested = (depth: number, open: string, close: string, leaf = '1') => open.repeat(depth) + leaf + close.repeat(depth)

describe(`postback hardening on ${testProvider}`, () => {
  let t: TestApp
  let pub: string
  let campaignId: string
  // the default body limit
  const LIMIT = 65536
  beforeAll(async () => {
    t = await startTestApp()
    pub = t.company.publisherKey
    campaignId = await createCampaign(t)
  })
  afterAll(async () => t?.close())

  const latest = () => t.app.db.postback.findFirstOrThrow({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] })
  const count = () => t.app.db.postback.count()
  const problemCodes = (row: { problems: unknown }) => (row.problems as { code: string }[]).map((p) => p.code)

  it('refuses a payload nested deeper than 32 levels with 400 TOO_DEEP, on every door, and logs it as received', async () => {
    const body = `{"caller_number":"4155550100","x":${nested(5000, '{"a":', '}')}}`
    expect(body.length).toBeLessThan(LIMIT)
    const deepArray = `{"key":"${pub}","caller_number":"4155550100","x":${nested(20_000, '[', ']')}}`
    for (const [path, text] of [
      [`/postback?key=${pub}`, body],
      ['/data_writing', deepArray],
    ] as const) {
      const before = await count()
      const a = await request(`${base(t.url)}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
      expect(a.status, path).toBe(400)
      expect(a.body.error).toMatch(/more than 32 levels deep/)
      expect(await count()).toBe(before + 1)
      const row = await latest()
      expect(problemCodes(row)).toEqual(['TOO_DEEP'])
      expect(row.rawBody).toBe(text.replace(pub, '[REDACTED]'))
    }
    // 32 levels are read
    const fine = await postJson(t, `/postback?key=${pub}`, `{"caller_number":"4155550100","x":${nested(31, '{"a":', '}')}}`)
    expect(fine.status).toBe(200)
    expect(Object.keys(fine.body.tags)).toEqual([`x${'_a'.repeat(31)}`])
    // the GraphQL door, with the payload in variables (what a document literal cannot reach: the token limit refuses it first)
    const before = await count()
    // the request's JSON written as text: JSON.stringify itself overflows on such nesting
    const viaGraphql = await request(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pub}` },
      body: `{"query":"mutation($p:JSON!){ ingestPostback(payload:$p) { outcome } }","variables":{"p":${body}}}`,
    })
    expect(viaGraphql.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'payload' })
    expect(viaGraphql.body.errors[0].message).toMatch(/more than 32 levels deep/)
    expect(await count()).toBe(before + 1)
    // logged as JSON text of the payload, every level of it
    expect((await latest()).rawBody).toBe(body)
  })

  it('answers a malformed escape in the /data_writing path with 400 naming it, and logs the postback when the key before it is valid', async () => {
    const before = await count()
    const noKey = await request(`${base(t.url)}/data_writing/%ZZ?caller_number=4155550100`)
    expect(noKey.status).toBe(400)
    expect(noKey.body.error).toMatch(/malformed percent-escape "%ZZ"/)
    expect(await count()).toBe(before)
    for (const tail of ['%', '%FF', '%G1']) {
      const n = await count()
      const a = await request(`${base(t.url)}/data_writing/${pub}${tail}?caller_number=4155550100&a=1`)
      expect(a.status, tail).toBe(400)
      expect(a.body.problems).toEqual([expect.objectContaining({ code: 'MALFORMED_URL', field: 'key' })])
      expect(a.body.error).toContain(`"${tail}"`)
      expect(await count()).toBe(n + 1)
      expect((await latest()).apiKeyId).toBeTruthy()
    }
  })

  it('names the real problem of a /data_writing body it cannot read (413, 415, 400), saying the key in it could not be read', async () => {
    const cases: [RequestInit, number, RegExp][] = [
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"key":"${pub}","x":"${'a'.repeat(LIMIT)}"}` }, 413, /larger than the limit/],
      [{ method: 'POST', headers: { 'content-type': 'text/plain' }, body: `key=${pub}` }, 415, /content type "text\/plain" is not supported/],
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"key":"${pub}",` }, 400, /invalid JSON body/],
    ]
    for (const [init, status, problem] of cases) {
      const a = await request(`${base(t.url)}/data_writing`, init)
      expect(a.status).toBe(status)
      expect(a.body.error).toMatch(problem)
      expect(a.body.error).toMatch(/the key could not be read, so this postback is not logged/)
    }
    // with the key outside the body the same problem is logged
    const before = await count()
    const logged = await request(`${base(t.url)}/postback`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-ringhook-key': pub }, body: 'a=1' })
    expect(logged.status).toBe(415)
    expect(await count()).toBe(before + 1)
  })

  it('takes __proto__ and constructor as tags like any key, on the postback doors and the call-event door alike', async () => {
    const call = await startCall(t, { campaignId, uuid: 'proto-1', callerNumber: '+14155550161' })
    const byGet = await request(`${base(t.url)}/postback?key=${pub}&caller_number=4155550161&__proto__=g&constructor=c`)
    expect(Object.entries(byGet.body.tags)).toEqual([
      ['__proto__', 'g'],
      ['constructor', 'c'],
    ])
    const byJson = await postJson(t, `/postback?key=${pub}`, '{"call_uuid":"proto-1","__proto__":"j","toString":"s"}')
    expect(Object.entries(byJson.body.tags)).toEqual([
      ['__proto__', 'j'],
      ['tostring', 's'],
    ])
    const event = await request(`${base(t.url)}/call-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.company.adminKey}`, 'content-type': 'application/json' },
      body: '{"event":"conversion","uuid":"proto-1","tags":{"__proto__":"e","valueOf":"v"}}',
    })
    expect(event.status).toBe(200)
    const tags = await t.app.db.tag.findMany({ where: { callId: call.id }, orderBy: { key: 'asc' } })
    expect(tags.map((x) => [x.key, x.value, x.source])).toEqual([
      ['__proto__', 'e', 'CALL_EVENT'],
      ['constructor', 'c', 'POSTBACK'],
      ['tostring', 's', 'POSTBACK'],
      ['valueof', 'v', 'CALL_EVENT'],
    ])
  })

  it('refuses a GET query over the body limit with 414 and logs it; a request line past the header limit gets 431 in JSON', async () => {
    const before = await count()
    const long = await request(`${base(t.url)}/postback?key=${pub}&caller_number=4155550100&a=${'x'.repeat(LIMIT)}`)
    expect(long.status).toBe(414)
    expect(long.body.problems[0]).toMatchObject({ code: 'BODY_TOO_LARGE' })
    expect(await count()).toBe(before + 1)
    expect((await latest()).rawBody).toMatch(/not kept: larger than/)
    const huge = await fetch(`${base(t.url)}/postback?key=${pub}&a=${'x'.repeat(LIMIT + 20 * 1024)}`)
    expect(huge.status).toBe(431)
    expect((await huge.json()).error).toMatch(/request line and headers are larger than \d+ bytes/)
  })

  it('refuses a caller number with an extension, naming it, on postbacks and call events', async () => {
    const a = await request(`${base(t.url)}/postback?key=${pub}&caller_number=${encodeURIComponent('4155550100 ext 5')}&a=1`)
    expect(a.status).toBe(400)
    expect(a.body.problems[0]).toMatchObject({ code: 'INVALID_CALLER_NUMBER', field: 'caller_number' })
    expect(a.body.error).toMatch(/has an extension \(5\)/)
    expect((await latest()).outcome).toBe('REJECTED')
    const event = await request(`${base(t.url)}/call-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.company.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'start', campaignId, callerNumber: '(415) 555-0100 x12' }),
    })
    expect(event.status).toBe(400)
    expect(event.body).toMatchObject({ code: 'BAD_USER_INPUT', field: 'callerNumber' })
    expect(event.body.error).toMatch(/extension \(12\)/)
  })

  it('stores NUL characters and unpaired surrogates as U+FFFD and says so (PostgreSQL cannot hold them), and refuses an Idempotency-Key it cannot index', async () => {
    const a = await postJson(t, `/postback?key=${pub}`, '{"caller_number":"4155550100","a":"x\\u0000y","b\\u0000":"z"}')
    expect(a.status).toBe(200)
    expect(a.body.tags).toEqual({ a: 'x\ufffdy' })
    expect(a.body.problems.map((p: { code: string }) => p.code)).toEqual(expect.arrayContaining(['CHARACTERS_REPLACED', 'MALFORMED_KEY']))
    const surrogate = await postJson(t, `/postback?key=${pub}`, '{"caller_number":"4155550100","s":"\\ud800x","\\udc00k":"v"}')
    expect(surrogate.status).toBe(200)
    expect(surrogate.body.tags.s).toBe('\ufffdx')
    expect(surrogate.body.problems.map((p: { code: string }) => p.code)).toEqual(expect.arrayContaining(['CHARACTERS_REPLACED', 'MALFORMED_KEY']))
    const raw = await request(`${base(t.url)}/postback?key=${pub}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'caller_number=4155550100&c=1\u0000',
    })
    expect(raw.status).toBe(200)
    expect((await latest()).rawBody).toBe('caller_number=4155550100&c=1\ufffd')
    const before = await count()
    const idem = await request(`${base(t.url)}/postback?key=${pub}&caller_number=4155550100&a=1`, { headers: { 'idempotency-key': 'k'.repeat(3000) } })
    expect(idem.status).toBe(400)
    expect(idem.body.problems[0]).toMatchObject({ code: 'INVALID_IDEMPOTENCY_KEY', field: 'idempotencyKey' })
    expect(await count()).toBe(before + 1)
    expect((await latest()).idempotencyKey).toBeNull()
  })

  it('writes lastUsedAt of a key when it is used', async () => {
    const d = ok(
      await t.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
        `mutation { createApiKey(input:{name:"fresh", role:PUBLISHER}) { secret apiKey { id } } }`,
      ),
    )
    const { secret, apiKey } = d.createApiKey
    expect((await t.app.db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).lastUsedAt).toBeNull()
    await request(`${base(t.url)}/postback?key=${secret}&caller_number=4155550100&a=1`)
    let used: Date | null = null
    for (let i = 0; i < 50 && !used; i++) {
      used = (await t.app.db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).lastUsedAt
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(used!.getTime()).toBeGreaterThan(Date.now() - 10_000)
    const listed = ok(await t.gql<{ apiKeys: { id: string; lastUsedAt: string | null }[] }>(`{ apiKeys { id lastUsedAt } }`)).apiKeys
    expect(listed.find((k) => k.id === apiKey.id)!.lastUsedAt).toBe(used!.toISOString())
  })
})
