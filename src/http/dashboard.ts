// The dashboard (web/, built into web/dist) at /: the build's files, and index.html for every page's URL (the
// pages route in the browser, on history URLs). The API's own paths are never answered here, so a wrong
// method or a typo there keeps its JSON 404.
import fs from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sendJson } from './readBody.js'
import { contentTypeOf } from './staticFiles.js'

export const DASHBOARD_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist')

/** The API's paths (and everything under them): never the dashboard's. */
export const API_PATHS = ['/graphql', '/postback', '/data_writing', '/call-events', '/healthz', '/readyz', '/metrics', '/openapi.json', '/agendash']

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
  const assets = path.join(root, 'assets') + path.sep
  return {
    handles: (method, urlPath) => (method === 'GET' || method === 'HEAD') && !API_PATHS.some((p) => urlPath === p || urlPath.startsWith(`${p}/`)),
    async handle(req, res, urlPath) {
      const file = fileOf(root, urlPath)
      if (!file) return sendJson(res, 404, { error: `no file ${urlPath}` })
      // by where the file is, not how the URL spells it (`/%61ssets/…` is the same file)
      const hashed = file.startsWith(assets)
      const headers = {
        ...(hashed ? { vary: 'accept-encoding' } : {}),
        ...(path.extname(file).toLowerCase() === '.html' ? PAGE_HEADERS : {}),
      }
      const found = await regularFile(file)
      if (found && hashed && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        // the build wrote a gzip copy of each script and stylesheet
        const gz = await regularFile(`${file}.gz`)
        if (gz) return sendFile(req, res, `${file}.gz`, gz, IMMUTABLE, { ...headers, 'content-encoding': 'gzip' }, file)
      }
      if (found) return sendFile(req, res, file, found, hashed ? IMMUTABLE : 'no-cache', headers)
      if (hashed || contentTypeOf(file)) return sendJson(res, 404, { error: `no file ${urlPath}` })
      // a page's URL: the app routes it
      const index = path.join(root, 'index.html')
      const page = await regularFile(index)
      if (!page) return sendJson(res, 503, { error: 'the dashboard is not built: run `npm run build:web` (npm install and npm start build it)' })
      return sendFile(req, res, index, page, 'no-cache', PAGE_HEADERS)
    },
  }
}

/**
 * The file under the build a URL path names; null when it cannot be decoded, or names a parent (`..`, also
 * spelled `%2e%2e`) even one that stays inside the build: no file of the build is reached that way.
 */
function fileOf(root: string, urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').includes('..')) return null
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
  const type = contentTypeOf(typeOf) ?? 'application/octet-stream'
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
