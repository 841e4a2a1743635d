import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/core/config.js'
import { startBareServer, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'

describe(`limits, errors and health on ${testProvider}`, () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp({ env: { BODY_LIMIT_BYTES: '2048', MAX_QUERY_DEPTH: '6', MAX_QUERY_COST: '400' } })
  })
  afterAll(async () => t?.close())

  it('answers 413 to a body over the limit and stores nothing', async () => {
    const name = 'x'.repeat(4096)
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.company.adminKey}` },
      body: JSON.stringify({ query: `mutation { createCampaign(input:{name:"${name}"}) { id } }` }),
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({ error: 'request body is larger than the limit of 2048 bytes' })
    expect(await t.app.db.campaign.count()).toBe(0)
  })

  it('refuses a query deeper than the limit, and one costing more than the limit', async () => {
    const deep = await t.gql('{ calls { edges { node { campaign { webhooks { campaign { webhooks { id } } } } } } } }')
    expect(deep.errors?.[0]?.message).toMatch(/depth/i)
    expect(deep.data ?? null).toBeNull()
    expect((await t.gql('{ calls { edges { node { uuid tags { key value } } } } }')).errors).toBeUndefined()
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: calls { edges { node { uuid tags { key value } } } }`).join(' ')
    const costly = await t.gql(`{ ${aliases} }`)
    expect(costly.errors?.[0]?.message).toMatch(/cost/i)
  })

  it('answers /healthz, /readyz while the database is reachable, and GraphiQL to a browser', async () => {
    const base = t.url.replace(/\/graphql$/, '')
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready' })
    const graphiql = await fetch(t.url, { headers: { accept: 'text/html' } })
    expect(graphiql.status).toBe(200)
    expect(await graphiql.text()).toMatch(/<title>Ringhook<\/title>[\s\S]*graphiql/i)
    // any other GET path is a page of the dashboard; other methods have no route
    const page = await fetch(`${base}/nope`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    await page.arrayBuffer()
    const unknown = await fetch(`${base}/nope`, { method: 'POST' })
    expect(unknown.status).toBe(404)
    expect((await unknown.json()).error).toMatch(/no route/)
  })

  it('answers /readyz 503 when the database cannot be reached', async () => {
    // a PostgreSQL URL on a loopback port nothing listens on
    const server = await startBareServer('postgres://postgres@127.0.0.1:1/none')
    try {
      const res = await fetch(`${server.url}/readyz`)
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ status: 'database unreachable' })
    } finally {
      await server.close()
    }
  })

  it('stops at start with a message naming a bad setting', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/)
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must start with file: or postgres:\/\//)
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL/)
  })
})
