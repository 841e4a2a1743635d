// Agendash (the job dashboard of Agenda) at /agendash/, on our node:http server without a second web
// framework: its built page and assets are served from the package (nothing from a CDN), its API routes
// (as its Express adapter maps them) call its framework-agnostic controller. Server-wide, like the jobs:
// the operator key opens it (HTTP Basic with the key as password, so a browser asks for it; or Bearer).
// Since a browser re-sends Basic credentials to any site's request, its changes take only JSON from its page.
import fs from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Agenda } from 'agenda'
import type { AgendashController } from 'agendash'
import { crossSiteReason } from './crossSite.js'
import { hasOperatorKey } from './operatorKey.js'
import { readBody, sendJson } from './readBody.js'
import { contentTypeOf } from './staticFiles.js'

export const AGENDASH_PATH = '/agendash'

const REALM = 'Ringhook jobs'
const JSON_TYPE = /^application\/json\s*(;|$)/i

/** agendash's own files: its package index pulls in every adapter's framework, so the controller is loaded alone */
const agendashDist = path.dirname(createRequire(import.meta.url).resolve('agendash'))

interface Loaded {
  controller: AgendashController
  cspHeader: string
  /** '/index.html', '/assets/…' -> the file's bytes and type, read once */
  files: Map<string, { body: Buffer; type: string }>
}

async function load(agenda: Agenda): Promise<Loaded> {
  const { AgendashController: Controller } = (await import(pathToFileURL(path.join(agendashDist, 'AgendashController.js')).href)) as typeof import('agendash')
  const { cspHeader } = (await import(pathToFileURL(path.join(agendashDist, 'csp.js')).href)) as { cspHeader: string }
  const root = path.join(agendashDist, '..', 'public')
  const files = new Map<string, { body: Buffer; type: string }>()
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = path.join(entry.parentPath, entry.name)
    files.set(`/${path.relative(root, full).split(path.sep).join('/')}`, {
      body: fs.readFileSync(full),
      type: contentTypeOf(entry.name) ?? 'application/octet-stream',
    })
  }
  return { controller: new Controller(agenda), cspHeader, files }
}

const ids = (body: unknown): string[] => {
  const jobIds = (body as { jobIds?: unknown } | null)?.jobIds
  return Array.isArray(jobIds) ? jobIds.map(String) : []
}

export interface AgendashRoutes {
  handles(path: string): boolean
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void>
}

export function createAgendashRoutes(agenda: Agenda | undefined, operatorKey: string | undefined, bodyLimitBytes: number): AgendashRoutes {
  let loaded: Promise<Loaded> | null = null
  return {
    handles: (p) => p === AGENDASH_PATH || p.startsWith(`${AGENDASH_PATH}/`),
    async handle(req, res, p, query) {
      if (!operatorKey || !agenda)
        return sendJson(res, 404, {
          error: operatorKey ? 'this instance has no job store' : 'the job dashboard is off: set OPERATOR_KEY on the server to open it at /agendash/',
        })
      if (!hasOperatorKey(req, operatorKey)) {
        return sendJson(
          res,
          401,
          { error: 'the job dashboard needs the operator key (OPERATOR_KEY): as the password of HTTP Basic (any user name) or `Authorization: Bearer <key>`' },
          { 'www-authenticate': `Basic realm="${REALM}", charset="UTF-8"` },
        )
      }
      // relative asset paths in its page need the trailing slash
      if (p === AGENDASH_PATH) {
        res.writeHead(301, { location: `${AGENDASH_PATH}/` })
        return void res.end()
      }
      loaded ??= load(agenda)
      const { controller, cspHeader, files } = await loaded
      res.setHeader('content-security-policy', cspHeader)
      const route = p.slice(AGENDASH_PATH.length)
      const method = req.method ?? 'GET'
      if (route === '/api' || route.startsWith('/api/')) return api(controller, req, res, method, route, query, bodyLimitBytes)
      if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: `${method} is not allowed on ${p}` })
      const file = files.get(route === '/' ? '/index.html' : route)
      if (!file) return sendJson(res, 404, { error: `no file ${p}` })
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': route === '/' ? 'no-cache' : 'max-age=3600' })
      res.end(method === 'HEAD' ? undefined : file.body)
    },
  }
}

