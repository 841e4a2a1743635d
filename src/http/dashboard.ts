// The dashboard (web/, built into web/dist) at /: the build's files, and index.html for every page's URL (the
// pages route in the browser, on history URLs). The API's own paths are never answered here, so a wrong
// method or a typo there keeps its JSON 404.
import fs from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sendJson } from './readBody.js'

export const DASHBOARD_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist')

/** The API's paths (and everything under them): never the dashboard's. */
export const API_PATHS = ['/graphql', '/postback', '/data_writing', '/call-events', '/healthz', '/readyz', '/metrics', '/openapi.json', '/agendash']

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}

// the page loads only its own files and talks only to its own origin (HTTP and graphql-ws)
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

const IMMUTABLE = 'public, max-age=31536000, immutable'

export interface DashboardRoutes {
  handles(method: string | undefined, path: string): boolean
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>
}

export function createDashboardRoutes(dist = DASHBOARD_DIST): DashboardRoutes {
  const root = path.resolve(dist)
  return {
    handles: (method, urlPath) => (method === 'GET' || method === 'HEAD') && !API_PATHS.some((p) => urlPath === p || urlPath.startsWith(`${p}/`)),
    async handle(req, res, urlPath) {
      const file = fileOf(root, urlPath)
      if (!file) return sendJson(res, 404, { error: `no file ${urlPath}` })
      const hashed = urlPath.startsWith('/assets/')
      const looksLikeFile = hashed || CONTENT_TYPES[path.extname(urlPath).toLowerCase()] !== undefined
      const found = await regularFile(file)
      if (found && hashed && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        // the build wrote a gzip copy of each script and stylesheet
        const gz = await regularFile(`${file}.gz`)
        if (gz) return sendFile(req, res, `${file}.gz`, gz, IMMUTABLE, { 'content-encoding': 'gzip', vary: 'accept-encoding' }, file)
      }
      if (found) {
        const headers: Record<string, string> = hashed ? { vary: 'accept-encoding' } : file.endsWith('.html') ? PAGE_HEADERS : {}
        return sendFile(req, res, file, found, hashed ? IMMUTABLE : 'no-cache', headers)
      }
      if (looksLikeFile) return sendJson(res, 404, { error: `no file ${urlPath}` })
      // a page's URL: the app routes it
      const index = path.join(root, 'index.html')
      const page = await regularFile(index)
      if (!page) return sendJson(res, 503, { error: 'the dashboard is not built: run `npm run build:web` (npm install and npm start build it)' })
      return sendFile(req, res, index, page, 'no-cache', PAGE_HEADERS)
    },
  }
}

/** The file under the build a URL path names; null when it would leave the build (traversal) or cannot be decoded. */
function fileOf(root: string, urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null
  const file = path.resolve(root, `.${path.posix.normalize(decoded)}`)
  return file === root || file.startsWith(`${root}${path.sep}`) ? file : null
}

async function regularFile(file: string): Promise<fs.Stats | null> {
  const stats = await fs.promises.stat(file).catch(() => null)
  return stats?.isFile() ? stats : null
}

/** `typeOf`: the file whose extension names the content type (a .gz copy is sent as what it holds). */
function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  stats: fs.Stats,
  cacheControl: string,
  headers: Record<string, string> = {},
  typeOf = file,
) {
  const type = CONTENT_TYPES[path.extname(typeOf).toLowerCase()] ?? 'application/octet-stream'
  res.writeHead(200, {
    'content-type': type,
    'content-length': String(stats.size),
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
    ...headers,
  })
  if (req.method === 'HEAD') return void res.end()
  return new Promise<void>((resolve) => {
    const stream = fs.createReadStream(file)
    stream.on('error', () => res.destroy())
    stream.on('close', resolve)
    stream.pipe(res)
  })
}
