import { createHash } from 'node:crypto'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { collect, ok, sleep, startTestApp, until, untilSubscribed, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { settledPixels, startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook, startCall } from './fixtures.js'

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`

describe(`webhook delivery on ${testProvider}`, () => {
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

  const webhook = (input: Record<string, unknown>) => createWebhook(t, { campaignId, name: 'w', ...input })

  const settled = (callUuid: string, count: number) => settledPixels(t, callUuid, count)

  it('fires each trigger on its event with tokens rendered for URL, headers and JSON body, and records unresolved tokens', async () => {
    await webhook({
      trigger: 'CALL_START',
      url: `${sink.url}/start?n=[caller_number]&s=[caller_state|geo_state:none]&q=[quote]`,
      headers: [{ name: 'X-Campaign', value: '[campaign_id]' }],
      body: '{"uuid":"[call_uuid]","quote":"[quote]","missing":"[nope]"}',
    })
    await webhook({ trigger: 'ANSWERED', url: `${sink.url}/answered`, method: 'GET' })
    await webhook({
      trigger: 'CALL_END',
      url: `${sink.url}/end?d=[call_duration]`,
      method: 'PUT',
      bodyType: 'FORM',
      body: 'who=[caller_number]&d=[call_duration]',
    })
    await webhook({ trigger: 'CONVERSION', url: `${sink.url}/conversion`, method: 'PATCH', bodyType: 'TEXT', body: 'sale [sale_amount]' })
    const call = await startCall(t, {
      campaignId,
      uuid: `trig-${campaignId}`,
      callerNumber: '+14155550150',
      startedAt: new Date(Date.now() - 120_000).toISOString(),
      tags: [{ key: 'quote', value: 'say "hi" & bye' }],
    })
    const answeredAt = Date.now() - 100_000
    ok(
      await t.gql(`mutation($u:String!,$a:DateTime){ answerCall(input:{uuid:$u, answeredAt:$a}) { id } }`, {
        u: call.uuid,
        a: new Date(answeredAt).toISOString(),
      }),
    )
    ok(
      await t.gql(`mutation($u:String!,$e:DateTime){ endCall(input:{uuid:$u, endedAt:$e}) { id } }`, {
        u: call.uuid,
        e: new Date(answeredAt + 90_000).toISOString(),
      }),
    )
    ok(await t.gql(`mutation($u:String!){ convertCall(input:{uuid:$u, tags:[{key:"sale_amount", value:"99.50"}]}) { id } }`, { u: call.uuid }))
    const pixels = await settled(call.uuid, 4)
    expect(pixels.map((p) => [p.trigger, p.status])).toEqual([
      ['CALL_START', 'SUCCEEDED'],
      ['ANSWERED', 'SUCCEEDED'],
      ['CALL_END', 'SUCCEEDED'],
      ['CONVERSION', 'SUCCEEDED'],
    ])

    const start = sink.received('/start').at(-1)!
    expect(start.method).toBe('POST')
    expect(start.url).toBe(`/start?n=%2B14155550150&s=none&q=say%20%22hi%22%20%26%20bye`)
    expect(start.headers['x-campaign']).toBe(campaignId)
    expect(start.headers['content-type']).toBe('application/json')
    expect(JSON.parse(start.body)).toEqual({ uuid: call.uuid, quote: 'say "hi" & bye', missing: '' })
    expect(pixels[0]!.unresolvedTokens).toEqual(['[nope]'])
    expect(sink.received('/answered').at(-1)!.method).toBe('GET')
    const end = sink.received('/end').at(-1)!
    expect([end.method, end.url, end.body]).toEqual(['PUT', '/end?d=90', 'who=%2B14155550150&d=90'])
    expect(end.headers['content-type']).toBe('application/x-www-form-urlencoded')
    const conversion = sink.received('/conversion').at(-1)!
    expect([conversion.method, conversion.body]).toEqual(['PATCH', 'sale 99.50'])
  })

  it('runs token functions before escaping: a hashed e-mail in the JSON body, the caller digits in the URL', async () => {
    await webhook({
      trigger: 'CALL_START',
      url: `${sink.url}/capi/[digits(caller_number)]?day=[date(call_start, "%Y-%m-%d %H:%M", "America/New_York")]&b=[base64(quote)]`,
      headers: [{ name: 'X-Phone-Hash', value: '[sha256(digits(e164(phone)))|sha256(digits(caller_number)):none]' }],
      body: '{"em":"[sha256(lower(trim(email)))]","ph":"[sha256(e164(phone))|sha256(caller_number)]","t":[unix(call_start)],"bad":"[e164(phone)]"}',
    })
    const call = await startCall(t, {
      campaignId,
      uuid: `fn-${campaignId}`,
      callerNumber: '+1 (650) 555-1212',
      startedAt: '2024-03-10T07:00:00.000Z',
      tags: [
        { key: 'email', value: '  John_Smith@gmail.com ' },
        { key: 'phone', value: 'not a phone' },
        { key: 'quote', value: 'subjects?_d>' },
      ],
    })
    const [pixel] = await settled(call.uuid, 1)
    expect(pixel!.status).toBe('SUCCEEDED')
    const got = sink.received('/capi/16505551212').at(-1)!
    expect(got.url).toBe('/capi/16505551212?day=2024-03-10%2003%3A00&b=c3ViamVjdHM%2FX2Q%2B')
    // Meta's documented examples for em and ph (Conversions API, customer information parameters)
    expect(JSON.parse(got.body)).toEqual({
      em: '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f',
      ph: createHash('sha256').update('+16505551212').digest('hex'),
      t: 1710054000,
      bad: '',
    })
    expect(got.headers['x-phone-hash']).toBe('e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176')
    expect(pixel!.unresolvedTokens).toEqual(['[e164(phone)] (e164: "not a phone" is not a phone number)'])
  })

  it('fires only when the matches hold, and says why not with the actual value', async () => {
    const caOnly = await webhook({
      url: `${sink.url}/ca`,
      matches: [
        {
          conditions: [
            { key: 'state', operator: 'EQUALS', value: 'CA' },
            { key: 'age', operator: 'GREATER_THAN', value: '30' },
          ],
        },
      ],
    })
    const disabled = await webhook({ url: `${sink.url}/off`, enabled: false })
    const onEnd = await webhook({ url: `${sink.url}/later`, trigger: 'CALL_END' })
    const yes = await startCall(t, {
      campaignId,
      uuid: `m-yes-${campaignId}`,
      callerNumber: '+14155550151',
      tags: [
        { key: 'state', value: 'ca' },
        { key: 'age', value: '41' },
      ],
    })
    const no = await startCall(t, {
      campaignId,
      uuid: `m-no-${campaignId}`,
      callerNumber: '+14155550152',
      tags: [
        { key: 'state', value: 'CA' },
        { key: 'age', value: '22' },
      ],
    })
    await settled(yes.uuid, 1)
    await sleep(200)
    expect(await t.app.db.pixel.count({ where: { callId: no.id } })).toBe(0)
    type Evaluation = { webhook: { id: string }; fired: boolean; reason: string | null; failedConditions: { key: string; actual: string | null }[] }
    const evaluations = async (uuid: string) =>
      ok(
        await t.gql<{ call: { webhookEvaluations: Evaluation[] } }>(
          `query($u:String!){ call(uuid:$u) { webhookEvaluations { webhook { id } fired reason failedConditions { key actual } } } }`,
          { u: uuid },
        ),
      ).call.webhookEvaluations
    const forNo = await evaluations(no.uuid)
    const byId = (list: Evaluation[], id: string) => list.find((e) => e.webhook.id === id)!
    expect(byId(forNo, caOnly)).toMatchObject({ fired: false, failedConditions: [{ key: 'age', actual: '22' }] })
    expect(byId(forNo, caOnly).reason).toMatch(/age GREATER_THAN "30", but age is "22"/)
    expect(byId(forNo, disabled)).toMatchObject({ fired: false, reason: 'webhook is disabled' })
    expect(byId(forNo, onEnd).reason).toMatch(/trigger CALL_END not reached/)
    expect(byId(await evaluations(yes.uuid), caOnly)).toMatchObject({ fired: true, reason: null })
  })

  it('signs per Standard Webhooks when the webhook has a secret (verified by the standardwebhooks package)', async () => {
    await webhook({ url: `${sink.url}/signed`, signingSecret: SECRET, body: '{"n":"[caller_number]"}' })
    const call = await startCall(t, { campaignId, uuid: `sig-${campaignId}` })
    const [pixel] = await settled(call.uuid, 1)
    const got = sink.received('/signed').at(-1)!
    expect(got.headers['webhook-id']).toBe(pixel!.id)
    const verified = new StandardWebhook(SECRET).verify(got.body, {
      'webhook-id': got.headers['webhook-id'] as string,
      'webhook-timestamp': got.headers['webhook-timestamp'] as string,
      'webhook-signature': got.headers['webhook-signature'] as string,
    })
    expect(verified).toEqual({ n: '+14155550100' })
    expect(() => new StandardWebhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got.body, got.headers as Record<string, string>)).toThrow()
  })

  it('retries 5xx and then succeeds; does not retry other 4xx; honours Retry-After on 429', async () => {
    sink.on('/flaky', { status: 500, body: 'boom' }, { status: 200 })
    sink.on('/bad', { status: 400, body: '{"error":"bad"}' })
    sink.on('/busy', { status: 429, headers: { 'retry-after': '1' } }, { status: 200 })
    await webhook({ url: `${sink.url}/flaky`, retryBaseDelayMs: 100 })
    await webhook({ url: `${sink.url}/bad`, retryBaseDelayMs: 100 })
    await webhook({ url: `${sink.url}/busy`, retryBaseDelayMs: 100 })
    const call = await startCall(t, { campaignId, uuid: `retry-${campaignId}` })
    const pixels = await settled(call.uuid, 3)
    const byPath = (p: string) => pixels.find((x) => (x.request as { url: string }).url.includes(p))!
    expect(byPath('/flaky')).toMatchObject({ status: 'SUCCEEDED', attemptCount: 2 })
    expect(byPath('/flaky').attempts.map((a) => a.statusCode)).toEqual([500, 200])
    expect(byPath('/flaky').attempts[0]!.responseBody).toBe('boom')
    expect(byPath('/bad')).toMatchObject({ status: 'FAILED', attemptCount: 1, responseNote: 'not retried: HTTP 400' })
    const busy = byPath('/busy')
    expect(busy.attempts.map((a) => a.statusCode)).toEqual([429, 200])
    expect(busy.attempts[1]!.startedAt.getTime() - busy.attempts[0]!.startedAt.getTime()).toBeGreaterThanOrEqual(950)
  })

  it('times out a hanging receiver, records it, retries, and gives up after maxAttempts', async () => {
    sink.on('/hang', { hang: true })
    await webhook({ url: `${sink.url}/hang`, timeoutMs: 300, maxAttempts: 2, retryBaseDelayMs: 100 })
    const call = await startCall(t, { campaignId, uuid: `hang-${campaignId}` })
    const [pixel] = await settled(call.uuid, 1)
    expect(pixel).toMatchObject({ status: 'FAILED', attemptCount: 2 })
    expect(pixel!.attempts.map((a) => a.error)).toEqual(['timed out after 300 ms', 'timed out after 300 ms'])
    expect(pixel!.attempts[0]!.durationMs).toBeGreaterThanOrEqual(280)
    expect(pixel!.responseNote).toMatch(/gave up after 2 attempt\(s\): timed out/)
  })

  it('refuses a loopback target outside ALLOWED_TARGETS without sending anything', async () => {
    const before = sink.requests.length
    await webhook({ url: `http://127.0.0.2:${sink.port}/private` })
    const call = await startCall(t, { campaignId, uuid: `ssrf-${campaignId}` })
    const [pixel] = await settled(call.uuid, 1)
    expect(pixel).toMatchObject({ status: 'FAILED', attemptCount: 1 })
    expect(pixel!.attempts[0]!.error).toBe('refused: 127.0.0.2 is loopback and not in ALLOWED_TARGETS')
    expect(sink.requests.length).toBe(before)
  })

  it('writes response tags on the call; startCall can wait for start webhooks so routing sees them', async () => {
    sink.on('/bid', { body: JSON.stringify({ bid: { price: 12.5, buyer: 'acme' }, accepted: true }), delayMs: 50 })
    sink.on('/html', { headers: { 'content-type': 'text/html' }, body: '<p>ok</p>' })
    await webhook({
      url: `${sink.url}/bid`,
      responseMapping: {
        mode: 'PATHS',
        prefix: 'buyer',
        paths: [
          { path: 'bid.price', tag: 'price' },
          { path: 'bid.missing', tag: 'x' },
        ],
      },
    })
    await webhook({ url: `${sink.url}/bid?all=1`, responseMapping: { mode: 'ALL' } })
    await webhook({ url: `${sink.url}/html`, responseMapping: { mode: 'ALL' } })
    const started = ok(
      await t.gql<{ startCall: { uuid: string; tags: { key: string; value: string; source: string }[] } }>(
        `mutation($i:StartCallInput!){ startCall(input:$i) { uuid tags { key value source } } }`,
        { i: { campaignId, callerNumber: '4155550160', uuid: `bid-${campaignId}`, waitForWebhooksMs: 5000 } },
      ),
    ).startCall
    expect(started.tags).toEqual(
      expect.arrayContaining([
        { key: 'buyer_price', value: '12.5', source: 'WEBHOOK' },
        { key: 'bid_buyer', value: 'acme', source: 'WEBHOOK' },
        { key: 'accepted', value: 'true', source: 'WEBHOOK' },
      ]),
    )
    const pixels = await settled(started.uuid, 3)
    const note = (p: string) => pixels.find((x) => (x.request as { url: string }).url.endsWith(p))!
    expect(note('/bid')).toMatchObject({ tagsApplied: { buyer_price: '12.5' }, responseNote: 'path bid.missing not found' })
    expect(note('/html')).toMatchObject({ status: 'SUCCEEDED', tagsApplied: null, responseNote: 'response is not JSON (text/html)' })
  })

  it('keeps a response body up to 64 KB and marks it cut', async () => {
    sink.on('/big', { body: 'x'.repeat(70_000), headers: { 'content-type': 'text/plain' } })
    await webhook({ url: `${sink.url}/big` })
    const call = await startCall(t, { campaignId, uuid: `big-${campaignId}` })
    const [pixel] = await settled(call.uuid, 1)
    expect(pixel!.attempts[0]!.responseBody!.length).toBe(65_536)
    expect(pixel!.attempts[0]!.responseTruncated).toBe(true)
  })

  it('fires a timer N seconds into the answered call, and not when the call ended before it', async () => {
    await webhook({ trigger: 'TIMER', timerSeconds: 1, url: `${sink.url}/timer?u=[call_uuid]` })
    const stays = await startCall(t, { campaignId, uuid: `timer-stays-${campaignId}` })
    const leaves = await startCall(t, { campaignId, uuid: `timer-leaves-${campaignId}` })
    const answeredAt = Date.now()
    ok(await t.gql(`mutation($u:String!){ answerCall(input:{uuid:$u}) { id } }`, { u: stays.uuid }))
    ok(await t.gql(`mutation($u:String!){ answerCall(input:{uuid:$u}) { id } }`, { u: leaves.uuid }))
    ok(await t.gql(`mutation($u:String!){ endCall(input:{uuid:$u}) { id } }`, { u: leaves.uuid }))
    const [fired] = await settled(stays.uuid, 1)
    expect(fired).toMatchObject({ trigger: 'TIMER', status: 'SUCCEEDED' })
    expect(fired!.attempts[0]!.startedAt.getTime() - answeredAt).toBeGreaterThanOrEqual(900)
    const [cancelled] = await settled(leaves.uuid, 1)
    expect(cancelled).toMatchObject({ trigger: 'TIMER', status: 'CANCELLED', attemptCount: 0 })
    expect(cancelled!.responseNote).toMatch(/call ended at .* before the timer/)
    expect(sink.received('/timer').map((r) => r.url)).toEqual([`/timer?u=${stays.uuid}`])
  })

  it('dedupes per webhook and caller within the window, and says so', async () => {
    const id = await webhook({ url: `${sink.url}/dedupe`, dedupeWindowSeconds: 3600 })
    const first = await startCall(t, { campaignId, uuid: `dd-1-${campaignId}`, callerNumber: '+14155550170' })
    const second = await startCall(t, { campaignId, uuid: `dd-2-${campaignId}`, callerNumber: '+14155550170' })
    const other = await startCall(t, { campaignId, uuid: `dd-3-${campaignId}`, callerNumber: '+14155550171' })
    await settled(first.uuid, 1)
    await settled(other.uuid, 1)
    expect(await t.app.db.pixel.count({ where: { callId: second.id } })).toBe(0)
    const evaluations = ok(
      await t.gql<{ call: { webhookEvaluations: { webhook: { id: string }; reason: string }[] } }>(
        `query($u:String!){ call(uuid:$u) { webhookEvaluations { webhook { id } reason } } }`,
        { u: second.uuid },
      ),
    ).call.webhookEvaluations
    expect(evaluations.find((e) => e.webhook.id === id)!.reason).toMatch(/deduped: fired for caller \+14155550170 within the last 3600 s/)
  })

  it('resends a pixel, test-fires a webhook, and answers the pixel queries', async () => {
    const id = await webhook({ url: `${sink.url}/again?s=[state]`, body: '{"s":"[state]"}' })
    const call = await startCall(t, { campaignId, uuid: `again-${campaignId}`, tags: [{ key: 'state', value: 'CA' }] })
    const [first] = await settled(call.uuid, 1)
    const resent = ok(
      await t.gql<{ resendPixel: { id: string; trigger: string } }>(`mutation($id:ID!){ resendPixel(input:{id:$id}) { id trigger } }`, { id: first!.id }),
    ).resendPixel
    expect(resent.trigger).toBe('RESEND')
    await settled(call.uuid, 2)
    const tested = ok(
      await t.gql<{
        testFireWebhook: { trigger: string; status: string; request: { url: string; body: string }; attempts: { statusCode: number; responseBody: string }[] }
      }>(
        `mutation($w:ID!){ testFireWebhook(input:{webhookId:$w, tags:[{key:"state", value:"NV"}]}) { trigger status request attempts { statusCode responseBody } } }`,
        { w: id },
      ),
    ).testFireWebhook
    expect(tested).toMatchObject({
      trigger: 'TEST',
      status: 'SUCCEEDED',
      request: { url: `${sink.url}/again?s=NV`, body: '{"s":"NV"}' },
      attempts: [{ statusCode: 200, responseBody: '{"ok":true}' }],
    })

    const summary = ok(
      await t.gql<{ call: { pixelSummary: Record<string, number>; pixels: { trigger: string }[] } }>(
        `query($u:String!){ call(uuid:$u) { pixelSummary { count succeeded failed pending cancelled } pixels { trigger } } }`,
        { u: call.uuid },
      ),
    ).call
    expect(summary.pixelSummary).toEqual({ count: 2, succeeded: 2, failed: 0, pending: 0, cancelled: 0 })
    expect(summary.pixels.map((p) => p.trigger)).toEqual(['CALL_START', 'RESEND'])
    const overview = ok(
      await t.gql<{ webhook: { pixels: { edges: { node: { trigger: string } }[] } } }>(
        `query($w:ID!){ webhook(id:$w) { pixels(first:10, filter:{status:SUCCEEDED}) { edges { node { trigger } } } } }`,
        { w: id },
      ),
    ).webhook.pixels.edges.map((e) => e.node.trigger)
    expect(overview).toEqual(['TEST', 'RESEND', 'CALL_START'])
    const one = ok(
      await t.gql<{ pixel: { attempts: { number: number; statusCode: number; durationMs: number }[]; call: { uuid: string } } }>(
        `query($id:ID!){ pixel(id:$id) { attempts { number statusCode durationMs } call { uuid } } }`,
        { id: first!.id },
      ),
    ).pixel
    expect(one.call.uuid).toBe(call.uuid)
    expect(one.attempts).toEqual([{ number: 1, statusCode: 200, durationMs: expect.any(Number) }])
  })

  it('streams pixelFired over graphql-ws, filtered by webhook, to its own company only', async () => {
    const { createCompany } = await import('../src/tenancy/createCompany.js')
    const rival = await createCompany(t.app.db, `Rival ${campaignId}`)
    const id = await webhook({ url: `${sink.url}/live` })
    const probeCall = await startCall(t, { campaignId, uuid: `probe-${campaignId}` })
    await settled(probeCall.uuid, 1)
    const sub = collect(
      t.wsClient(),
      `subscription($w:ID){ pixelFired(webhookId:$w, status:SUCCEEDED) { trigger status call { uuid } attempts { statusCode } } }`,
      { w: id },
    )
    const theirs = collect(t.wsClient(rival.adminKey), `subscription { pixelFired { id } }`)
    await untilSubscribed(sub, () => t.gql(`mutation($id:ID!){ testFireWebhook(input:{webhookId:$id}) { id } }`, { id }))
    const call = await startCall(t, { campaignId, uuid: `live-${campaignId}` })
    const events = await sub.waitFor(1)
    expect(events[0]!.pixelFired).toEqual({ trigger: 'CALL_START', status: 'SUCCEEDED', call: { uuid: call.uuid }, attempts: [{ statusCode: 200 }] })
    await sleep(200)
    expect(theirs.events).toEqual([])
  })

  it('streams one pixel by its id until it settles, and refuses an id not of the company', async () => {
    const id = await webhook({ url: `${sink.url}/one`, maxAttempts: 2, retryBaseDelayMs: 1500 })
    sink.on('/one', { status: 500 }, { status: 200 })
    const followed = await startCall(t, { campaignId, uuid: `followed-${campaignId}` })
    // after its first attempt failed, it waits for the retry
    let pixelId = ''
    const deadline = Date.now() + 5000
    while (Date.now() < deadline) {
      const p = await t.app.db.pixel.findFirst({ where: { call: { uuid: followed.uuid }, webhookId: id } })
      if (p?.attemptCount === 1) {
        pixelId = p.id
        break
      }
      await sleep(20)
    }
    expect(pixelId).not.toBe('')
    const sub = collect<{ pixelFired: { id: string; status: string } }>(t.wsClient(), `subscription($id:ID){ pixelFired(id:$id) { id status } }`, {
      id: pixelId,
    })
    await sleep(300)
    // another pixel of the same webhook streams meanwhile, not to this subscription
    await startCall(t, { campaignId, uuid: `other-${campaignId}` })
    await until(() => sub.events.some((e) => e.pixelFired.status === 'SUCCEEDED'), 8000)
    await sleep(200)
    expect(new Set(sub.events.map((e) => e.pixelFired.id))).toEqual(new Set([pixelId]))

    const { createCompany } = await import('../src/tenancy/createCompany.js')
    const rival = await createCompany(t.app.db, `Rival of one ${campaignId}`)
    for (const [key, idAsked] of [
      [rival.adminKey, pixelId],
      [t.company.adminKey, 'no-such-pixel'],
    ] as const) {
      const refused = collect(t.wsClient(key), `subscription($id:ID){ pixelFired(id:$id) { id } }`, { id: idAsked })
      await until(() => refused.errors.length > 0)
      expect(JSON.stringify(refused.errors)).toContain('"code":"NOT_FOUND"')
    }
  })
})

