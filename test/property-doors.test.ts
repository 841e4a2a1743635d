// Property tests over every input door: whatever is sent, the answer is never a 5xx, and every postback that
// carried a valid publisher key where it can be read (the URL, a header) is in the postback log afterwards.
// Bounded: a fixed number of runs per door, each property stopped after a time limit.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { base } from './helpers/postback.js'
import { createCampaign, startCall } from './fixtures.js'

const RUNS = 300
const TIME_LIMIT_MS = 15_000
const run = { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS }

/** Text of any code points, lone surrogates, NUL and control characters included. */
const anyText = (maxLength = 24) => fc.string({ unit: 'binary', maxLength })
/** URL text: percent signs (well-formed or not), reserved characters and anything else, not encoded. */
const urlText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '%',
        '%ZZ',
        '%FF',
        '%C3',
        '%00',
        '%25',
        '&',
        '=',
        '?',
        '#',
        '+',
        '[',
        ']',
        '.',
        ' ',
        '__proto__',
        'key',
        'caller_number',
        'call_uuid',
        '4155550100',
      ),
      fc.string({ maxLength: 4 }),
      anyText(3),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''))
/** Nested as deep as the generator likes, past the depth limit too. */
const deep = fc
  .integer({ min: 1, max: 3000 })
  .chain((depth) => fc.constantFrom('{"a":', '[').map((open) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`))
const callerNumber = fc.oneof(fc.constantFrom('4155550100', '+14155550199', '(415) 555-0111', '4155550100 ext 5', '', '12', 'x'), anyText(12))
const payloadJson = fc.oneof(
  fc
    .record({ caller_number: callerNumber, call_uuid: fc.option(anyText(8)), extra: fc.jsonValue({ maxDepth: 4 }) }, { requiredKeys: [] })
    .map((o) => JSON.stringify(o)),
  fc.dictionary(anyText(10), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }).map((o) => JSON.stringify(o)),
  deep.map((d) => `{"caller_number":"4155550100","x":${d}}`),
  anyText(60),
)
const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-8', 'multipart/form-data', ''),
  fc.string({ maxLength: 20 }),
)

describe(`property: no door answers 5xx, and every keyed postback is logged, on ${testProvider}`, () => {
  let t: TestApp
  let pub: string
  let campaignId: string
  let server: string
  beforeAll(async () => {
    t = await startTestApp({ env: { BODY_LIMIT_BYTES: '16384', POSTBACK_RATE_LIMIT_PER_MINUTE: '0' } })
    pub = t.company.publisherKey
    server = base(t.url)
    campaignId = await createCampaign(t)
    await startCall(t, { campaignId, uuid: 'prop-1', callerNumber: '+14155550100' })
  })
  afterAll(async () => t?.close())

  const count = () => t.app.db.postback.count()
  /** Sends, checks the status is not 5xx; answers the status. */
  async function send(path: string, init: RequestInit = {}): Promise<number> {
    const res = await fetch(`${server}${path}`, init)
    const text = await res.text()
    expect(res.status, `${init.method ?? 'GET'} ${path.slice(0, 200)} -> ${text.slice(0, 300)}`).toBeLessThan(500)
    return res.status
  }
  /** One request with a valid key: not 5xx, and logged exactly once. */
  async function sendLogged(path: string, init: RequestInit = {}): Promise<void> {
    const before = await count()
    const status = await send(path, init)
    expect(await count(), `${path.slice(0, 200)} answered ${status} but was not logged`).toBe(before + 1)
  }

  it('GET /postback with any query and a valid key', async () => {
    await fc.assert(
      fc.asyncProperty(urlText, async (query) => sendLogged(`/postback?key=${pub}&${query}`)),
      run,
    )
  })

  it('POST /postback with any body and content type, the key in a header', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          payloadJson,
          fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('latin1')),
        ),
        contentType,
        async (body, type) =>
          sendLogged(`/postback?${new URLSearchParams({ n: '1' })}`, {
            method: 'POST',
            headers: { 'x-ringhook-key': pub, ...(type ? { 'content-type': type } : {}) },
            body,
          }),
      ),
      run,
    )
  })

  it('POST /postback with form bodies of any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(anyText(10), anyText(20)), { maxLength: 8 }), urlText, async (pairs, raw) => {
        const body =
          pairs
            .map(([k, v]) => `${encodeURIComponent(k.replace(/[\ud800-\udfff]/g, 'x'))}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, 'x'))}`)
            .join('&') + raw
        await sendLogged(`/postback?key=${pub}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
      }),
      run,
    )
  })

  it('GET /data_writing/<key> with any query, anything after the key, and no key at all', async () => {
    await fc.assert(
      fc.asyncProperty(urlText, async (query) => sendLogged(`/data_writing/${pub}?${query}`)),
      run,
    )
    await fc.assert(
      fc.asyncProperty(urlText, urlText, async (after, query) => void (await send(`/data_writing/${pub}${after.replace(/[?#/]/g, '')}?${query}`))),
      run,
    )
    await fc.assert(
      fc.asyncProperty(urlText, urlText, async (segment, query) => void (await send(`/data_writing/${segment.replace(/[?#/]/g, '')}?${query}`))),
      run,
    )
  })

  it('POST /data_writing with any body: the key inside it when it can be read', async () => {
    await fc.assert(
      fc.asyncProperty(payloadJson, contentType, fc.boolean(), async (body, type, keyInBody) => {
        const withKey = keyInBody && body.startsWith('{"') ? `{"key":"${pub}",${body.slice(1)}` : body
        await send('/data_writing', { method: 'POST', headers: type ? { 'content-type': type } : {}, body: withKey })
      }),
      run,
    )
  })

  it('POST /call-events with any event', async () => {
    const event = fc.record(
      {
        event: fc.oneof(fc.constantFrom('start', 'answered', 'end', 'conversion', 'START', 'constructor', '__proto__'), anyText(8)),
        campaignId: fc.oneof(fc.constant(campaignId), anyText(8)),
        uuid: fc.oneof(fc.constantFrom('prop-1', 'prop-2', ''), anyText(12)),
        callerNumber,
        calledNumber: fc.option(callerNumber),
        startedAt: fc.oneof(
          fc.constantFrom('2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', new Date().toISOString(), '2026-11-30T24:00:00Z'),
          anyText(10),
        ),
        endedAt: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          anyText(10),
        ),
        tags: fc.oneof(
          fc.dictionary(anyText(10), fc.oneof(anyText(20), fc.integer(), fc.boolean(), fc.jsonValue({ maxDepth: 2 }))),
          fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        waitForWebhooksMs: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double(), anyText(4)),
      },
      { requiredKeys: ['event'] },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          event.map((e) => JSON.stringify(e)),
          payloadJson,
        ),
        async (body) =>
          void (await send('/call-events', {
            method: 'POST',
            headers: { authorization: `Bearer ${t.company.adminKey}`, 'content-type': 'application/json' },
            body,
          })),
      ),
      run,
    )
  })

  it('GraphQL: ingestPostback with any payload in its variables (logged unless the variable itself is refused)', async () => {
    // the payload as JSON text (deep ones are past what JSON.stringify can write)
    const payloadText = fc.oneof(
      fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
      payloadJson.map((p) => {
        try {
          JSON.parse(p)
          return p
        } catch {
          return JSON.stringify(p)
        }
      }),
    )
    const query = JSON.stringify('mutation($p:JSON!,$k:String){ ingestPostback(payload:$p, idempotencyKey:$k) { outcome } }')
    const keysSeen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(payloadText, fc.option(anyText(30)), async (payload, idempotencyKey) => {
        const before = await count()
        const status = await send('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${pub}` },
          body: `{"query":${query},"variables":{"p":${payload},"k":${JSON.stringify(idempotencyKey)}}}`,
        })
        // null does not satisfy JSON!; a repeated Idempotency-Key answers the first postback again; a request
        // over the body limit is no postback yet (413)
        const repeat = idempotencyKey !== null && keysSeen.has(idempotencyKey)
        if (idempotencyKey !== null && status !== 413) keysSeen.add(idempotencyKey)
        if (payload !== 'null' && !repeat && status !== 413) expect(await count()).toBe(before + 1)
      }),
      run,
    )
  })

  it('GraphQL: any document, over POST and GET', async () => {
    const document = fc.oneof(
      anyText(200),
      fc.constantFrom(
        '{ calls { edges { node { uuid } } } }',
        'mutation { createCampaign(input: {name: "x"}) { id } }',
        '{ calls(first: -1) { edges { cursor } } }',
        'subscription { callUpdated { event } }',
        '{ __schema { types { name } } }',
      ),
      deep.map((d) => `{ calls(filter: {campaignId: ${d.replaceAll('"', '')}}) { edges { cursor } } }`),
    )
    await fc.assert(
      fc.asyncProperty(
        document,
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          anyText(20),
        ),
        async (query, variables) => {
          await send('/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${t.company.adminKey}` },
            body: JSON.stringify({ query, variables }),
          })
          await send(
            `/graphql?${new URLSearchParams({ query: query.replace(/[\ud800-\udfff]/g, 'x'), variables: variables.replace(/[\ud800-\udfff]/g, 'x') })}`,
            { headers: { authorization: `Bearer ${t.company.adminKey}`, accept: 'application/json' } },
          )
        },
      ),
      run,
    )
  })
})
