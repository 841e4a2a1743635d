// /metrics in Prometheus text: on the main port for the operator key only; on METRICS_PORT (a listener of
// its own, for a scraper on a private network) without a key.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Config } from '../core/config.js'
import type { Metrics } from '../core/metrics.js'
import { hasOperatorKey } from './operatorKey.js'
import { sendJson } from './readBody.js'

export const METRICS_PATH = '/metrics'

async function sendMetrics(res: ServerResponse, metrics: Metrics): Promise<void> {
  const text = await metrics.text()
  res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** /metrics on the main port: the operator key as a bearer token, else 401; no operator key configured: 404. */
export function createMetricsRoute(config: Config, metrics: Metrics) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!config.operatorKey) {
      const elsewhere = config.metricsPort !== undefined ? ` (this instance serves them without a key on ${config.metricsHost}:${config.metricsPort})` : ''
      return sendJson(res, 404, { error: `metrics are not served on this port: set OPERATOR_KEY to read them here, or METRICS_PORT${elsewhere}` })
    }
    if (!req.headers.authorization)
      return sendJson(res, 401, { error: 'metrics need the operator key: send Authorization: Bearer <OPERATOR_KEY>' }, { 'www-authenticate': 'Bearer' })
    if (!hasOperatorKey(req, config.operatorKey))
      return sendJson(
        res,
        401,
        { error: 'that is not the operator key (OPERATOR_KEY); company API keys do not open metrics' },
        { 'www-authenticate': 'Bearer' },
      )
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: `use GET ${METRICS_PATH}` }, { allow: 'GET, HEAD' })
    await sendMetrics(res, metrics)
  }
}

export interface MetricsServer {
  port: number
  close(): Promise<void>
}

/** The metrics listener on METRICS_HOST:METRICS_PORT: /metrics without a key, nothing else. */
export async function startMetricsServer(metrics: Metrics, port: number, host: string): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== METRICS_PATH) return sendJson(res, 404, { error: `this port serves only GET ${METRICS_PATH}` })
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: `use GET ${METRICS_PATH}` }, { allow: 'GET, HEAD' })
    sendMetrics(res, metrics).catch((e: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: `metrics could not be gathered: ${e.message}` })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
