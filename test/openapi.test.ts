// The OpenAPI document of the REST doors, held to the real answers: the real server serves it, real
// requests (taken, refused, unauthenticated, too large, rate limited, the database out of reach) go to the
// doors, and each answer's status and JSON body must be what the document says for that path and method.
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startBareServer, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { base, request, type HttpAnswer } from './helpers/postback.js'
import { startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook } from './fixtures.js'

type Document = {
  openapi: string
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, { required?: boolean }> }> }>>
}

/** A JSON pointer into the document. */
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')

/** Checks answers against the document's response schemas, `$ref`s resolved into its components. */
function answerChecker(doc: Document) {
  const ajv = new Ajv2020({ allErrors: true })
  // the document is the root the schemas' `#/components/...` refs point into; its own fields are no schema keywords
  for (const keyword of ['openapi', 'info', 'tags', 'paths', 'components']) ajv.addKeyword(keyword)
  ajv.addFormat('date-time', (text: string) => !Number.isNaN(Date.parse(text)))
  ajv.addSchema(doc, 'openapi.json')
  /** Why the answer is not what the document says (path as templated, e.g. /data_writing/{key}), or null. */
  return (path: string, method: 'get' | 'post', answer: { status: number; headers?: Headers; body: unknown }): string | null => {
    const response = doc.paths[path]?.[method]?.responses[String(answer.status)]
    if (!response) return `${method.toUpperCase()} ${path} does not document ${answer.status}`
    for (const [name, header] of Object.entries(response.headers ?? {}))
      if (header.required && !answer.headers?.get(name)) return `${method.toUpperCase()} ${path} ${answer.status} lacks the ${name} header`
    if (!response.content?.['application/json']) return `${method.toUpperCase()} ${path} ${answer.status} documents no JSON body`
    const validate = ajv.compile({
      $ref: `openapi.json#/${pointer('paths', path, method, 'responses', String(answer.status), 'content', 'application/json', 'schema')}`,
    })
    return validate(answer.body)
      ? null
      : `${method.toUpperCase()} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(answer.body)}`
  }
}

