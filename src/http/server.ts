// The HTTP server: the REST doors (postbacks, call events) and their OpenAPI document, Yoga at /graphql
// (GraphiQL, SSE) with graphql-ws on the same port and path, health routes, /metrics (operator key), and the
// dashboard at / for every other GET. Every request is counted and logged in one line (requestLog.ts).
import http, { type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Config } from '../core/config.js'
import { internalFailure, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { databaseReachable } from '../store/client.js'
import type { Services } from '../graphql/context.js'
import { createGraphql } from '../graphql/yoga.js'
import { createGraphiqlPage } from './graphiqlPage.js'
import type { Agenda } from 'agenda'
import { createAgendashRoutes } from './agendash.js'
import { createCallEventRoutes } from './callEventRoutes.js'
import { createDashboardRoutes } from './dashboard.js'
import { createPostbackRoutes } from './postbackRoutes.js'
import { OPENAPI_PATH, createOpenApiDocument } from './openApiDocument.js'
import { createMetricsRoute, METRICS_PATH } from './metricsRoutes.js'
import { requestObserver } from './requestLog.js'
import { BodyTooLargeError, readBody, sendJson, sendJsonText } from './readBody.js'

export interface ServerDeps {
  config: Config
  services: Services
  logger: Logger
  /** the job store's Agenda, for Agendash (absent: /agendash/ answers 404) */
  agenda?: Agenda
}

export interface RinghookServer {
  server: http.Server
  listen(port?: number, host?: string): Promise<number>
  close(): Promise<void>
}

export function createServer({ config, services, logger, agenda }: ServerDeps): RinghookServer {
  const { db } = services
  const postbackRoutes = createPostbackRoutes(services, config, logger)
  const callEventRoutes = createCallEventRoutes(services, config)
  // built once: the document is the same for every request
  const openApiJson = config.role === 'worker' ? '' : JSON.stringify(createOpenApiDocument())
  const agendash = createAgendashRoutes(agenda, config.operatorKey, config.bodyLimitBytes)
  const dashboard = createDashboardRoutes()

  const metricsRoute = createMetricsRoute(config, services.metrics)
  const observer = requestObserver(logger, services.metrics)
  const { yoga, attachWebSockets } = createGraphql({ config, services, logger })
  const graphiql = createGraphiqlPage('/graphql', { title: 'Ringhook', headers: JSON.stringify({ Authorization: 'Bearer <your admin key>' }) })

  // a GET postback's query is its body: request lines up to the body limit reach the app (which refuses
  // longer queries itself and logs them); past this Node answers 431 (clientError below)
  const maxHeaderSize = Math.max(16 * 1024, config.bodyLimitBytes + 16 * 1024)
  const server = http.createServer({ maxHeaderSize }, async (req, res) => {
    const url = req.url ?? '/'
    const path = url.split('?')[0]!
    observer.request(req, res, path)
    try {
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' })
      if (path === '/readyz') {
        const ok = await databaseReachable(db)
        return sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'database unreachable' })
      }
      if (path === METRICS_PATH) return await metricsRoute(req, res)
      // every instance has the job store: the job dashboard is served by workers too
      if (agendash.handles(path)) return await agendash.handle(req, res, path, new URLSearchParams(url.slice(path.length + 1)))
      if (config.role === 'worker')
        return sendJson(res, 404, { error: 'this instance runs ROLE=worker: it delivers webhooks and serves only /healthz, /readyz, /metrics and /agendash/' })
      if (postbackRoutes.handles(req.method, path)) return await postbackRoutes.handle(req, res, path)
      if (callEventRoutes.handles(req.method, path)) return await callEventRoutes.handle(req, res)
      if (path === OPENAPI_PATH && req.method === 'GET') return sendJsonText(res, 200, openApiJson)
      if (graphiql.handles(req, path)) return await graphiql.send(req, res)
      if (path === '/graphql') {
        if (req.method === 'POST') {
          const body = await readBody(req, config.bodyLimitBytes)
          if (body.length > 0) (req as IncomingMessage & { body?: Buffer }).body = body
        }
        return yoga(req, res, { req, res })
      }
      if (dashboard.handles(req.method, path)) return await dashboard.handle(req, res, path)
      sendJson(res, 404, { error: `no route for ${req.method} ${path}` })
    } catch (e) {
      if (e instanceof BodyTooLargeError) return sendJson(res, 413, { error: e.message }, { connection: 'close' })
      logger.error({ err: e }, 'request failed')
      if (res.headersSent) return
      const failure = internalFailure(e)
      sendJson(
        res,
        failure.status,
        { error: failure.error, retryable: failure.retryable },
        failure.retryable ? { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } : {},
      )
    }
  })
  // requests Node refuses before the app sees them (a request line or headers past maxHeaderSize,
  // malformed HTTP) are answered in JSON with words, like every other refusal
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy()
    const [status, error] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, `the request line and headers are larger than ${maxHeaderSize} bytes; send large postbacks as a POST body`]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'the request took too long to arrive']
          : [400, `malformed HTTP request (${err.code ?? err.message})`]
    const body = JSON.stringify({ error })
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    )
  })

  const wsCleanup = attachWebSockets(server)
  server.on('upgrade', observer.upgrade)

  return {
    server,
    listen: (port = config.port, host = config.host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port))
      }),
    close: async () => {
      await wsCleanup.dispose()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}
