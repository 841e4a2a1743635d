// The REST doors for postbacks: ours (/postback) and Retreaver's URL shapes (/data_writing), so a publisher
// moving over changes only the host. Each builds a PostbackRequest and calls ingestPostback.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from '../core/config.js'
import type { Logger } from '../core/logger.js'
import { internalFailure, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../core/errors.js'
import { ingestPostback, type PostbackRequest } from '../postbacks/ingestPostback.js'
import type { PostbackAnswer } from '../postbacks/postbackWriter.js'
import { tagRecord } from '../core/tags.js'
import { postbackJsonBodySchema } from '../postbacks/postbackSchema.js'
import { BodyTooLargeError, readBody, sendJson } from './readBody.js'
import type { Services } from '../graphql/context.js'

type Shape = 'ringhook' | 'retreaver'

/** Query string -> fields; a repeated name becomes one comma-separated value, as arrays do in JSON. */
function fieldsOf(params: URLSearchParams): Record<string, string> {
  const fields = tagRecord()
  for (const name of new Set(params.keys())) fields[name] = params.getAll(name).join(',')
  return fields
}

const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/

/**
 * The key in `/data_writing/<key>`, percent-escapes decoded. Keys never hold a `%`, so a malformed escape
 * (`%ZZ`, or bytes that are not UTF-8) ends the key: what stands before it is tried as the key, and the
 * escape is reported.
 */
function pathKeyOf(segment: string): { key: string; malformed: string | null } {
  try {
    return { key: decodeURIComponent(segment), malformed: null }
  } catch {
    const bad = MALFORMED_ESCAPE.exec(segment)
    const at = bad ? bad.index : segment.indexOf('%')
    let key = ''
    try {
      key = decodeURIComponent(segment.slice(0, at))
    } catch {
      key = segment.slice(0, at)
    }
    return { key, malformed: segment.slice(at, at + 3) }
  }
}

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name]
  return (Array.isArray(v) ? v[0] : v) ?? null
}

function answerBody(answer: PostbackAnswer, shape: Shape): Record<string, unknown> {
  if (shape === 'retreaver') {
    if (answer.outcome === 'REJECTED') return { status: answer.status, error: answer.error, problems: answer.problems }
    return {
      tag_values: answer.tags,
      ...(answer.callUuid ? { call_uuid: answer.callUuid } : { caller_number: answer.callerNumber }),
      status: answer.status,
    }
  }
  const { httpStatus: _status, retryAfterSeconds: _retry, ...body } = answer
  return body
}

function send(res: ServerResponse, answer: PostbackAnswer, shape: Shape): void {
  const headers: Record<string, string> = answer.retryAfterSeconds ? { 'retry-after': String(answer.retryAfterSeconds) } : {}
  sendJson(res, answer.httpStatus, answerBody(answer, shape), headers)
}

