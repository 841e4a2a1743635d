// The HTTP client that delivers pixels: undici's pooled dispatcher (keep-alive, a connection cap per
// endpoint), with the target check done on the address actually connected to, so DNS rebinding cannot
// slip a private address past it. An exchange is one request and its answer (body kept to 64 KB), within
// the webhook's timeout; it never throws: what went wrong is in the result.
// The threaded client (createThreadedOutboundHttp) makes the same exchanges on a thread of its own
// (outboundHttpThread.ts): sockets, HTTP parsing and timers off the thread that takes call events and
// writes the database.
import dns from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { Agent, type Dispatcher } from 'undici'
import { startThread } from '../../core/threads.js'
import { checkTarget } from '../checkTarget.js'
import { parseAllowedTargets, type AllowedTarget } from '../../core/addresses.js'

export const RESPONSE_BODY_LIMIT = 64 * 1024

export class RefusedTargetError extends Error {
  readonly code = 'REFUSED_TARGET'
}

export interface RenderedRequest {
  method: string
  url: string
  headers: Record<string, string>
  body: string | null
}

export interface AttemptResult {
  /** not sent at all: it could not start by its start-by time (no attempt was made) */
  notSent?: boolean
  statusCode: number | null
  headers: Record<string, string>
  body: string | null
  truncated: boolean
  error: string | null
  retryAfter: string | null
  durationMs: number
}

export interface ExchangeOptions {
  startBy?: number
  urgent?: boolean
}

export type TargetVerdict = { ok: true } | { ok: false; reason: string }

export interface OutboundHttp {
  /** the same check the dispatcher makes, for a URL before it is sent (IP literals are never looked up) */
  check(url: URL): Promise<TargetVerdict>
  /**
   * sends the request and reads the answer, all within `timeoutMs`; not sent at all (`notSent`) when it
   * cannot start by `startBy` (epoch ms: the pixel's lock would not outlast it); `urgent` goes ahead of
   * the requests waiting for a slot
   */
  exchange(req: RenderedRequest, timeoutMs: number, options?: ExchangeOptions): Promise<AttemptResult>
  close(): Promise<void>
}

const resolveAll = async (host: string) => (await dns.promises.lookup(host, { all: true })).map((a) => a.address)

const LITERAL_VERDICTS_MAX = 10_000

/** The target check with IP literals judged once each (their verdict never changes: ALLOWED_TARGETS is read once). */
function targetChecker(allowed: AllowedTarget[]): (url: URL) => Promise<TargetVerdict> {
  const literalVerdicts = new Map<string, TargetVerdict>()
  return async (url) => {
    const literal = isIP(url.hostname.replace(/^\[(.*)\]$/, '$1')) ? url.hostname : null
    const known = literal === null ? undefined : literalVerdicts.get(literal)
    if (known) return known
    const result = await checkTarget(url, allowed, resolveAll)
    const verdict: TargetVerdict = result.ok ? { ok: true } : result
    if (literal !== null) {
      if (literalVerdicts.size >= LITERAL_VERDICTS_MAX) literalVerdicts.clear()
      literalVerdicts.set(literal, verdict)
    }
    return verdict
  }
}

/** The client in this thread. */
export function createOutboundHttp(allowedTargets: string, connectionsPerEndpoint = 32): OutboundHttp {
  const allowed = parseAllowedTargets(allowedTargets)
  const lookup: LookupFunction = (hostname, options, callback) => {
    const url = new URL(`http://${isIP(hostname) === 6 ? `[${hostname}]` : hostname}`)
    checkTarget(url, allowed, resolveAll).then(
      (result) => {
        if (!result.ok) return callback(new RefusedTargetError(result.reason), '', 4)
        const list = result.addresses.map((address) => ({ address, family: isIP(address) }))
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, l: typeof list) => void)(null, list)
        callback(null, list[0]!.address, list[0]!.family)
      },
      (e: Error) => callback(e, '', 4),
    )
  }
  const dispatcher = new Agent({ connections: connectionsPerEndpoint, keepAliveTimeout: 30_000, connect: { lookup } })
  return {
    check: targetChecker(allowed),
    exchange: (req, timeoutMs, options) => exchange(dispatcher, req, timeoutMs, options?.startBy),
    close: () => dispatcher.close(),
  }
}

const notSent = (error: string): AttemptResult => ({
  notSent: true,
  statusCode: null,
  headers: {},
  body: null,
  truncated: false,
  error,
  retryAfter: null,
  durationMs: 0,
})

/** What went wrong, as recorded on the attempt. */
function describeError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { code?: string; cause?: Error & { code?: string } }
  const cause = err.cause ?? err
  if (cause.code === 'UND_ERR_HEADERS_TIMEOUT' || cause.code === 'UND_ERR_BODY_TIMEOUT') return `timed out after ${timeoutMs} ms`
  if (cause.code === 'REFUSED_TARGET') return `refused: ${cause.message}`
  return `${cause.code ? `${cause.code}: ` : ''}${cause.message}`
}

/**
 * One exchange on undici's dispatcher, handled as it comes (status and headers, then the body, kept to
 * 64 KB): undici's `request` wraps the same in a Readable body, an AbortSignal and a promise per request,
 * a large share of the delivery thread's time under load. The whole exchange,
 * headers and body, ends within the webhook's timeout: a timer of our own aborts it.
 */
