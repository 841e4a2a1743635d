// The telephony door, POST /call-events: the same call lifecycle as the mutations, against a real receiver,
// with its refusals, group commit (events sent together), and more pixels than the worker has slots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { postJson } from './helpers/postback.js'
import { settledPixels, startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook } from './fixtures.js'

const event = (t: TestApp, body: unknown, key: string | null = t.company.adminKey) =>
  postJson(t, '/call-events', body, key ? { authorization: `Bearer ${key}` } : {})

const webhook = (t: TestApp, campaignId: string, input: Record<string, unknown>) => createWebhook(t, { campaignId, ...input })

describe(`POST /call-events on ${testProvider}`, () => {
  let t: TestApp
  let sink: Receiver
  beforeAll(async () => {
    t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '50' } })
    sink = await startReceiver()
  })
  afterAll(async () => {
    await t?.close()
    await sink?.close()
  })

  it('records start, answered, conversion and end, firing each trigger with tokens, like the mutations', async () => {
    const campaignId = await createCampaign(t)
    const ids: Record<string, string> = {}
    for (const trigger of ['CALL_START', 'ANSWERED', 'CONVERSION', 'CALL_END']) {
      ids[trigger] = await webhook(t, campaignId, {
        trigger,
        url: `${sink.url}/life/${trigger}?src=[lead_source]`,
        body: '{"uuid":"[call_uuid]","sale":"[sale_amount:none]","duration":"[call_duration]"}',
      })
    }
    const start = await event(t, {
      event: 'start',
      campaignId,
      uuid: 'rest-1',
      callerNumber: '(415) 555-0142',
      calledNumber: '+18005550100',
      tags: { lead_source: 'fb ads', score: 7 },
    })
    expect(start.status).toBe(200)
    expect(start.body.event).toBe('START')
    expect(start.body.call).toMatchObject({ uuid: 'rest-1', status: 'STARTED', callerNumber: '+14155550142', calledNumber: '+18005550100', campaignId })
    expect(start.body.pixels).toEqual([expect.objectContaining({ webhookId: ids.CALL_START, trigger: 'CALL_START' })])

    const answeredAt = new Date(Date.parse(start.body.call.startedAt) + 2000)
    expect((await event(t, { event: 'answered', uuid: 'rest-1', answeredAt: answeredAt.toISOString() })).body.call.status).toBe('ANSWERED')
    // a pixel is dated at its trigger's moment: the conversion comes after the answer
    const converted = await event(t, {
      event: 'CONVERSION',
      uuid: 'rest-1',
      convertedAt: new Date(answeredAt.getTime() + 1000).toISOString(),
      tags: [{ key: 'sale_amount', value: '120' }],
    })
    expect(converted.body.call.converted).toBe(true)
    const ended = await event(t, { event: 'end', uuid: 'rest-1', endedAt: new Date(answeredAt.getTime() + 65_000).toISOString() })
    expect(ended.status).toBe(200)
    expect(ended.body.call).toMatchObject({ status: 'ENDED', durationSeconds: 65 })

    const pixels = await settledPixels(t, 'rest-1', 4)
    expect(pixels.map((p) => [p.trigger, p.status])).toEqual([
      ['CALL_START', 'SUCCEEDED'],
      ['ANSWERED', 'SUCCEEDED'],
      ['CONVERSION', 'SUCCEEDED'],
      ['CALL_END', 'SUCCEEDED'],
    ])
    const got = (trigger: string) => sink.received(`/life/${trigger}`)[0]!
    expect(got('CALL_START').url).toBe('/life/CALL_START?src=fb%20ads')
    expect(JSON.parse(got('CALL_START').body)).toEqual({ uuid: 'rest-1', sale: 'none', duration: '' })
    expect(JSON.parse(got('CONVERSION').body).sale).toBe('120')
    expect(JSON.parse(got('CALL_END').body).duration).toBe('65')
    expect(got('CALL_END').headers['webhook-id']).toBe(pixels[3]!.id)

    const call = ok(
      await t.gql<{ call: { status: string; converted: boolean; tags: { key: string; value: string; source: string }[] } }>(
        `{ call(uuid:"rest-1") { status converted tags { key value source } } }`,
      ),
    )
    expect(call.call.status).toBe('ENDED')
    expect(call.call.converted).toBe(true)
    expect(call.call.tags).toEqual(
      expect.arrayContaining([
        { key: 'lead_source', value: 'fb ads', source: 'CALL_EVENT' },
        { key: 'score', value: '7', source: 'CALL_EVENT' },
        { key: 'sale_amount', value: '120', source: 'CALL_EVENT' },
      ]),
    )
  })

  it('refuses bad events with a status and the field at fault, and writes nothing for them', async () => {
    const campaignId = await createCampaign(t)
    await webhook(t, campaignId, { trigger: 'CALL_START', url: `${sink.url}/refused` })
    expect((await event(t, { event: 'start', campaignId, uuid: 'ok-1', callerNumber: '+14155550100' })).status).toBe(200)
    const noKey = await event(t, { event: 'start', campaignId, callerNumber: '+14155550100' }, null)
    expect([noKey.status, noKey.body.code]).toEqual([401, 'UNAUTHENTICATED'])
    const cases: [body: unknown, status: number, field: string][] = [
      ['{"event":', 400, 'body'],
      [[{ event: 'start' }], 400, 'body'],
      [{ event: 'hangup', uuid: 'ok-1' }, 400, 'event'],
      [{ event: 'constructor', uuid: 'ok-1' }, 400, 'event'],
      [{ event: '__proto__', uuid: 'ok-1' }, 400, 'event'],
      [{ campaignId }, 400, 'event'],
      [{ event: 'start', campaignId }, 400, 'callerNumber'],
      [{ event: 'start', campaignId, callerNumber: 'not a number' }, 400, 'callerNumber'],
      [{ event: 'start', campaignId, callerNumber: '+14155550100', uuid: 'has spaces' }, 400, 'uuid'],
      [{ event: 'start', campaignId, callerNumber: '+14155550100', uuid: 'ok-1' }, 400, 'uuid'],
      [{ event: 'start', campaignId: 'nope', callerNumber: '+14155550100' }, 404, 'campaignId'],
      [{ event: 'start', campaignId, callerNumber: '+14155550100', tags: 'x' }, 400, 'tags'],
      [{ event: 'start', campaignId, callerNumber: '+14155550100', tags: { 'bad key!': 'x' } }, 400, 'tags[0].key'],
      [{ event: 'answered', uuid: 'ok-1', answeredAt: 'yesterday' }, 400, 'answeredAt'],
      [{ event: 'answered', uuid: 'ok-1', answeredAt: '5' }, 400, 'answeredAt'],
      [{ event: 'answered', uuid: 'ok-1', answeredAt: '2000-01-01T00:00:00Z' }, 400, 'answeredAt'],
      [{ event: 'answered', uuid: 'missing' }, 404, 'uuid'],
      [{ event: 'end' }, 400, 'uuid'],
    ]
    for (const [body, status, field] of cases) {
      const r = await event(t, body)
      expect([body, r.status, r.body.field]).toEqual([body, status, field])
      expect(typeof r.body.error).toBe('string')
    }
    // a publisher key may only send postbacks
    const publisher = await event(t, { event: 'answered', uuid: 'ok-1' }, t.company.publisherKey)
    expect(publisher.status).toBe(403)
    // a call ends once
    expect((await event(t, { event: 'end', uuid: 'ok-1' })).status).toBe(200)
    const again = await event(t, { event: 'end', uuid: 'ok-1' })
    expect([again.status, again.body.field, again.body.error]).toEqual([400, 'uuid', 'uuid: call has already ended'])

    const calls = await t.app.db.call.findMany({ where: { campaignId } })
    expect(calls.map((c) => [c.uuid, c.status])).toEqual([['ok-1', 'ENDED']])
    await settledPixels(t, 'ok-1', 1)
    expect(await t.app.db.pixel.count({ where: { campaignId } })).toBe(1)
  })

  it('writes events sent together in one go; a refused one does not fail the others', async () => {
    const campaignId = await createCampaign(t)
    await webhook(t, campaignId, { trigger: 'CALL_START', url: `${sink.url}/together` })
    const answers = await Promise.all([
      event(t, { event: 'start', campaignId, uuid: 'tg-a', callerNumber: '+14155550101' }),
      event(t, { event: 'start', campaignId, uuid: 'tg-b', callerNumber: '+14155550102' }),
      event(t, { event: 'start', campaignId, uuid: 'tg-a', callerNumber: '+14155550103' }),
      event(t, { event: 'answered', uuid: 'tg-nobody' }),
      event(t, { event: 'start', campaignId, uuid: 'tg-c', callerNumber: '+14155550104' }),
    ])
    expect(answers.map((a) => a.status)).toEqual([200, 200, 400, 404, 200])
    expect(answers[2]!.body.error).toBe('uuid: a call with uuid "tg-a" exists')
    for (const uuid of ['tg-a', 'tg-b', 'tg-c']) expect((await settledPixels(t, uuid, 1))[0]!.status).toBe('SUCCEEDED')
    const calls = await t.app.db.call.findMany({ where: { campaignId }, orderBy: { uuid: 'asc' } })
    expect(calls.map((c) => [c.uuid, c.callerNumber])).toEqual([
      ['tg-a', '+14155550101'],
      ['tg-b', '+14155550102'],
      ['tg-c', '+14155550104'],
    ])
    expect(sink.received('/together')).toHaveLength(3)
  })

  it('decides events of one call that arrive at once one after the other, each on the state the other left', async () => {
    const campaignId = await createCampaign(t)
    for (const uuid of ['race-1', 'race-2']) {
      expect((await event(t, { event: 'start', campaignId, uuid, callerNumber: '+14155550109' })).status).toBe(200)
      expect((await event(t, { event: 'answered', uuid })).status).toBe(200)
    }
    const [ended, converted] = await Promise.all([event(t, { event: 'end', uuid: 'race-1' }), event(t, { event: 'conversion', uuid: 'race-1' })])
    expect([ended.status, converted.status]).toEqual([200, 200])
    const call = await t.app.db.call.findFirstOrThrow({ where: { uuid: 'race-1' } })
    expect([call.status, call.converted, call.answeredAt !== null, call.endedAt !== null, call.convertedAt !== null]).toEqual(['ENDED', true, true, true, true])
    // the same event twice at once: one is taken, the other refused
    const twice = await Promise.all([event(t, { event: 'conversion', uuid: 'race-2' }), event(t, { event: 'conversion', uuid: 'race-2' })])
    expect(twice.map((a) => a.status).sort()).toEqual([200, 400])
    const ends = await Promise.all([event(t, { event: 'end', uuid: 'race-2' }), event(t, { event: 'end', uuid: 'race-2' })])
    expect(ends.map((a) => a.status).sort()).toEqual([200, 400])
  })

  it('start can wait for its webhooks: the answer carries the tags they wrote', async () => {
    const campaignId = await createCampaign(t)
    sink.on('/bid', { body: '{"bid":{"price":"12.50"},"buyer":"acme"}' })
    await webhook(t, campaignId, { trigger: 'CALL_START', url: `${sink.url}/bid`, responseMapping: { mode: 'ALL' } })
    const r = await event(t, { event: 'start', campaignId, uuid: 'wait-1', callerNumber: '+14155550105', tags: { lead: 'x' }, waitForWebhooksMs: 5000 })
    expect(r.status).toBe(200)
    expect(r.body.tags).toEqual({ lead: 'x', bid_price: '12.50', buyer: 'acme' })
    const bad = await event(t, { event: 'start', campaignId, callerNumber: '+14155550105', waitForWebhooksMs: 'soon' })
    expect([bad.status, bad.body.field]).toEqual([400, 'waitForWebhooksMs'])
  })
})

