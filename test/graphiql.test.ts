// GraphiQL for a browser at GET /graphql: made once and sent as the same bytes (gzip when the browser takes
// it, revalidated by ETag), every asset inlined; GraphQL over GET still answers as GraphQL.
import http from 'node:http'
import zlib from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'

/** A raw GET (fetch would undo the gzip): status, headers and the body's bytes. */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      })
      .on('error', reject)
  })
}

describe(`GraphiQL page on ${testProvider}`, () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp()
  })
  afterAll(async () => t?.close())

  it('is sent gzipped with an ETag, answers 304 when the browser has it, and loads nothing from elsewhere', async () => {
    const zipped = await get(t.url, { accept: 'text/html', 'accept-encoding': 'gzip' })
    expect(zipped.status).toBe(200)
    expect(zipped.headers['content-encoding']).toBe('gzip')
    const html = zlib.gunzipSync(zipped.body).toString('utf8')
    expect(html).toContain('YogaGraphiQL')
    expect(html).not.toMatch(/<script[^>]+src="https?:/)
    const plain = await get(t.url, { accept: 'text/html' })
    expect(zipped.body.length).toBeLessThan(plain.body.length / 2)
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body.toString('utf8')).toBe(html)
    expect(plain.headers.etag).toBe(zipped.headers.etag)
    const again = await get(t.url, { accept: 'text/html', 'if-none-match': String(zipped.headers.etag) })
    expect([again.status, again.body.length]).toEqual([304, 0])
    // a GraphQL GET is still GraphQL
    const query = await get(`${t.url}?query=${encodeURIComponent('{ company { name } }')}`, {
      accept: 'application/json',
      authorization: `Bearer ${t.company.adminKey}`,
    })
    expect(JSON.parse(query.body.toString('utf8'))).toEqual({ data: { company: { name: 'Acme' } } })
  })
})
