// GraphiQL at GET /graphql for a browser, its assets inlined (Yoga's default page loads them from a CDN
// and stays blank offline). The page is about 9 MB: it is made once, kept as bytes and as gzip, and every
// browser is sent the same Buffer; made per request, a few clients that do not read could hold gigabytes.
import crypto from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { promisify } from 'node:util'
import zlib from 'node:zlib'

const gzip = promisify(zlib.gzip)

interface Page {
  raw: Buffer
  gzip: Buffer
  etag: string
}

export interface GraphiqlPage {
  /** a browser asking for the page: GET or HEAD of the endpoint, accepting HTML */
  handles(req: IncomingMessage, path: string): boolean
  send(req: IncomingMessage, res: ServerResponse): Promise<void>
}

export function createGraphiqlPage(endpoint: string, options: { title: string; headers: string }): GraphiqlPage {
  let page: Promise<Page> | null = null
  const make = async (): Promise<Page> => {
    const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql')
    const raw = Buffer.from(renderGraphiQL({ ...options, endpoint }))
    return { raw, gzip: await gzip(raw, { level: 9 }), etag: `"${crypto.createHash('sha256').update(raw).digest('base64url').slice(0, 16)}"` }
  }
  return {
    handles: (req, path) => path === endpoint && (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html'),
    async send(req, res) {
      page ??= make().catch((e) => {
        page = null
        throw e
      })
      const { raw, gzip: zipped, etag } = await page
      const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', etag, 'cache-control': 'no-cache', vary: 'accept-encoding' }
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers)
        return void res.end()
      }
      const zippedOk = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
      const body = zippedOk ? zipped : raw
      res.writeHead(200, { ...headers, ...(zippedOk ? { 'content-encoding': 'gzip' } : {}), 'content-length': String(body.length) })
      res.end(req.method === 'HEAD' ? undefined : body)
    },
  }
}