export function createPostbackRoutes(services: Services, config: Config, logger: Logger) {
  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local')
    const shape: Shape = path.startsWith('/data_writing') ? 'retreaver' : 'ringhook'
    const inPath = shape === 'retreaver' && path.length > '/data_writing/'.length ? pathKeyOf(path.slice('/data_writing/'.length)) : null
    const pathKey = inPath?.key || null
    const bearer = header(req, 'authorization')?.replace(/^Bearer\s+/i, '') ?? null
    let secret = pathKey ?? url.searchParams.get('key') ?? header(req, 'x-ringhook-key') ?? bearer
    const request: PostbackRequest = {
      channel: req.method === 'GET' ? 'REST_GET' : 'REST_POST',
      secret,
      contentType: header(req, 'content-type'),
      rawBody: '',
      fields: null,
      bodyProblem: null,
      idempotencyKey: header(req, 'idempotency-key'),
      sourceIp: req.socket.remoteAddress ?? null,
      userAgent: header(req, 'user-agent'),
    }
    if (inPath?.malformed) {
      const message = `the path has a malformed percent-escape "${inPath.malformed}" after the key (write % as %25)`
      request.bodyProblem = { code: 'MALFORMED_URL', field: 'key', message, httpStatus: 400 }
    }

    if (req.method === 'GET') {
      const query = url.search.replace(/^\?/, '')
      // the query is a GET postback's body: the same limit (Node refuses a request line past maxHeaderSize itself)
      if (query.length > config.bodyLimitBytes) {
        request.bodyProblem = {
          code: 'BODY_TOO_LARGE',
          message: `the query string is larger than the limit of ${config.bodyLimitBytes} bytes; send large postbacks as a POST body`,
          httpStatus: 414,
        }
        request.rawBody = `(not kept: larger than ${config.bodyLimitBytes} bytes)`
      } else {
        request.rawBody = query
      }
      request.fields = fieldsOf(url.searchParams)
    } else {
      let body: Buffer
      try {
        body = await readBody(req, config.bodyLimitBytes)
      } catch (e) {
        if (!(e instanceof BodyTooLargeError)) throw e
        request.bodyProblem = { code: 'BODY_TOO_LARGE', message: e.message, httpStatus: 413 }
        request.rawBody = `(not kept: larger than ${config.bodyLimitBytes} bytes)`
        res.setHeader('connection', 'close')
        return send(res, await ingestPostback(services, request), shape)
      }
      request.rawBody = body.toString('utf8')
      const type = (request.contentType ?? '').split(';')[0]!.trim().toLowerCase()
      if (type === 'application/json' || (type === '' && /^\s*[{[]/.test(request.rawBody))) {
        if (request.rawBody.trim() === '') {
          request.fields = {}
        } else {
          try {
            const parsed: unknown = JSON.parse(request.rawBody)
            const checked = postbackJsonBodySchema.safeParse(parsed)
            // the fields as parsed, not the schema's copy of them (which leaves a `__proto__` field out)
            if (checked.success) request.fields = parsed as Record<string, unknown>
            else request.bodyProblem = { code: 'INVALID_BODY', message: checked.error.issues[0]!.message, httpStatus: 400 }
          } catch (e) {
            request.bodyProblem = { code: 'INVALID_BODY', message: `invalid JSON body: ${(e as Error).message}`, httpStatus: 400 }
          }
        }
      } else if (type === 'application/x-www-form-urlencoded' || (type === '' && request.rawBody === '')) {
        request.fields = fieldsOf(new URLSearchParams(request.rawBody))
      } else {
        request.bodyProblem = {
          code: 'UNSUPPORTED_CONTENT_TYPE',
          message: `content type "${type || '(none)'}" is not supported: send application/json or application/x-www-form-urlencoded, or use GET`,
          httpStatus: 415,
        }
      }
      // the key may also travel in the body
      if (!secret && request.fields) {
        const inBody = request.fields.key ?? request.fields.api_key
        if (typeof inBody === 'string' && inBody) secret = request.secret = inBody
      }
      // query fields count too (POST /postback?caller_number=… with a JSON body)
      if (request.fields) request.fields = Object.assign(tagRecord(), fieldsOf(url.searchParams), request.fields)
    }
    try {
      send(res, await ingestPostback(services, request), shape)
    } catch (e) {
      logger.error({ err: e }, 'postback ingest failed')
      const failure = internalFailure(e)
      const error = failure.retryable
        ? `the postback could not be stored: ${failure.error} with the same Idempotency-Key`
        : `the postback could not be stored: ${failure.error}`
      sendJson(
        res,
        failure.status,
        { error, retryable: failure.retryable },
        failure.retryable ? { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } : {},
      )
    }
  }

  return {
    handles: (method: string | undefined, path: string) =>
      (method === 'GET' || method === 'POST') && (path === '/postback' || path === '/data_writing' || (method === 'GET' && path.startsWith('/data_writing/'))),
    handle,
  }
}
