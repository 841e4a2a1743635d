// One log line and one metric observation per HTTP request, by route (a closed set). Publisher keys travel
// in paths and queries, so a logged path has no query and its /data_writing/<key> reads /data_writing/:key;
// headers and bodies are never logged.
import crypto from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from '../core/logger.js'
import type { HttpRoute, Metrics } from '../core/metrics.js'

const DATA_WRITING_KEYED = '/data_writing/'

/** an incoming X-Request-Id is kept when it looks like an id (no spaces, no control characters, short) */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:+/=-]{1,128}$/

/** the status logged when the client went away before it was answered (as nginx logs it) */
const CLIENT_CLOSED_REQUEST = 499

/** paths of unknown routes are logged cut to this length */
const OTHER_PATH_CHARS = 200

export function routeOf(path: string): HttpRoute {
  switch (path) {
    case '/postback':
      return 'postback'
    case '/data_writing':
      return 'data_writing'
    case '/call-events':
      return 'call_events'
    case '/graphql':
      return 'graphql'
    case '/healthz':
    case '/readyz':
      return 'health'
    case '/metrics':
      return 'metrics'
  }
  if (path.startsWith(DATA_WRITING_KEYED)) return 'data_writing'
  if (path.startsWith('/openapi')) return 'openapi'
  return 'other'
}

/** The path as logged: the key of /data_writing/<key> replaced (the query is never part of it). */
export function loggedPath(path: string, route: HttpRoute): string {
  if (route === 'data_writing' && path.startsWith(DATA_WRITING_KEYED)) return `${DATA_WRITING_KEYED}:key`
  return route === 'other' && path.length > OTHER_PATH_CHARS ? `${path.slice(0, OTHER_PATH_CHARS)}…` : path
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : crypto.randomUUID()
}

export interface RequestObserver {
  /** Called as a request comes in, before it is routed: sets X-Request-Id, and records the request when its response closes. */
  request(req: IncomingMessage, res: ServerResponse, path: string): void
  /** A WebSocket upgrade: a line when the socket opens and one when it closes. */
  upgrade(req: IncomingMessage, socket: Duplex): void
}

export function requestObserver(logger: Logger, metrics: Metrics): RequestObserver {
  // decided once: at LOG_LEVEL silent or error a request costs no id and no line
  const logging = logger.isLevelEnabled('info')
  return {
    request(req, res, path) {
      const started = performance.now()
      const route = routeOf(path)
      const socket = req.socket
      let id: string | null = null
      let bytesBefore = 0
      if (logging) {
        id = requestIdOf(req)
        res.setHeader('x-request-id', id)
        bytesBefore = socket.bytesWritten
      }
      res.once('close', () => {
        const ms = performance.now() - started
        const status = res.headersSent ? res.statusCode : CLIENT_CLOSED_REQUEST
        metrics.httpRequest(route, status, ms / 1000)
        if (!logging) return
        const line = {
          reqId: id,
          method: req.method,
          route,
          path: loggedPath(path, route),
          status,
          ms: Math.round(ms * 10) / 10,
          // headers and body, as written to the socket
          bytes: socket.bytesWritten - bytesBefore,
          ...(res.writableFinished ? {} : { aborted: true }),
        }
        logger.info(line, 'request')
      })
    },
    upgrade(req, socket) {
      if (!logging) return
      const started = performance.now()
      const path = (req.url ?? '/').split('?')[0]!
      const route = routeOf(path)
      const line = { reqId: requestIdOf(req), method: req.method, route, path: loggedPath(path, route) }
      logger.info(line, 'websocket opened')
      socket.once('close', () => {
        const bytes = 'bytesWritten' in socket ? (socket.bytesWritten as number) : undefined
        logger.info({ ...line, ms: Math.round(performance.now() - started), bytes }, 'websocket closed')
      })
    },
  }
}