describe(`delivery worker shutdown on ${testProvider}`, () => {
  it('SIGTERM (close) lets deliveries in flight finish and records them', async () => {
    const sink = await startReceiver()
    const t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '50' } })
    try {
      sink.on('/slow', { delayMs: 600 })
      const campaignId = await createCampaign(t)
      ok(
        await t.gql(`mutation($c:ID!,$u:String!){ createWebhook(input:{campaignId:$c, name:"slow", trigger:CALL_START, url:$u}) { id } }`, {
          c: campaignId,
          u: `${sink.url}/slow`,
        }),
      )
      const call = await startCall(t, { campaignId, uuid: 'drain-1' })
      const deadline = Date.now() + 5000
      while (sink.received('/slow').length === 0 && Date.now() < deadline) await sleep(10)
      expect(sink.received('/slow')).toHaveLength(1)
      const db = t.app.db
      const pixelBefore = await db.pixel.findFirstOrThrow({ where: { call: { uuid: call.uuid } } })
      expect(pixelBefore.status).toBe('DELIVERING')
      // close the server and worker (what SIGTERM does) while the receiver is still answering
      const { openDatabase } = await import('../src/store/client.js')
      const databaseUrl = t.databaseUrl
      await t.app.close()
      const after = await openDatabase(databaseUrl)
      const pixel = await after.pixel.findFirstOrThrow({ where: { callId: pixelBefore.callId }, include: { attempts: true } })
      await after.$disconnect()
      expect(pixel.status).toBe('SUCCEEDED')
      expect(pixel.attempts.map((a) => a.statusCode)).toEqual([200])
    } finally {
      await t.close().catch(() => {})
      await sink.close()
    }
  })
})