describe(`more pixels than delivery slots on ${testProvider}`, () => {
  let t: TestApp
  let sink: Receiver
  beforeAll(async () => {
    // no polling: claims happen only because pixels were written PENDING or a slot came free
    t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '60000', PIXEL_CONCURRENCY: '2' } })
    sink = await startReceiver()
  })
  afterAll(async () => {
    await t?.close()
    await sink?.close()
  })

  it('hands over what the worker has room for, leaves the rest in the outbox, and delivers every pixel once', async () => {
    const campaignId = await createCampaign(t)
    sink.on('/slots', { delayMs: 60 })
    await webhook(t, campaignId, { trigger: 'CALL_START', url: `${sink.url}/slots?n=1` })
    await webhook(t, campaignId, { trigger: 'CALL_START', url: `${sink.url}/slots?n=2` })
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => event(t, { event: 'start', campaignId, uuid: `slot-${i}`, callerNumber: '+14155550106' })),
    )
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200))
    const written = answers.flatMap((a) => a.body.pixels as { status: string }[]).map((p) => p.status)
    expect(written).toHaveLength(20)
    // handed over (written claimed) while slots were free; the rest were written PENDING for the claim loop
    expect(written.filter((s) => s === 'DELIVERING').length).toBeGreaterThanOrEqual(1)
    expect(written.filter((s) => s === 'PENDING').length).toBeGreaterThanOrEqual(1)
    const deadline = Date.now() + 15_000
    let pixels = await t.app.db.pixel.findMany({ where: { campaignId }, include: { attempts: true } })
    while (pixels.some((p) => p.status !== 'SUCCEEDED') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25))
      pixels = await t.app.db.pixel.findMany({ where: { campaignId }, include: { attempts: true } })
    }
    expect(pixels.map((p) => [p.status, p.attempts.length])).toEqual(Array(20).fill(['SUCCEEDED', 1]))
    // never more than the 2 slots in flight: each request is answered 60 ms after it arrived, so at most
    // 2 arrive within any 50 ms
    const arrivals = sink.received('/slots').map((r) => r.at)
    const crowd = Math.max(...arrivals.map((at) => arrivals.filter((other) => other > at - 50 && other <= at).length))
    expect(crowd).toBeLessThanOrEqual(2)
    const ids = sink.received('/slots').map((r) => r.headers['webhook-id'])
    expect(new Set(ids).size).toBe(20)
    expect(ids).toHaveLength(20)
  })
})