/** Agendash's API, as its Express adapter maps it (dist/middlewares/express.js), with the same statuses. */
async function api(
  controller: AgendashController,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  route: string,
  query: URLSearchParams,
  bodyLimitBytes: number,
): Promise<void> {
  const q = (name: string) => query.get(name) ?? undefined
  const int = (name: string, fallback: number) => {
    const n = Number.parseInt(query.get(name) ?? '', 10)
    return Number.isFinite(n) ? n : fallback
  }
  const answer = async (failStatus: number, work: () => Promise<unknown>) => {
    try {
      sendJson(res, 200, await work())
    } catch (e) {
      sendJson(res, failStatus, { error: e instanceof Error ? e.message : 'Unknown error' })
    }
  }
  if (method === 'GET') {
    switch (route) {
      case '/api':
        return answer(400, () =>
          controller.getJobs({
            name: q('job'),
            state: q('state'),
            search: q('q'),
            property: q('property'),
            isObjectId: q('isObjectId'),
            skip: int('skip', 0),
            limit: int('limit', 50),
          } as Parameters<AgendashController['getJobs']>[0]),
        )
      case '/api/stats':
        return answer(500, () => controller.getStats(query.get('fullDetails') === 'true'))
      case '/api/logs':
        return answer(500, () =>
          controller.getLogs({
            jobId: q('jobId'),
            jobName: q('jobName'),
            level: q('level'),
            event: q('event'),
            from: q('from'),
            to: q('to'),
            limit: int('limit', 50),
            offset: int('offset', 0),
            sort: q('sort') ?? 'desc',
          } as Parameters<AgendashController['getLogs']>[0]),
        )
      case '/api/events':
        return events(controller, req, res)
    }
  }
  if (method === 'POST') {
    // a form on another site can POST here with the operator's cached credentials: only JSON from our pages
    const crossSite = crossSiteReason(req)
    if (crossSite) return sendJson(res, 403, { error: `${crossSite}: the job dashboard changes jobs only from its own page` })
    if (!JSON_TYPE.test(req.headers['content-type'] ?? ''))
      return sendJson(res, 415, { error: `the job dashboard takes content-type: application/json, not ${req.headers['content-type'] ?? 'none'}` })
    const text = (await readBody(req, bodyLimitBytes)).toString('utf8')
    let body: unknown = {}
    if (text) {
      try {
        body = JSON.parse(text)
      } catch {
        return sendJson(res, 400, { error: 'the body is not JSON' })
      }
    }
    switch (route) {
      case '/api/jobs/requeue':
        return answer(404, () => controller.requeueJobs(ids(body)))
      case '/api/jobs/retry':
        return answer(404, () => controller.retryJobs(ids(body)))
      case '/api/jobs/delete':
        return answer(404, () => controller.deleteJobs(ids(body)))
      case '/api/jobs/create':
        return answer(400, () => controller.createJob(body as Parameters<AgendashController['createJob']>[0]))
      case '/api/jobs/pause':
        return answer(400, () => controller.pauseJobs(ids(body)))
      case '/api/jobs/resume':
        return answer(400, () => controller.resumeJobs(ids(body)))
    }
  }
  sendJson(res, 404, { error: `no route for ${method} ${AGENDASH_PATH}${route}` })
}

/** Job state changes as server-sent events, where the job store's notification channel offers them. */
function events(controller: AgendashController, req: IncomingMessage, res: ServerResponse): void {
  if (!controller.hasStateNotifications()) {
    sendJson(res, 501, { error: 'State notifications not available. Configure a notification channel that supports state subscriptions.' })
    return
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
  res.write('event: connected\ndata: {"connected":true}\n\n')
  const unsubscribe = controller.createStateStream((notification) => {
    res.write(`data: ${JSON.stringify(notification)}\n\n`)
  })
  req.on('close', unsubscribe)
}