describe(`webhook target check on a host name on ${testProvider}`, () => {
  it('delivers to a host name whose addresses are all allowed (the check runs in the connection lookup)', async () => {
    const sink = await startReceiver()
    const allowed = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1,::1', PIXEL_POLL_MS: '50' } })
    try {
      const campaignId = await createCampaign(allowed)
      ok(
        await allowed.gql(
          `mutation($c:ID!,$u:String!){ createWebhook(input:{campaignId:$c, name:"by name", trigger:CALL_START, url:$u, maxAttempts:1}) { id } }`,
          { c: campaignId, u: `http://localhost:${sink.port}/named` },
        ),
      )
      const call = await startCall(allowed, { campaignId, uuid: 'named-1' })
      const [pixel] = await settledPixels(allowed, call.uuid, 1)
      expect(pixel!.status).toBe('SUCCEEDED')
      expect(sink.received('/named')).toHaveLength(1)
    } finally {
      await allowed.close()
      await sink.close()
    }
  })

  it('refuses a host name that resolves to loopback when ALLOWED_TARGETS does not list it, before connecting', async () => {
    const sink = await startReceiver()
    const t = await startTestApp({ env: { PIXEL_POLL_MS: '50' } })
    try {
      const campaignId = await createCampaign(t)
      ok(
        await t.gql(`mutation($c:ID!,$u:String!){ createWebhook(input:{campaignId:$c, name:"by name", trigger:CALL_START, url:$u, maxAttempts:1}) { id } }`, {
          c: campaignId,
          u: `http://localhost:${sink.port}/named`,
        }),
      )
      const call = await startCall(t, { campaignId, uuid: 'named-2' })
      const [pixel] = await settledPixels(t, call.uuid, 1)
      expect(pixel!.status).toBe('FAILED')
      expect(pixel!.attempts[0]!.error).toMatch(/^refused: .* \(resolved from localhost\) is loopback and not in ALLOWED_TARGETS$/)
      expect(sink.received('/named')).toHaveLength(0)
    } finally {
      await t.close()
      await sink.close()
    }
  })
})

