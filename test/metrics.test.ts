// /metrics: real traffic (call events firing a webhook at a real receiver that fails once, postbacks,
// GraphQL) moves the counters and histograms by what happened, with labels from closed sets only; who may
// read it (the operator key, METRICS_PORT); the pending-pixel gauges read from the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { has, parseMetrics, sampleValue, type Sample } from './helpers/metrics.js'
import { base, getPostback, postJson, request } from './helpers/postback.js'
import { settledPixels, startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook, startCall } from './fixtures.js'

const OPERATOR_KEY = 'operator-key-of-the-metrics-test-0123456789'

async function scrape(t: TestApp, key: string | null = OPERATOR_KEY): Promise<{ status: number; contentType: string | null; text: string }> {
  const res = await fetch(`${base(t.url)}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} })
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() }
}

async function samples(t: TestApp): Promise<Sample[]> {
  const res = await scrape(t)
  expect(res.status).toBe(200)
  return parseMetrics(res.text)
}

/** Every label our own metric families may carry, and the values each may take. */
const BOUNDED: Record<string, Set<string> | 'number'> = {
  outcome: new Set(['CALL_FOUND', 'COMPLETED_CALL_FOUND', 'TAGS_STORED', 'REJECTED']),
  channel: new Set(['GRAPHQL', 'REST_GET', 'REST_POST']),
  event: new Set(['START', 'ANSWER', 'END', 'CONVERSION']),
  result: new Set(['recorded', 'refused', 'failed', 'success', 'timeout', 'network', 'http_4xx', 'http_429', 'http_5xx', 'http_other']),
  status: new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']),
  trigger: new Set(['CALL_START', 'ANSWERED', 'CALL_END', 'CONVERSION', 'TIMER', 'RESEND', 'TEST']),
  store: new Set(['postbacks', 'call_events', 'outcomes']),
  route: new Set(['postback', 'data_writing', 'call_events', 'graphql', 'health', 'metrics', 'openapi', 'other']),
  status_class: new Set(['1xx', '2xx', '3xx', '4xx', '5xx', 'other']),
  le: 'number',
}
const GRAPHQL_LABELS = new Set(['operationName', 'operationType', 'phase', 'method', 'statusCode', 'le'])

describe(`metrics on ${testProvider}`, () => {
  let t: TestApp
  let sink: Receiver
  let campaignId: string
  let webhookId: string
  beforeAll(async () => {
    t = await startTestApp({ env: { OPERATOR_KEY, METRICS_PORT: '0', ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '50' } })
    sink = await startReceiver()
    campaignId = await createCampaign(t, 'metrics')
    webhookId = await createWebhook(t, { campaignId, url: `${sink.url}/flaky`, retryBaseDelayMs: 100 })
  })
  afterAll(async () => {
    await t?.close()
    await sink?.close()
  })

  it('counts postbacks, call events, pixels, attempts, batches, HTTP requests and GraphQL operations, by bounded labels', async () => {
    sink.on('/flaky', { status: 500 }, { status: 200 })
    const admin = { 'x-ringhook-key': t.company.adminKey }
    const callerNumber = '+14155550177'
    const uuid = `metrics-call-${Date.now()}`
    const before = await samples(t)

    expect((await postJson(t, '/call-events', { event: 'start', campaignId, callerNumber, uuid }, admin)).status).toBe(200)
    const [pixel] = await settledPixels(t, uuid, 1)
    expect(pixel!.status).toBe('SUCCEEDED')
    expect(pixel!.attempts.map((a) => a.statusCode)).toEqual([500, 200])
    const publisher = t.company.publisherKey
    expect((await getPostback(t, { key: publisher, caller_number: callerNumber, lead: 'a' })).body.outcome).toBe('CALL_FOUND')
    const dataWriting = await request(`${base(t.url)}/data_writing/${publisher}?caller_number=${encodeURIComponent(callerNumber)}&lead=b`)
    expect(dataWriting.status).toBe(200)
    expect((await getPostback(t, { key: 'not-a-key', caller_number: callerNumber })).status).toBe(401)
    expect((await postJson(t, '/call-events', { event: 'answered', uuid: 'no-such-call' }, admin)).status).toBeGreaterThanOrEqual(400)
    expect((await postJson(t, '/call-events', { event: 'end', uuid }, admin)).status).toBe(200)
    expect((await t.gql('query Calls { calls(first: 5) { edges { node { uuid } } } }')).data?.calls.edges.length).toBe(1)

    const after = await samples(t)
    const delta = (name: string, labels: Record<string, string> = {}) => sampleValue(after, name, labels) - sampleValue(before, name, labels)

    expect(delta('ringhook_postbacks_total', { outcome: 'CALL_FOUND', channel: 'REST_GET' })).toBe(2)
    expect(delta('ringhook_postbacks_total', { outcome: 'REJECTED', channel: 'REST_GET' })).toBe(1)
    expect(delta('ringhook_postbacks_total')).toBe(3)
    expect(delta('ringhook_call_events_total', { event: 'START', result: 'recorded' })).toBe(1)
    expect(delta('ringhook_call_events_total', { event: 'ANSWER', result: 'refused' })).toBe(1)
    expect(delta('ringhook_call_events_total', { event: 'END', result: 'recorded' })).toBe(1)
    expect(delta('ringhook_call_events_total')).toBe(3)
    expect(delta('ringhook_pixels_total', { status: 'SUCCEEDED', trigger: 'CALL_START' })).toBe(1)
    expect(delta('ringhook_pixels_total')).toBe(1)
    expect(delta('ringhook_pixel_attempts_total', { result: 'http_5xx' })).toBe(1)
    expect(delta('ringhook_pixel_attempts_total', { result: 'success' })).toBe(1)
    expect(delta('ringhook_pixel_attempts_total')).toBe(2)
    expect(delta('ringhook_pixel_attempt_duration_seconds_count')).toBe(2)
    expect(delta('ringhook_pixel_trigger_to_request_seconds_count')).toBe(2)
    // items per store: the refused event was in a batch too; the unknown key's postback was not written
    expect(delta('ringhook_writer_batch_size_sum', { store: 'postbacks' })).toBe(2)
    expect(delta('ringhook_writer_batch_size_sum', { store: 'call_events' })).toBe(3)
    expect(delta('ringhook_writer_batch_size_sum', { store: 'outcomes' })).toBe(2)
    expect(delta('ringhook_writer_batch_size_count', { store: 'call_events' })).toBeGreaterThanOrEqual(1)
    expect(delta('ringhook_http_request_duration_seconds_count', { route: 'call_events', status_class: '2xx' })).toBe(2)
    expect(delta('ringhook_http_request_duration_seconds_count', { route: 'call_events', status_class: '4xx' })).toBe(1)
    expect(delta('ringhook_http_request_duration_seconds_count', { route: 'postback', status_class: '2xx' })).toBe(1)
    expect(delta('ringhook_http_request_duration_seconds_count', { route: 'postback', status_class: '4xx' })).toBe(1)
    expect(delta('ringhook_http_request_duration_seconds_count', { route: 'data_writing', status_class: '2xx' })).toBe(1)
    expect(delta('ringhook_http_request_duration_seconds_count', { route: 'graphql', status_class: '2xx' })).toBeGreaterThanOrEqual(1)
    expect(delta('ringhook_graphql_requests_total', { operationName: 'Calls', operationType: 'query' })).toBe(1)
    expect(delta('ringhook_graphql_execute_duration_seconds_count', { operationName: 'Calls', operationType: 'query' })).toBe(1)
    expect(sampleValue(after, 'ringhook_pixels_pending')).toBe(0)
    expect(has(after, 'ringhook_pixels_oldest_due_age_seconds')).toBe(true)
    // process and Node metrics, event-loop delay among them
    expect(has(after, 'ringhook_nodejs_eventloop_lag_p99_seconds')).toBe(true)
    expect(has(after, 'ringhook_process_cpu_user_seconds_total')).toBe(true)
    expect(after.every((s) => s.name.startsWith('ringhook_'))).toBe(true)

    // labels from closed sets only; no id, number or key of a company ever becomes one
    const pixelIds = (await t.app.db.pixel.findMany({ select: { id: true } })).map((p) => p.id)
    const forbidden = new Set([uuid, webhookId, campaignId, t.company.companyId, callerNumber, publisher, t.company.adminKey, ...pixelIds])
    for (const s of after) {
      for (const [key, value] of Object.entries(s.labels)) {
        expect(forbidden.has(value), `${s.name} ${key}=${value}`).toBe(false)
        if (s.name.startsWith('ringhook_graphql_')) {
          expect(GRAPHQL_LABELS.has(key), `${s.name} ${key}`).toBe(true)
        } else if (!s.name.startsWith('ringhook_nodejs_') && !s.name.startsWith('ringhook_process_')) {
          const allowed = BOUNDED[key]
          expect(allowed, `${s.name} has label ${key}`).toBeDefined()
          if (allowed === 'number') expect(Number.isNaN(Number(value.replace('+Inf', 'Infinity'))), `${s.name} le=${value}`).toBe(false)
          else expect(allowed!.has(value), `${s.name} ${key}=${value}`).toBe(true)
        }
      }
    }
  })

  it('answers /metrics on the main port to the operator key only', async () => {
    const none = await scrape(t, null)
    expect(none.status).toBe(401)
    expect(JSON.parse(none.text).error).toMatch(/operator key.*Authorization: Bearer/)
    const wrong = await scrape(t, `${OPERATOR_KEY}x`)
    expect(wrong.status).toBe(401)
    expect(JSON.parse(wrong.text).error).toMatch(/not the operator key/)
    // a company's admin key is not the operator's: metrics span every company
    expect((await scrape(t, t.company.adminKey)).status).toBe(401)
    const right = await scrape(t)
    expect(right.status).toBe(200)
    expect(right.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(right.text).toContain('# TYPE ringhook_postbacks_total counter')
  })

  it('keeps the GraphQL operation names a label takes bounded, whoever sends them', async () => {
    // names are the client's choice and counted before any key is checked
    const long = `Op${'x'.repeat(300)}`
    for (let i = 0; i < 220; i++) await t.gql(`query ${i === 0 ? long : `Op${i}`} { __typename }`, {}, null)
    const names = new Set((await samples(t)).filter((s) => s.name === 'ringhook_graphql_parse_duration_seconds_count').map((s) => s.labels.operationName))
    expect(names.has('(other)')).toBe(true)
    expect(names.has(long.slice(0, 100))).toBe(true)
    expect(names.has(long)).toBe(false)
    expect(names.size).toBeLessThanOrEqual(202)
  })

  it('serves /metrics without a key on METRICS_PORT, and nothing else there', async () => {
    expect(t.app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const res = await fetch(t.app.metricsUrl!)
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('# TYPE ringhook_pixels_pending gauge')
    expect(has(parseMetrics(text), 'ringhook_http_request_duration_seconds_count')).toBe(true)
    const other = await fetch(t.app.metricsUrl!.replace(/\/metrics$/, '/graphql'))
    expect(other.status).toBe(404)
    expect(((await other.json()) as { error: string }).error).toMatch(/only GET \/metrics/)
  })
})

describe(`metrics of an API-only instance without OPERATOR_KEY on ${testProvider}`, () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp({ env: { ROLE: 'api', METRICS_PORT: '0' } })
  })
  afterAll(async () => {
    await t?.close()
  })

  it('says how to enable /metrics on the main port', async () => {
    const res = await scrape(t)
    expect(res.status).toBe(404)
    const error = JSON.parse(res.text).error as string
    expect(error).toMatch(/set OPERATOR_KEY/)
    expect(error).toMatch(/METRICS_PORT/)
  })

  it('reads the pending pixels and the age of the oldest due one from the database', async () => {
    // no worker here: the pixels of these calls stay PENDING in the outbox
    const campaignId = await createCampaign(t, 'pending')
    await createWebhook(t, { campaignId, url: 'http://127.0.0.1:9/none' })
    const a = await startCall(t, { campaignId, uuid: 'pending-a', callerNumber: '+14155550181' })
    const b = await startCall(t, { campaignId, uuid: 'pending-b', callerNumber: '+14155550182' })
    await t.app.db.pixel.updateMany({ where: { call: { uuid: a.uuid } }, data: { nextAttemptAt: new Date(Date.now() - 90_000) } })
    await t.app.db.pixel.updateMany({ where: { call: { uuid: b.uuid } }, data: { nextAttemptAt: new Date(Date.now() + 3_600_000) } })
    expect(await t.app.db.pixel.count({ where: { status: 'PENDING' } })).toBe(2)

    const res = await fetch(t.app.metricsUrl!)
    expect(res.status).toBe(200)
    const s = parseMetrics(await res.text())
    expect(sampleValue(s, 'ringhook_pixels_pending')).toBe(2)
    // the one due 90 s ago (the other is not due yet)
    const age = sampleValue(s, 'ringhook_pixels_oldest_due_age_seconds')
    expect(age).toBeGreaterThanOrEqual(90)
    expect(age).toBeLessThan(3600)
  })
})

describe(`metrics of a ROLE=worker instance on ${testProvider}`, () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp({ env: { ROLE: 'worker', OPERATOR_KEY } })
  })
  afterAll(async () => {
    await t?.close()
  })

  it('serves /metrics with the operator key beside /healthz and /readyz, and no API', async () => {
    expect((await scrape(t, null)).status).toBe(401)
    const res = await scrape(t)
    expect(res.status).toBe(200)
    expect(has(parseMetrics(res.text), 'ringhook_pixels_pending')).toBe(true)
    const api = await fetch(`${base(t.url)}/graphql`, { method: 'POST' })
    expect(api.status).toBe(404)
    expect(((await api.json()) as { error: string }).error).toMatch(/\/healthz, \/readyz, \/metrics and \/agendash\//)
  })
})