describe(`the OpenAPI document against real answers on ${testProvider}`, () => {
  let t: TestApp
  let sink: Receiver
  let url: string
  let doc: Document
  let check: ReturnType<typeof answerChecker>
  let campaignId: string
  const LIMIT = 4096
  beforeAll(async () => {
    t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', BODY_LIMIT_BYTES: String(LIMIT) } })
    url = base(t.url)
    sink = await startReceiver()
    campaignId = await createCampaign(t)
    sink.on('/bid', { body: '{"buyer":"acme"}' })
    await createWebhook(t, { campaignId, trigger: 'CALL_START', url: `${sink.url}/bid`, responseMapping: { mode: 'ALL' } })
    await createWebhook(t, { campaignId, trigger: 'ANSWERED', url: `${sink.url}/answered` })
    const served = await request(`${url}/openapi.json`)
    expect(served.status).toBe(200)
    doc = served.body as Document
    check = answerChecker(doc)
  })
  afterAll(async () => {
    await t?.close()
    await sink?.close()
  })

  /** Sends a request and expects the status, and an answer the document describes. */
  async function expectDocumented(path: string, method: 'get' | 'post', status: number, send: () => Promise<HttpAnswer>): Promise<HttpAnswer> {
    const answer = await send()
    expect([path, method, answer.status, answer.body]).toEqual([path, method, status, answer.body])
    expect(check(path, method, answer)).toBeNull()
    return answer
  }

  const callEvent =
    (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${t.company.adminKey}` }) =>
    () =>
      request(`${url}/call-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })
  const get =
    (pathAndQuery: string, headers: Record<string, string> = {}) =>
    () =>
      request(`${url}${pathAndQuery}`, { headers })
  const post = (pathAndQuery: string, body: string, headers: Record<string, string>) => () =>
    request(`${url}${pathAndQuery}`, { method: 'POST', headers, body })

  it('is served without a key: OpenAPI 3.1, naming the three doors', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./)
    expect(Object.keys(doc.paths).sort()).toEqual(['/call-events', '/data_writing', '/data_writing/{key}', '/postback'])
    expect(Object.keys(doc.paths['/postback']!).sort()).toEqual(['get', 'post'])
    const body = (doc.paths['/postback']!.post as unknown as { requestBody: { content: Record<string, unknown> } }).requestBody.content
    expect(Object.keys(body).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded'])
  })

  it('describes the call events answers: start, answered, conversion, end and the refusals', async () => {
    const admin = t.company.adminKey
    const start = await expectDocumented(
      '/call-events',
      'post',
      200,
      callEvent({ event: 'start', campaignId, uuid: 'oa-1', callerNumber: '(415) 555-0160', tags: { lead: 'x' }, waitForWebhooksMs: 5000 }),
    )
    expect(start.body.pixels).toHaveLength(1)
    expect(start.body.tags).toEqual({ lead: 'x', buyer: 'acme' })
    const answeredAt = new Date(Date.parse(start.body.call.startedAt) + 1000).toISOString()
    const answered = await expectDocumented('/call-events', 'post', 200, callEvent({ event: 'ANSWERED', uuid: 'oa-1', answeredAt }))
    expect(answered.body.pixels).toHaveLength(1)
    await expectDocumented('/call-events', 'post', 200, callEvent({ event: 'conversion', uuid: 'oa-1', tags: [{ key: 'sale', value: 120 }] }))
    const ended = await expectDocumented(
      '/call-events',
      'post',
      200,
      callEvent({ event: 'end', uuid: 'oa-1', endedAt: new Date(Date.parse(answeredAt) + 65_000).toISOString() }, { 'x-ringhook-key': admin }),
    )
    expect(ended.body.call.status).toBe('ENDED')

    for (const [body, field] of [
      [{ event: 'hangup', uuid: 'oa-1' }, 'event'],
      [{ event: 'start', campaignId, callerNumber: '4155550160', tags: [{ key: 'a', value: {} }] }, 'tags[0].value'],
      [{ event: 'start', campaignId, callerNumber: '4155550160', waitForWebhooksMs: -1 }, 'waitForWebhooksMs'],
      ['{"event":', 'body'],
      [{ event: 'end', uuid: 'oa-1' }, 'uuid'],
    ] as const) {
      const refused = await expectDocumented('/call-events', 'post', 400, callEvent(body))
      expect(refused.body).toMatchObject({ code: 'BAD_USER_INPUT', field })
    }
    await expectDocumented('/call-events', 'post', 401, callEvent({ event: 'answered', uuid: 'oa-1' }, {}))
    await expectDocumented('/call-events', 'post', 401, callEvent({ event: 'answered', uuid: 'oa-1' }, { authorization: 'Bearer rh_adm_wrong' }))
    await expectDocumented('/call-events', 'post', 403, callEvent({ event: 'answered', uuid: 'oa-1' }, { 'x-ringhook-key': t.company.publisherKey }))
    await expectDocumented('/call-events', 'post', 404, callEvent({ event: 'start', campaignId: 'nope', callerNumber: '4155550160' }))
    await expectDocumented('/call-events', 'post', 404, callEvent({ event: 'answered', uuid: 'nobody' }))
    await expectDocumented('/call-events', 'post', 413, callEvent({ event: 'start', campaignId, callerNumber: '4155550160', pad: 'x'.repeat(LIMIT) }))
  })

  it('describes the FAILED pixel a webhook disabled by its circuit breaker answers', async () => {
    const disabledCampaign = await createCampaign(t)
    const webhookId = await createWebhook(t, { campaignId: disabledCampaign, trigger: 'CALL_START', url: `${sink.url}/disabled` })
    await t.app.db.webhook.update({ where: { id: webhookId }, data: { circuitState: 'DISABLED', circuitReason: 'the endpoint answered 410 Gone' } })
    const start = await expectDocumented(
      '/call-events',
      'post',
      200,
      callEvent({ event: 'start', campaignId: disabledCampaign, uuid: 'oa-disabled', callerNumber: '4155550190' }),
    )
    expect(start.body.pixels).toMatchObject([{ webhookId, status: 'FAILED', nextAttemptAt: null }])
  })

  it('describes the postback answers of /postback: a match, stored for a number, refusals, limits, a replay', async () => {
    const pub = t.company.publisherKey
    const admin = t.company.adminKey
    const started = await request(`${url}/call-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'start', campaignId, uuid: 'oa-2', callerNumber: '4155550170' }),
    })
    expect(started.status).toBe(200)

    const found = await expectDocumented('/postback', 'get', 200, get(`/postback?key=${pub}&caller_number=4155550170&age=39&lead_source=fb`))
    expect(found.body).toMatchObject({ outcome: 'CALL_FOUND', callUuid: 'oa-2' })
    const stored = await expectDocumented('/postback', 'get', 200, get(`/postback?caller_number=4155550171&age=40`, { 'x-ringhook-key': pub }))
    expect(stored.body.outcome).toBe('TAGS_STORED')
    const json = { 'content-type': 'application/json', authorization: `Bearer ${pub}` }
    const byJson = await expectDocumented(
      '/postback',
      'post',
      200,
      post('/postback', '{"call_uuid":"oa-2","lead":{"zip":"94103"},"n":[1,2]," Bad Key ":""}', json),
    )
    expect(byJson.body.problems.length).toBeGreaterThan(0)
    await expectDocumented(
      '/postback',
      'post',
      200,
      post(`/postback?key=${pub}`, 'caller_number=4155550172&x=1&x=2', { 'content-type': 'application/x-www-form-urlencoded' }),
    )
    const replayHeaders = { ...json, 'idempotency-key': 'oa-replay' }
    const first = await expectDocumented('/postback', 'post', 200, post('/postback', '{"caller_number":"4155550173","a":"1"}', replayHeaders))
    const replay = await expectDocumented('/postback', 'post', 200, post('/postback', '{"caller_number":"4155550173","a":"1"}', replayHeaders))
    expect(replay.body).toEqual(first.body)

    const refused = await expectDocumented('/postback', 'get', 400, get(`/postback?key=${pub}&age=39`))
    expect(refused.body.problems[0].code).toBe('MISSING_IDENTIFICATION')
    await expectDocumented('/postback', 'get', 400, get(`/postback?key=${pub}&caller_number=12`))
    await expectDocumented('/postback', 'get', 400, get(`/postback?key=${pub}&caller_number=4155550170&a=1`, { 'idempotency-key': 'x'.repeat(201) }))
    await expectDocumented('/postback', 'post', 400, post('/postback', '{"caller_number":', json))
    await expectDocumented('/postback', 'post', 400, post('/postback', '["caller_number"]', json))
    await expectDocumented('/postback', 'get', 404, get(`/postback?key=${pub}&call_uuid=nobody&a=1`))
    await expectDocumented('/postback', 'get', 401, get('/postback?caller_number=4155550170&a=1'))
    await expectDocumented('/postback', 'get', 401, get('/postback?key=rh_pub_wrong&caller_number=4155550170&a=1'))
    await expectDocumented('/postback', 'post', 401, post('/postback', '{"caller_number":"4155550170"}', { 'content-type': 'application/json' }))
    await expectDocumented('/postback', 'post', 415, post(`/postback?key=${pub}`, '<lead/>', { 'content-type': 'text/xml' }))
    await expectDocumented('/postback', 'post', 413, post('/postback', `{"caller_number":"4155550170","x":"${'x'.repeat(LIMIT)}"}`, json))
    await expectDocumented('/postback', 'get', 414, get(`/postback?key=${pub}&caller_number=4155550170&x=${'x'.repeat(LIMIT)}`))

    const limited = ok(
      await t.gql<{ createApiKey: { secret: string } }>(`mutation { createApiKey(input:{name:"limited", role:PUBLISHER, rateLimitPerMinute:1}) { secret } }`),
    ).createApiKey.secret
    await expectDocumented('/postback', 'get', 200, get(`/postback?key=${limited}&caller_number=4155550174&a=1`))
    await expectDocumented('/postback', 'get', 429, get(`/postback?key=${limited}&caller_number=4155550174&a=2`))
  })

  it('describes the answers of /data_writing in Retreaver’s shape', async () => {
    const pub = t.company.publisherKey
    for (const event of [
      { event: 'start', campaignId, uuid: 'oa-3', callerNumber: '4155550181' },
      { event: 'end', uuid: 'oa-3' },
    ])
      expect((await callEvent(event)()).status).toBe(200)
    const found = await expectDocumented('/data_writing/{key}', 'get', 200, get(`/data_writing/${pub}?call_uuid=oa-3&age=39`))
    expect(found.body).toEqual({ tag_values: { age: '39' }, call_uuid: 'oa-3', status: 'completed call found, tags applied' })
    const stored = await expectDocumented(
      '/data_writing',
      'post',
      200,
      post('/data_writing', `{"key":"${pub}","caller_number":"4155550180","age":39}`, { 'content-type': 'application/json' }),
    )
    expect(stored.body).toMatchObject({ caller_number: '+14155550180', status: 'call not found, tags stored' })
    await expectDocumented('/data_writing', 'get', 200, get(`/data_writing?key=${pub}&caller_number=4155550180&b=1`))
    await expectDocumented('/data_writing/{key}', 'get', 400, get(`/data_writing/${pub}?age=39`))
    await expectDocumented('/data_writing/{key}', 'get', 400, get(`/data_writing/${pub}%ZZ?caller_number=4155550180&age=39`))
    await expectDocumented('/data_writing/{key}', 'get', 401, get('/data_writing/rh_pub_wrong?caller_number=4155550180&age=39'))
    await expectDocumented('/data_writing/{key}', 'get', 404, get(`/data_writing/${pub}?call_uuid=nobody&age=39`))
    await expectDocumented(
      '/data_writing',
      'post',
      401,
      post('/data_writing', '{"caller_number":"4155550180","age":39}', { 'content-type': 'application/json' }),
    )
    await expectDocumented(
      '/data_writing',
      'post',
      413,
      post('/data_writing', `{"key":"${pub}","x":"${'x'.repeat(LIMIT)}"}`, { 'content-type': 'application/json' }),
    )
    await expectDocumented('/data_writing', 'post', 415, post(`/data_writing?key=${pub}`, 'caller_number=4155550180', { 'content-type': 'text/plain' }))
  })

  it('tells an answer that drifts from the document apart (the check can fail)', () => {
    expect(check('/call-events', 'post', { status: 400, body: { error: 'event: is required', field: 'event' } })).toMatch(/must have required property 'code'/)
    expect(check('/call-events', 'post', { status: 422, body: {} })).toMatch(/does not document 422/)
    expect(check('/postback', 'get', { status: 200, body: { outcome: 'CALL_FOUND', status: 'call found, tags applied', extra: 1 } })).toMatch(
      /must have required property|additional/,
    )
    expect(check('/data_writing', 'get', { status: 429, headers: new Headers(), body: { status: 'rejected', error: 'x', problems: [] } })).toMatch(
      /Retry-After/,
    )
  })
})

describe('the OpenAPI document against answers while the database cannot be reached', () => {
  it('describes 503 with retryable and Retry-After on the postback and call-event doors', async () => {
    // a PostgreSQL URL on a loopback port nothing listens on: the key lookup itself fails
    const server = await startBareServer('postgres://postgres@127.0.0.1:1/none')
    try {
      const served = await request(`${server.url}/openapi.json`)
      expect(served.status).toBe(200)
      const check = answerChecker(served.body as Document)
      const postback = await request(`${server.url}/postback?key=rh_pub_x&caller_number=4155550100&a=1`)
      expect(postback.status).toBe(503)
      expect(check('/postback', 'get', postback)).toBeNull()
      const retreaver = await request(`${server.url}/data_writing/rh_pub_x?caller_number=4155550100&a=1`)
      expect(retreaver.status).toBe(503)
      expect(check('/data_writing/{key}', 'get', retreaver)).toBeNull()
      const event = await request(`${server.url}/call-events`, {
        method: 'POST',
        headers: { authorization: 'Bearer rh_adm_x', 'content-type': 'application/json' },
        body: '{"event":"answered","uuid":"x"}',
      })
      expect(event.status).toBe(503)
      expect(check('/call-events', 'post', event)).toBeNull()
    } finally {
      await server.close()
    }
  })
})