describe(`a delivery that waits too long for a request slot on ${testProvider}`, () => {
  let t: TestApp
  let sink: Receiver
  beforeAll(async () => {
    // one request out at a time; the worker still takes up to four pixels
    t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '100', PIXEL_CONCURRENCY: '1' } })
    sink = await startReceiver()
  })
  afterAll(async () => {
    await t?.close()
    await sink?.close()
  })

  it('is not sent and spends no attempt, and is delivered once when a slot is free', async () => {
    const campaignId = await createCampaign(t, 'slot-wait')
    sink.on('/slow', { hang: true })
    await createWebhook(t, { campaignId, name: 'slow', trigger: 'CALL_START', url: `${sink.url}/slow`, timeoutMs: 6000, maxAttempts: 1 })
    await createWebhook(t, { campaignId, name: 'fast', trigger: 'CALL_START', url: `${sink.url}/fast`, maxAttempts: 1 })
    const call = await startCall(t, { campaignId, uuid: 'slot-wait-1', callerNumber: '+14155550177' })
    const pixels = await settledPixels(t, call.uuid, 2, 25_000)
    const webhooks = await t.app.db.webhook.findMany({ where: { campaignId } })
    const of = (name: string) => pixels.find((p) => p.webhookId === webhooks.find((w) => w.name === name)!.id)!
    expect([of('slow').status, of('slow').attempts.map((a) => a.error)]).toEqual(['FAILED', ['timed out after 6000 ms']])
    // handed over with the slow one, it waited behind it past its lock's start-by time (5 s): not sent
    // then, and not counted; claimed again and sent once (maxAttempts 1 would have failed it otherwise)
    expect([of('fast').status, of('fast').attemptCount, of('fast').attempts.map((a) => [a.number, a.statusCode])]).toEqual(['SUCCEEDED', 1, [[1, 200]]])
    const [slow] = sink.received('/slow')
    const fast = sink.received('/fast')
    expect(fast).toHaveLength(1)
    expect(fast[0]!.at - slow!.at).toBeGreaterThan(5000)
  }, 40_000)
})
