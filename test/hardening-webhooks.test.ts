// Webhooks under bad configuration and bad tags: nothing a tag holds can leave a pixel unsettled or make
// a request unsendable, and "why did it not fire" uses the same rules as the firing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ok, sleep, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { settledPixels, startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook, startCall } from './fixtures.js'

describe(`webhook hardening on ${testProvider}`, () => {
  let t: TestApp
  let sink: Receiver
  let campaignId: string
  beforeAll(async () => {
    t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '50' } })
    sink = await startReceiver()
  })
  afterAll(async () => {
    await t?.close()
    await sink?.close()
  })
  beforeEach(async () => {
    campaignId = await createCampaign(t, `c-${Math.random()}`)
  })

  let n = 0
  const call = (tags: Record<string, string> = {}, callerNumber = '+14155550170') =>
    startCall(t, { campaignId, uuid: `h-${++n}-${Date.now()}`, callerNumber, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) })
  const create = (input: Record<string, unknown>) =>
    t.gql<{ createWebhook: { id: string; warnings: string[] } }>(`mutation($i:CreateWebhookInput!){ createWebhook(input:$i) { id warnings } }`, {
      i: { campaignId, name: 'w', trigger: 'CALL_START', url: `${sink.url}/x`, ...input },
    })

  it('fails a pixel whose rendered URL is not a URL at once, naming the URL and the token, and never retries it', async () => {
    await createWebhook(t, { campaignId, url: 'http://[buyer_host]:9/ping', maxAttempts: 5, retryBaseDelayMs: 100 })
    for (const [host, token] of [
      [null, /\[buyer_host\] found no value/],
      ['a@b', /\[buyer_host\] was "a@b"/],
      ['[::1]', /\[buyer_host\] was "\[::1\]"/],
      ['h:1/x?', /\[buyer_host\] was "h:1\/x\?"/],
    ] as const) {
      const c = await call(host ? { buyer_host: host } : {})
      const [pixel] = await settledPixels(t, c.uuid, 1)
      expect(pixel!.status, String(host)).toBe('FAILED')
      expect(pixel!.attemptCount).toBe(0)
      expect(pixel!.responseNote).toMatch(/^not sent: the URL "http:\/\/.*:9\/ping" is not a valid URL once its tokens are filled in/)
      expect(pixel!.responseNote).toMatch(token)
      expect(pixel!.request).toMatchObject({ method: 'POST' })
    }
    // still FAILED, with no attempt, after many poll intervals and a lock's worth of waiting
    await sleep(400)
    const pixels = await t.app.db.pixel.findMany({ where: { campaignId } })
    expect(pixels.map((p) => [p.status, p.attemptCount])).toEqual(pixels.map(() => ['FAILED', 0]))
    // test-fire answers with that failure
    const webhookId = pixels[0]!.webhookId
    const fired = ok(
      await t.gql<{ testFireWebhook: { status: string; responseNote: string; attemptCount: number } }>(
        `mutation($w:ID!){ testFireWebhook(input:{webhookId:$w}) { status responseNote attemptCount } }`,
        { w: webhookId },
      ),
    )
    expect(fired.testFireWebhook).toMatchObject({ status: 'FAILED', attemptCount: 0 })
    expect(fired.testFireWebhook.responseNote).toMatch(/\[buyer_host\] found no value/)
  })

  it('sends a tag beyond ASCII in a header percent-encoded as UTF-8', async () => {
    await createWebhook(t, { campaignId, url: `${sink.url}/utf8`, headers: [{ name: 'X-City', value: 'city=[city]' }] })
    const c = await call({ city: 'Zürich 東京' })
    const [pixel] = await settledPixels(t, c.uuid, 1)
    expect(pixel!.status).toBe('SUCCEEDED')
    expect(sink.received('/utf8').at(-1)!.headers['x-city']).toBe('city=Z%C3%BCrich %E6%9D%B1%E4%BA%AC')
  })

  it('refuses headers that would make every delivery fail, naming the field', async () => {
    const cases: [unknown[], string, RegExp][] = [
      [[{ name: 'X-A', value: 'a\u0007b' }], 'headers[0].value', /control characters/],
      [[{ name: 'X-A', value: 'a\u0000b' }], 'headers[0].value', /NUL characters/],
      [[{ name: 'X-A', value: 'Zürich' }], 'headers[0].value', /must be ASCII outside its tokens/],
      [[{ name: 'Content-Length', value: '5' }], 'headers[0].name', /set by the HTTP client/],
      [[{ name: 'transfer-encoding', value: 'chunked' }], 'headers[0].name', /set by the HTTP client/],
      [[{ name: 'Connection', value: 'close' }], 'headers[0].name', /set by the HTTP client/],
      [[{ name: 'Host', value: 'example.com' }], 'headers[0].name', /set by the HTTP client/],
      [[{ name: 'webhook-id', value: 'x' }], 'headers[0].name', /set by Ringhook/],
      [
        [
          { name: 'X-A', value: '1' },
          { name: 'x-a', value: '2' },
        ],
        'headers[1].name',
        /more than once/,
      ],
    ]
    for (const [headers, field, message] of cases) {
      const r = await create({ headers })
      expect(r.errors?.[0]?.extensions, field).toMatchObject({ code: 'BAD_USER_INPUT', field })
      expect(r.errors?.[0]?.message).toMatch(message)
    }
    // text beyond ASCII inside a token (its default) is a value like any other
    expect((await create({ headers: [{ name: 'X-A', value: '[city:Zürich]' }] })).errors).toBeUndefined()
  })

  it('does not send a JSON body that would not be JSON, naming the token; createWebhook says which tokens stand outside quotes', async () => {
    const made = ok(await create({ url: `${sink.url}/json`, body: '{"n":[num],"s":"[num]"}' }))
    expect(made.createWebhook.warnings).toEqual([expect.stringMatching(/^body: \[num\] stands outside a JSON string/)])
    expect(ok(await create({ url: `${sink.url}/json`, body: '{"s":"[num]"}', name: 'quoted' })).createWebhook.warnings).toEqual([])
    await t.gql(`mutation($i:DeleteWebhookInput!){ deleteWebhook(input:$i) { id } }`, {
      i: { id: (await t.app.db.webhook.findFirstOrThrow({ where: { campaignId, name: 'quoted' } })).id },
    })
    const before = sink.received('/json').length
    const bad = await call({ num: 'abc' })
    const [failed] = await settledPixels(t, bad.uuid, 1)
    expect(failed!.status).toBe('FAILED')
    expect(failed!.attemptCount).toBe(0)
    expect(failed!.responseNote).toMatch(/the JSON body would not be JSON: \[num\] stands outside quotes and was "abc"/)
    const missing = await call({})
    expect((await settledPixels(t, missing.uuid, 1))[0]!.responseNote).toMatch(/\[num\] stands outside quotes and was ""/)
    expect(sink.received('/json').length).toBe(before)
    const good = await call({ num: '12.5' })
    expect((await settledPixels(t, good.uuid, 1))[0]!.status).toBe('SUCCEEDED')
    expect(JSON.parse(sink.received('/json').at(-1)!.body)).toEqual({ n: 12.5, s: '12.5' })
  })

  it('renders tokens named like Object members as the tags they name (none here), never as what Object holds', async () => {
    await createWebhook(t, { campaignId, url: `${sink.url}/proto?c=[constructor]&p=[__proto__]&h=[hasOwnProperty]`, body: '{"c":"[constructor]"}' })
    const c = await call({})
    const [pixel] = await settledPixels(t, c.uuid, 1)
    expect(pixel!.status).toBe('SUCCEEDED')
    expect(sink.received('/proto').at(-1)!.url).toBe('/proto?c=&p=&h=')
    expect(pixel!.unresolvedTokens).toEqual(['[constructor]', '[__proto__]', '[hasOwnProperty]'])
    const named = await call({ constructor: 'yes' })
    await settledPixels(t, named.uuid, 1)
    expect(sink.received('/proto').at(-1)!.url).toBe('/proto?c=yes&p=&h=')
  })

  it('settles a pixel whose answer nests deeper than 32 levels, noting that it was not read', async () => {
    const depth = 5000
    sink.on('/deep', { body: `{"a":${'['.repeat(depth)}1${']'.repeat(depth)},"b":1}` })
    const all = await createWebhook(t, { campaignId, url: `${sink.url}/deep`, responseMapping: { mode: 'ALL' } })
    const paths = await createWebhook(t, {
      campaignId,
      url: `${sink.url}/deep`,
      responseMapping: {
        mode: 'PATHS',
        paths: [
          { path: 'a', tag: 'a' },
          { path: 'b', tag: 'b' },
        ],
      },
    })
    const c = await call({})
    const pixels = await settledPixels(t, c.uuid, 2)
    const of = (webhookId: string) => pixels.find((p) => p.webhookId === webhookId)!
    expect(pixels.map((p) => p.status)).toEqual(['SUCCEEDED', 'SUCCEEDED'])
    expect(of(all).responseNote).toBe('response JSON nests more than 32 levels deep; not parsed')
    expect(of(paths).responseNote).toBe('path a nests more than 32 levels deep; skipped')
    expect(of(paths).tagsApplied).toEqual({ b: '1' })
  })

  it('keeps an answer holding NUL and writes the tags it maps, as every store can hold them', async () => {
    sink.on('/nul-json', { body: '{"bid":"1\\u0000 2"}' })
    sink.on('/nul-text', { headers: { 'content-type': 'text/plain' }, body: 'a\u0000b' })
    const json = await createWebhook(t, { campaignId, url: `${sink.url}/nul-json`, responseMapping: { mode: 'ALL' } })
    const text = await createWebhook(t, { campaignId, url: `${sink.url}/nul-text` })
    const c = await call({})
    const pixels = await settledPixels(t, c.uuid, 2)
    const of = (webhookId: string) => pixels.find((p) => p.webhookId === webhookId)!
    expect(pixels.map((p) => p.status)).toEqual(['SUCCEEDED', 'SUCCEEDED'])
    expect(of(json).tagsApplied).toEqual({ bid: '1\ufffd 2' })
    expect(of(text).attempts[0]!.responseBody).toBe('a\ufffdb')
  })

  it('cancels a timer when its call ends before it, and says so at once', async () => {
    const timer = await createWebhook(t, { campaignId, trigger: 'TIMER', timerSeconds: 60, url: `${sink.url}/timer` })
    const c = await call({})
    ok(await t.gql(`mutation($u:String!){ answerCall(input:{uuid:$u}) { id } }`, { u: c.uuid }))
    const evaluation = async () =>
      ok(
        await t.gql<{ call: { webhookEvaluations: { webhook: { id: string }; fired: boolean; reason: string | null; pixel: { status: string } | null }[] } }>(
          `query($u:String!){ call(uuid:$u) { webhookEvaluations { webhook { id } fired reason pixel { status } } } }`,
          { u: c.uuid },
        ),
      ).call.webhookEvaluations.find((e) => e.webhook.id === timer)!
    const scheduled = await evaluation()
    expect(scheduled).toMatchObject({ fired: false, pixel: { status: 'PENDING' } })
    expect(scheduled.reason).toMatch(/^timer comes due at .* \(60 s after the answer\); not sent yet$/)
    ok(await t.gql(`mutation($u:String!){ endCall(input:{uuid:$u}) { id } }`, { u: c.uuid }))
    // at once: the end event cancelled it, nothing waits for the timer's moment
    const pixel = await t.app.db.pixel.findFirstOrThrow({ where: { webhookId: timer } })
    expect(pixel).toMatchObject({ status: 'CANCELLED', nextAttemptAt: null, lockedUntil: null })
    expect(pixel.completedAt).not.toBeNull()
    expect(pixel.responseNote).toMatch(/^call ended at .*, before the timer \(.*\)$/)
    const ended = await evaluation()
    expect(ended).toMatchObject({ fired: false, pixel: { status: 'CANCELLED' } })
    expect(ended.reason).toMatch(/before the timer/)
    expect(sink.received('/timer')).toHaveLength(0)
  })

  it('reports dedupe by the same window the firing used: at the trigger, not at the call start, and never by later pixels', async () => {
    const caller = '+14155550177'
    // B ends before the webhook exists; C, later, fires it for the same caller
    const b = await call({}, caller)
    ok(await t.gql(`mutation($u:String!){ endCall(input:{uuid:$u}) { id } }`, { u: b.uuid }))
    const ending = await createWebhook(t, { campaignId, trigger: 'CALL_END', dedupeWindowSeconds: 3600, url: `${sink.url}/end` })
    const c = await call({}, caller)
    ok(await t.gql(`mutation($u:String!){ endCall(input:{uuid:$u}) { id } }`, { u: c.uuid }))
    await settledPixels(t, c.uuid, 1)
    // D, a long call started before C's pixel and ended after it: deduped by its end, inside the window
    const d = await startCall(t, { campaignId, uuid: `h-long-${Date.now()}`, callerNumber: caller, startedAt: new Date(Date.now() - 7200_000).toISOString() })
    ok(await t.gql(`mutation($u:String!){ endCall(input:{uuid:$u}) { id } }`, { u: d.uuid }))
    const reasons = async (uuid: string) =>
      ok(
        await t.gql<{ call: { webhookEvaluations: { webhook: { id: string }; fired: boolean; reason: string | null }[] } }>(
          `query($u:String!){ call(uuid:$u) { webhookEvaluations { webhook { id } fired reason } } }`,
          { u: uuid },
        ),
      ).call.webhookEvaluations.find((e) => e.webhook.id === ending)!
    expect(await t.app.db.pixel.count({ where: { webhookId: ending } })).toBe(1)
    expect(await reasons(b.uuid)).toMatchObject({ fired: false, reason: expect.stringMatching(/^not fired when the trigger was reached/) })
    expect(await reasons(c.uuid)).toMatchObject({ fired: true, reason: null })
    expect(await reasons(d.uuid)).toMatchObject({
      fired: false,
      reason: expect.stringMatching(/^deduped: fired for caller \+14155550177 within the last 3600 s/),
    })
  })
})
