// The GraphQL door under bad input: documents too deep or too large refused before parsing goes deep,
// unreadable parameters and missing queries answered 400, every error with a code, impossible times and
// unstorable text refused naming the field, and an unreachable database answered as such.
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompany } from '../src/tenancy/createCompany.js'
import { ok, startBareServer, startTestApp, type TestApp } from './helpers/app.js'
import { createTestDatabase, testProvider } from './helpers/db.js'
import { base, request } from './helpers/postback.js'
import { createCampaign } from './fixtures.js'

describe(`GraphQL hardening on ${testProvider}`, () => {
  let t: TestApp
  let campaignId: string
  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_QUERY_COST: '400' } })
    campaignId = await createCampaign(t)
  })
  afterAll(async () => t?.close())

  const post = (body: string, headers: Record<string, string> = {}) =>
    request(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.company.adminKey}`, ...headers }, body })

  it('refuses very deep documents with 400 QUERY_LIMIT_EXCEEDED before parsing them, over HTTP and graphql-ws', async () => {
    const documents = [
      `{${'a{'.repeat(3000)}b${'}'.repeat(3000)}}`,
      `{ calls(filter: ${'{a:'.repeat(8000)}1${'}'.repeat(8000)}) { edges { cursor } } }`,
      `{ calls(filter: {campaignId: ${'['.repeat(10_000)}1${']'.repeat(10_000)}}) { edges { cursor } } }`,
    ]
    for (const query of documents) {
      const a = await post(JSON.stringify({ query }))
      expect(a.status).toBe(400)
      expect(a.body.errors[0].extensions).toEqual({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'MAX_QUERY_TOKENS', max: 1000 })
      expect(a.body.errors[0].message).not.toMatch(/Syntax Error/)
    }
    const client = createClient({
      url: t.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t.company.adminKey}` },
      retryAttempts: 0,
    })
    try {
      const errors = await new Promise<unknown>((resolve) => {
        client.subscribe({ query: `subscription ${documents[0]!}` }, { next: () => {}, error: resolve, complete: () => resolve(null) })
      })
      expect(JSON.stringify(errors)).toMatch(/QUERY_LIMIT_EXCEEDED/)
      // the socket is still usable
      const typename = await new Promise((resolve, reject) =>
        client.subscribe({ query: '{ __typename }' }, { next: resolve, error: reject, complete: () => {} }),
      )
      expect(typename).toEqual({ data: { __typename: 'Query' } })
    } finally {
      await client.dispose()
    }
  })

  it('gives depth and cost refusals a code and plain words, and `first: -1` BAD_USER_INPUT naming the argument', async () => {
    const deep = await t.gql(`{ calls { edges { node { campaign { webhooks { campaign { webhooks { campaign { webhooks { campaign { id } } } } } } } } } } }`)
    expect(deep.status).toBe(400)
    expect(deep.errors?.[0]).toEqual({
      message: 'the query nests selections 11 levels deep; MAX_QUERY_DEPTH allows 10',
      extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: 'MAX_QUERY_DEPTH', max: 10, found: 11 },
    })
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: calls { edges { node { uuid tags { key value } } } }`).join(' ')
    const costly = await t.gql(`{ ${aliases} }`)
    expect(costly.status).toBe(400)
    expect(costly.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'MAX_QUERY_COST', max: 400 })
    expect(costly.errors?.[0]?.message).toMatch(/^the query costs \d+; MAX_QUERY_COST allows 400$/)
    const negative = await t.gql(`{ calls(first: -1) { edges { cursor } } }`)
    expect(negative.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' })
  })

  it('answers unreadable GET and form parameters and a missing query with 400', async () => {
    const auth = { authorization: `Bearer ${t.company.adminKey}`, accept: 'application/json' }
    const get = await request(`${t.url}?query=${encodeURIComponent('{ __typename }')}&variables=%7B`, { headers: auth })
    expect(get.status).toBe(400)
    expect(get.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'variables' })
    const extensions = await request(`${t.url}?query=${encodeURIComponent('{ __typename }')}&extensions=nope`, { headers: auth })
    expect(extensions.status).toBe(400)
    expect(extensions.body.errors[0].extensions.field).toBe('extensions')
    const form = await request(t.url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7B__typename%7D&variables=%5B',
    })
    expect(form.status).toBe(400)
    for (const missing of [await request(t.url, { headers: auth }), await post('{}')]) {
      expect(missing.status).toBe(400)
      expect(missing.body.errors[0].message).toMatch(/Must provide query string/)
      expect(missing.body.errors[0].extensions.code).toBeTruthy()
    }
    const ok200 = await request(`${t.url}?query=${encodeURIComponent('{ __typename }')}&variables=%7B%7D`, { headers: auth })
    expect(ok200.status).toBe(200)
    expect(ok200.body).toEqual({ data: { __typename: 'Query' } })
  })

  it('refuses times that do not exist or lie outside the window, naming the field, on GraphQL and REST', async () => {
    const start = (startedAt: string) =>
      t.gql(`mutation($i:StartCallInput!){ startCall(input:$i) { id } }`, { i: { campaignId, callerNumber: '+14155550100', startedAt } })
    const impossible = await start('2026-02-30T00:00:00Z')
    expect(impossible.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' })
    for (const [at, why] of [
      ['0000-01-01T00:00:00Z', /outside the range/],
      ['1999-12-31T23:00:00Z', /before 2000-01-01/],
      ['9999-01-01T00:00:00Z', /more than a day ahead/],
    ] as const) {
      const r = await start(at)
      expect(r.errors?.[0]?.message, at).toMatch(why)
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    }
    const event = (body: Record<string, unknown>) =>
      request(`${base(t.url)}/call-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.company.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    for (const [startedAt, why] of [
      ['2026-02-30T00:00:00Z', /not an ISO 8601 time that exists/],
      ['2026-11-30T24:00:00Z', /not an ISO 8601 time that exists/],
      ['0000-01-01T00:00:00Z', /before 2000-01-01/],
      ['9999-12-31T00:00:00Z', /more than a day ahead/],
    ] as const) {
      const r = await event({ event: 'start', campaignId, callerNumber: '4155550100', startedAt })
      expect(r.status, startedAt).toBe(400)
      expect(r.body).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startedAt' })
      expect(r.body.error).toMatch(why)
    }
    expect(await t.app.db.call.count()).toBe(0)
    const filter = await t.gql(`{ calls(filter: {startedAfter: "0000-01-01T00:00:00Z"}) { edges { cursor } } }`)
    expect(filter.errors?.[0]?.message).toMatch(/outside the range the API takes/)
  })

  it('refuses control characters in names and NUL in texts it stores, naming the field', async () => {
    const campaign = await t.gql(`mutation($n:String!){ createCampaign(input:{name:$n}) { id } }`, { n: 'a\u0000b' })
    expect(campaign.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' })
    const key = await t.gql(`mutation($n:String!){ createApiKey(input:{name:$n, role:ADMIN}) { secret } }`, { n: 'line\nbreak' })
    expect(key.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' })
    const call = ok(
      await t.gql<{ startCall: { uuid: string } }>(`mutation($c:ID!){ startCall(input:{campaignId:$c, callerNumber:"4155550100"}) { uuid } }`, {
        c: campaignId,
      }),
    ).startCall
    const tags = await t.gql(`mutation($u:String!){ addCallTags(input:{uuid:$u, tags:[{key:"a", value:"x\\u0000"}]}) { uuid } }`, { u: call.uuid })
    expect(tags.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tags[0].value' })
  })

  it('refuses NUL in any input string before looking anything up (PostgreSQL cannot compare it), naming the field', async () => {
    const byVariable = await t.gql(`query($id:ID!){ campaign(id:$id) { id } }`, { id: 'a\u0000' })
    expect(byVariable.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'id' })
    const nested = await t.gql(`mutation($i:CreateWebhookInput!){ createWebhook(input:$i) { id } }`, {
      i: { campaignId, name: 'w', trigger: 'CALL_START', url: 'http://x/', matches: [{ conditions: [{ key: 'k', operator: 'EQUALS', value: 'v\u0000' }] }] },
    })
    expect(nested.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'matches[0].conditions[0].value' })
    const literal = await t.gql(`{ call(uuid: "x\\u0000") { id } }`)
    expect(literal.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'uuid' })
    expect(literal.status).toBe(400)
    const inFragment = await t.gql(`query { ...f } fragment f on Query { campaign(id: "\\u0000") { id } }`)
    expect(inFragment.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'id' })
    const event = await request(`${base(t.url)}/call-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.company.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'start', campaignId: 'c\u0000', callerNumber: '4155550100' }),
    })
    expect(event.status).toBe(400)
    expect(event.body).toMatchObject({ code: 'BAD_USER_INPUT', field: 'campaignId' })
  })

  it('creates a company and its keys in one transaction', async () => {
    const db = t.app.db
    const companies = await db.company.count()
    // make the second key's insert fail inside the transaction
    if (testProvider === 'sqlite') {
      await db.$executeRawUnsafe(
        `CREATE TRIGGER refuse_publisher BEFORE INSERT ON "ApiKey" WHEN NEW."role" = 'PUBLISHER' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
      )
    } else {
      await db.$executeRawUnsafe(
        `CREATE FUNCTION refuse_publisher() RETURNS trigger AS $$ BEGIN IF NEW."role" = 'PUBLISHER' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
      )
      await db.$executeRawUnsafe(`CREATE TRIGGER refuse_publisher BEFORE INSERT ON "ApiKey" FOR EACH ROW EXECUTE FUNCTION refuse_publisher()`)
    }
    try {
      await expect(createCompany(db, 'Half made')).rejects.toThrow()
      expect(await db.company.count()).toBe(companies)
      expect(await db.apiKey.count({ where: { company: { name: 'Half made' } } })).toBe(0)
    } finally {
      await db.$executeRawUnsafe(testProvider === 'sqlite' ? 'DROP TRIGGER refuse_publisher' : 'DROP TRIGGER refuse_publisher ON "ApiKey"')
    }
  })
})

describe('answers while the database cannot be reached', () => {
  it('says a retry later can help: 503 with retryable, on GraphQL, postbacks and call events', async () => {
    // a PostgreSQL URL on a loopback port nothing listens on: the key lookup itself fails
    const server = await startBareServer('postgres://postgres@127.0.0.1:1/none')
    try {
      const url = server.url
      const gql = await request(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer rh_adm_x' },
        body: '{"query":"{ __typename }"}',
      })
      expect(gql.status).toBe(503)
      expect(gql.headers.get('retry-after')).toBe('5')
      expect(gql.body.errors[0]).toMatchObject({
        message: expect.stringMatching(/cannot be reached/),
        extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true },
      })
      const postback = await request(`${url}/postback?key=rh_pub_x&caller_number=4155550100&a=1`)
      expect(postback.status).toBe(503)
      expect(postback.body).toMatchObject({ retryable: true, error: expect.stringMatching(/retry later with the same Idempotency-Key/) })
      const event = await request(`${url}/call-events`, {
        method: 'POST',
        headers: { authorization: 'Bearer rh_adm_x', 'content-type': 'application/json' },
        body: '{"event":"answered","uuid":"x"}',
      })
      expect(event.status).toBe(503)
      expect(event.body).toMatchObject({ retryable: true })
    } finally {
      await server.close()
    }
  })

  it('tells an unexpected failure apart: 500, and a retry will not help', async () => {
    // a database without tables: every query fails, and not because the database is out of reach
    const database = await createTestDatabase('postgres')
    const server = await startBareServer(database.url)
    try {
      const gql = await request(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer rh_adm_x' },
        body: '{"query":"{ __typename }"}',
      })
      expect(gql.status).toBe(500)
      expect(gql.body.errors[0].extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', retryable: false })
    } finally {
      await server.close()
      await database.drop()
    }
  })
})
