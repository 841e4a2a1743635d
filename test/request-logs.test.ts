// One log line per HTTP request (id, method, route, path, status, duration, bytes), the X-Request-Id echoed,
// a line when a WebSocket opens and closes; publisher keys (in /data_writing/<key> paths and ?key= queries),
// admin keys and bodies reach no line.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startTestApp, until, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { base } from './helpers/postback.js'

interface Line {
  msg: string
  reqId?: string
  method?: string
  route?: string
  path?: string
  status?: number
  ms?: number
  bytes?: number
}

describe(`request logs on ${testProvider}`, () => {
  let t: TestApp
  let root: string
  const text: string[] = []
  const lines = () =>
    text
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line)
  const requestLines = (reqId: string) => lines().filter((l) => l.msg === 'request' && l.reqId === reqId)

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        text.push(chunk.toString())
        done()
      },
    })
    t = await startTestApp({ logger: pino({ level: 'info', base: undefined }, stream) })
    root = base(t.url)
  })
  afterAll(async () => {
    await t?.close()
  })

  /** A request; answers its status and the X-Request-Id it was given back, once its line is written. */
  async function send(path: string, init: RequestInit = {}): Promise<{ status: number; id: string; line: Line }> {
    const res = await fetch(`${root}${path}`, init)
    await res.arrayBuffer()
    const id = res.headers.get('x-request-id')
    expect(id).toBeTruthy()
    await until(() => requestLines(id!).length > 0)
    const found = requestLines(id!)
    expect(found).toHaveLength(1)
    return { status: res.status, id: id!, line: found[0]! }
  }

  it('writes one line per request with its id, route, path, status, duration and bytes, and echoes the id', async () => {
    const given = await send('/healthz', { headers: { 'x-request-id': 'lb-4f2a.77:retry-1' } })
    expect(given.id).toBe('lb-4f2a.77:retry-1')
    expect(given.line).toMatchObject({ method: 'GET', route: 'health', path: '/healthz', status: 200 })
    expect(given.line.ms).toBeGreaterThanOrEqual(0)
    expect(given.line.bytes).toBeGreaterThan(0)

    // none given, or one that is not an id: one is made
    const made = await send('/readyz')
    expect(made.id).toMatch(/^[0-9a-f-]{36}$/)
    const odd = await send('/healthz', { headers: { 'x-request-id': `${'x'.repeat(200)}` } })
    expect(odd.id).toMatch(/^[0-9a-f-]{36}$/)
    const spaced = await send('/healthz', { headers: { 'x-request-id': 'two words' } })
    expect(spaced.id).toMatch(/^[0-9a-f-]{36}$/)

    const gql = await send('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.company.adminKey}` },
      body: JSON.stringify({ query: '{ company { id } }' }),
    })
    expect(gql.line).toMatchObject({ method: 'POST', route: 'graphql', path: '/graphql', status: 200 })
    const missing = await send('/no/such/thing.js?x=1')
    expect(missing.line).toMatchObject({ route: 'other', path: '/no/such/thing.js', status: 404 })
    const refused = await send('/call-events', { method: 'POST', body: '{}' })
    expect(refused.line).toMatchObject({ method: 'POST', route: 'call_events', status: 401 })
  })

  it('keeps publisher keys, admin keys and bodies out of every line', async () => {
    const key = t.company.publisherKey
    const marker = 'body-value-that-must-not-be-logged'
    const inPath = await send(`/data_writing/${key}?caller_number=%2B14155550190&lead=${marker}`)
    expect(inPath.status).toBe(200)
    expect(inPath.line).toMatchObject({ route: 'data_writing', path: '/data_writing/:key', status: 200 })
    const inQuery = await send(`/postback?key=${key}&caller_number=%2B14155550191&lead=${marker}`)
    expect(inQuery.status).toBe(200)
    expect(inQuery.line).toMatchObject({ route: 'postback', path: '/postback', status: 200 })
    const inHeader = await send('/postback', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ringhook-key': key },
      body: JSON.stringify({ caller_number: '+14155550192', lead: marker }),
    })
    expect(inHeader.line).toMatchObject({ method: 'POST', route: 'postback', status: 200 })
    // an unknown key in the path is a key too
    const unknown = await send('/data_writing/rh_pub_not_a_real_key_123?caller_number=%2B14155550193')
    expect(unknown.line).toMatchObject({ path: '/data_writing/:key', status: 401 })

    const all = text.join('')
    expect(all).toContain('"route":"data_writing"')
    for (const secret of [key, t.company.adminKey, marker, 'rh_pub_not_a_real_key_123', '14155550190']) expect(all).not.toContain(secret)
    expect(all.toLowerCase()).not.toMatch(/authorization|x-ringhook-key/)
  })

  it('writes a line when a WebSocket opens and one when it closes', async () => {
    const socket = new WebSocket(`${root.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers: { 'x-request-id': 'ws-1' } })
    await new Promise((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
    })
    await until(() => lines().some((l) => l.msg === 'websocket opened' && l.reqId === 'ws-1'))
    socket.close()
    await until(() => lines().some((l) => l.msg === 'websocket closed' && l.reqId === 'ws-1'))
    const [opened, closed] = lines().filter((l) => l.reqId === 'ws-1')
    expect(opened).toMatchObject({ route: 'graphql', path: '/graphql', method: 'GET' })
    expect(closed!.ms).toBeGreaterThanOrEqual(0)
    expect(lines().filter((l) => l.reqId === 'ws-1')).toHaveLength(2)
  })
})