function exchange(dispatcher: Agent, req: RenderedRequest, timeoutMs: number, startBy = Infinity): Promise<AttemptResult> {
  if (Date.now() > startBy)
    return Promise.resolve(notSent(`not sent: waited for a request slot until ${new Date(startBy).toISOString()}, too late to end within the pixel's lock`))
  return new Promise((resolve) => {
    const started = performance.now()
    const result: AttemptResult = { statusCode: null, headers: {}, body: null, truncated: false, error: null, retryAfter: null, durationMs: 0 }
    const chunks: Buffer[] = []
    let size = 0
    let controller: Dispatcher.DispatchController | null = null
    let done = false
    const finish = (error: string | null) => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (error === null) result.body = Buffer.concat(chunks).toString('utf8')
      else result.error = error
      result.durationMs = Math.round(performance.now() - started)
      resolve(result)
    }
    const timedOutMessage = `timed out after ${timeoutMs} ms`
    let timedOut = false
    // a request still waiting in undici for a connection is answered once undici hands it one (and it is
    // aborted before it is written) or fails it: until then it keeps its slot, so requests to a slow
    // endpoint cannot pile up in undici's queue beyond the cap on requests in flight
    const timer = setTimeout(() => {
      timedOut = true
      if (!controller) return
      finish(timedOutMessage)
      controller.abort(new Error('timed out'))
    }, timeoutMs)
    try {
      const url = new URL(req.url)
      dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers: req.headers,
          body: req.body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        {
          onRequestStart(c) {
            controller = c
            // timed out while waiting for a connection: it never goes out
            if (timedOut) {
              finish(timedOutMessage)
              c.abort(new Error('timed out'))
            }
          },
          onResponseStart(_c, statusCode, headers) {
            if (statusCode < 200) return
            result.statusCode = statusCode
            for (const [k, v] of Object.entries(headers)) if (v !== undefined) result.headers[k] = Array.isArray(v) ? v.join(', ') : v
            result.retryAfter = result.headers['retry-after'] ?? null
          },
          onResponseData(c, chunk) {
            if (done) return
            if (size + chunk.length > RESPONSE_BODY_LIMIT) {
              chunks.push(chunk.subarray(0, RESPONSE_BODY_LIMIT - size))
              result.truncated = true
              finish(null)
              c.abort(new Error('response cut at the body limit'))
              return
            }
            chunks.push(chunk)
            size += chunk.length
          },
          onResponseEnd: () => finish(null),
          onResponseError: (_c, e) => finish(timedOut ? timedOutMessage : describeError(e, timeoutMs)),
        },
      )
    } catch (e) {
      finish(describeError(e, timeoutMs))
    }
  })
}

/** What the thread is started with. */
export interface OutboundThreadData {
  allowedTargets: string
  connectionsPerEndpoint: number
  /** requests out at once; more wait in the thread's queue, oldest first */
  maxInFlight: number
}

/** Requests and answers cross in batches: a message per turn of either thread, not one per request. */
/** the longest close() waits for requests under way: the longest webhook timeout and a little */
const CLOSE_WAIT_MS = 31_000

export type ExchangeBatch = { id: number; req: RenderedRequest; timeoutMs: number; options?: ExchangeOptions }[]
export type AnswerBatch = { id: number; result: AttemptResult }[]

/**
 * The client whose exchanges run on a thread of its own, at most `maxInFlight` at once: the thread starts
 * the next one queued there as soon as one ends, without waiting for this thread to get round to it. The
 * target check of IP literals stays here.
 */
export function createThreadedOutboundHttp(allowedTargets: string, connectionsPerEndpoint: number, maxInFlight: number): OutboundHttp {
  const thread = startThread(import.meta.url, 'outboundHttpThread', { allowedTargets, connectionsPerEndpoint, maxInFlight } satisfies OutboundThreadData)
  const waiting = new Map<number, (result: AttemptResult) => void>()
  let nextId = 0
  let outbox: ExchangeBatch = []
  let closing = false
  let failure = ''
  thread.on('message', (answers: AnswerBatch) => {
    for (const { id, result } of answers) {
      waiting.get(id)?.(result)
      waiting.delete(id)
    }
    if (waiting.size === 0) thread.unref()
  })
  thread.on('error', (e) => (failure = `: ${e.message}`))
  // the thread ending by itself is a bug: the process ends too, as for an uncaught error here (pixels under
  // way stay locked in the database and are taken over when their locks expire)
  thread.on('exit', (code) => {
    if (!closing) throw new Error(`the delivery thread exited (code ${code}) with ${waiting.size} request(s) under way${failure}`)
  })
  return {
    check: targetChecker(parseAllowedTargets(allowedTargets)),
    exchange: (req, timeoutMs, options) =>
      new Promise((resolve) => {
        if (closing) return resolve(notSent('not sent: the server is shutting down'))
        const id = ++nextId
        waiting.set(id, resolve)
        // an answer awaited keeps the process alive
        if (waiting.size === 1) thread.ref()
        // requests made in one go (a batch of call events handing pixels over) cross in one message
        if (outbox.push({ id, req, timeoutMs, options }) === 1) {
          queueMicrotask(() => {
            thread.postMessage(outbox)
            outbox = []
          })
        }
      }),
    /** Lets the requests under way end (the worker has stopped; a test-fire may still be out), then ends the thread. */
    close: async () => {
      closing = true
      const deadline = Date.now() + CLOSE_WAIT_MS
      while (waiting.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      for (const resolve of waiting.values()) resolve(notSent('not sent: the server shut down before it went out'))
      waiting.clear()
      await thread.terminate()
    },
  }
}
