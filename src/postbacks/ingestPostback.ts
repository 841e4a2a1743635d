// One function ingests a postback, whether it came by GET, POST or the GraphQL mutation.
import type { ApiKey } from '../generated/prisma/client.js'
import { newId } from '../core/ids.js'
import { parsePhoneNumber } from '../core/phone.js'
import { parsePostbackFields, REPLACED_PROBLEM, type PostbackProblem } from './parsePostback.js'
import { storable } from '../core/text.js'
import { idempotencyKeySchema } from './postbackSchema.js'
import type { PostbackAnswer, PostbackOutcome, PostbackRecord, WrittenPostback } from './postbackWriter.js'
import type { PubSub } from '../events/bus.js'
import type { ApiKeyCache } from '../tenancy/apiKeyCache.js'
import type { PostbackRateLimiter } from './postbackRateLimiter.js'
import type { PostbackWriter } from './postbackWriter.js'
import type { Db } from '../core/db.js'

export type PostbackChannel = 'GRAPHQL' | 'REST_GET' | 'REST_POST'

/** A postback as a transport received it. */
export interface PostbackRequest {
  channel: PostbackChannel
  /** the key as sent (query, body, header or bearer) */
  secret: string | null
  contentType: string | null
  /** the body exactly as received; the query string for GET */
  rawBody: string
  /** the parsed fields, or null when the body could not be read (see bodyProblem) */
  fields: Record<string, unknown> | null
  /** the body (or the URL) is not usable: invalid JSON, unsupported content type, too large, a malformed escape */
  bodyProblem: (PostbackProblem & { httpStatus: number }) | null
  idempotencyKey: string | null
  sourceIp: string | null
  userAgent: string | null
}

const unauthorized = (error: string): PostbackAnswer => ({
  httpStatus: 401,
  outcome: 'REJECTED',
  status: 'rejected',
  error,
  postbackId: null,
  callUuid: null,
  callerNumber: null,
  tags: {},
  problems: [],
})

/**
 * The request's own problem made the key unreadable (it was inside a body that could not be read, or cut
 * by a malformed escape): that problem is the answer, not "missing key". There is no company to log it for.
 */
function keyUnread(problem: PostbackProblem & { httpStatus: number }): PostbackAnswer {
  const { httpStatus, ...rest } = problem
  return {
    ...unauthorized(
      `${problem.message}; the key could not be read, so this postback is not logged (send the key as ?key= in the URL or in the X-Ringhook-Key header)`,
    ),
    httpStatus,
    problems: [rest],
  }
}

/** The key's secret never reaches the log: it is replaced wherever it appears in what was received. */
function redactSecret(raw: string, secret: string): string {
  if (!secret) return raw
  return raw.split(secret).join('[REDACTED]').split(encodeURIComponent(secret)).join('[REDACTED]')
}

/** Counts the answers (metrics): by outcome and by the door the postback came in by. */
export interface PostbackMetrics {
  postbackAnswered(channel: PostbackChannel, outcome: PostbackOutcome): void
}

/** What ingesting a postback works with. */
export interface PostbackDeps {
  db: Db
  pubsub: PubSub
  apiKeys: ApiKeyCache
  postbackLimiter: PostbackRateLimiter
  postbackWriter: PostbackWriter
  metrics?: PostbackMetrics
}

/**
 * Checks, parses, matches and logs one postback; answers what the publisher is told. Every postback that
 * carried a valid key is logged, refused ones too. Unknown or revoked keys get 401 and are not logged
 * (there is no company to log them for).
 */
export async function ingestPostback(services: PostbackDeps, request: PostbackRequest): Promise<PostbackAnswer> {
  const refused = (answer: PostbackAnswer) => {
    services.metrics?.postbackAnswered(request.channel, answer.outcome)
    return answer
  }
  if (!request.secret) {
    if (request.bodyProblem) return refused(keyUnread(request.bodyProblem))
    return refused(unauthorized('missing key: pass it as ?key=, in the body as "key", or in the X-Ringhook-Key header'))
  }
  const apiKey = await services.apiKeys.lookup(request.secret)
  if (!apiKey || apiKey.revokedAt)
    return refused(request.bodyProblem?.code === 'MALFORMED_URL' ? keyUnread(request.bodyProblem) : unauthorized('unknown or revoked key'))
  return ingestWithKey(services, apiKey, request)
}

/** The answer the first postback with this Idempotency-Key was given, if there was one. */
async function firstAnswer(services: PostbackDeps, apiKeyId: string, idempotencyKey: string): Promise<PostbackAnswer | null> {
  const first = await services.db.postback.findUnique({
    where: { apiKeyId_idempotencyKey: { apiKeyId, idempotencyKey } },
    select: { response: true },
  })
  return (first?.response as unknown as PostbackAnswer | null) ?? null
}

/** Ingests a postback whose key is known (the REST doors after the key lookup, the GraphQL mutation). */
export async function ingestWithKey(services: PostbackDeps, apiKey: ApiKey, request: PostbackRequest): Promise<PostbackAnswer> {
  const answer = await ingest(services, apiKey, request)
  services.metrics?.postbackAnswered(request.channel, answer.outcome)
  return answer
}

async function ingest(services: PostbackDeps, apiKey: ApiKey, request: PostbackRequest): Promise<PostbackAnswer> {
  const badIdempotencyKey = request.idempotencyKey !== null && !idempotencyKeySchema.safeParse(request.idempotencyKey).success
  if (badIdempotencyKey) request = { ...request, idempotencyKey: null }
  if (request.idempotencyKey) {
    const first = await firstAnswer(services, apiKey.id, request.idempotencyKey)
    if (first) return first
  }

  const record: PostbackRecord = {
    id: newId(),
    companyId: apiKey.companyId,
    apiKeyId: apiKey.id,
    pinnedCampaignId: apiKey.campaignId,
    pendingTtlSeconds: apiKey.pendingTtlSeconds,
    channel: request.channel,
    contentType: request.contentType,
    rawBody: request.secret ? redactSecret(request.rawBody, request.secret) : request.rawBody,
    tags: {},
    problems: [],
    callUuid: null,
    callerNumber: null,
    idempotencyKey: request.idempotencyKey,
    sourceIp: request.sourceIp,
    userAgent: request.userAgent,
    receivedAt: new Date(),
    rejection: null,
  }

  const retryAfter = await services.postbackLimiter.check(apiKey.id, apiKey.rateLimitPerMinute)
  if (retryAfter !== null) {
    const message = `more postbacks than this key may send per minute; retry in ${retryAfter} s`
    record.problems = [{ code: 'RATE_LIMITED', message }]
    record.rejection = { httpStatus: 429, error: message, retryAfterSeconds: retryAfter }
  } else if (request.bodyProblem) {
    const { httpStatus, ...problem } = request.bodyProblem
    record.problems = [problem]
    record.rejection = { httpStatus, error: problem.message }
  } else if (badIdempotencyKey) {
    const message = 'Idempotency-Key must be 1 to 200 printable ASCII characters; the postback was not applied'
    record.problems = [{ code: 'INVALID_IDEMPOTENCY_KEY', field: 'idempotencyKey', message }]
    record.rejection = { httpStatus: 400, error: message }
  } else {
    const parsed = parsePostbackFields(request.fields ?? {}, apiKey.tagPrefix)
    record.tags = parsed.tags
    record.problems = parsed.problems
    record.callUuid = parsed.callUuid
    if (parsed.fatal) {
      record.rejection = { httpStatus: 400, error: parsed.fatal.message }
    } else if (parsed.callerNumberRaw) {
      const number = parsePhoneNumber(parsed.callerNumberRaw)
      if (number.ok) {
        record.callerNumber = number.e164
      } else {
        const problem: PostbackProblem = { code: 'INVALID_CALLER_NUMBER', field: 'caller_number', message: `caller_number ${number.reason}` }
        record.problems.unshift(problem)
        record.rejection = { httpStatus: 400, error: problem.message }
      }
    }
  }
  // text every store can hold: the body as received, and what the problems quote of it (a key, a value, a
  // parser's message about the body)
  const rawBody = storable(record.rawBody)
  if (rawBody !== record.rawBody) {
    record.rawBody = rawBody
    if (!record.problems.some((p) => p.code === REPLACED_PROBLEM.code)) record.problems.push(REPLACED_PROBLEM)
  }
  record.problems = record.problems.map((p) => ({ ...p, message: storable(p.message), ...(p.field ? { field: storable(p.field) } : {}) }))
  if (record.rejection) record.rejection.error = storable(record.rejection.error)

  let written: WrittenPostback
  try {
    written = await services.postbackWriter.write(record)
  } catch (e) {
    // a concurrent retry with the same Idempotency-Key won the race: answer what it was told
    const first = request.idempotencyKey ? await firstAnswer(services, apiKey.id, request.idempotencyKey) : null
    if (first) return first
    throw e
  }
  services.pubsub.publish('postbackReceived', apiKey.companyId, {
    // built JSON-safe (the time as an ISO string) rather than serialised and parsed per postback
    postback: {
      id: record.id,
      companyId: record.companyId,
      apiKeyId: record.apiKeyId,
      campaignId: written.campaignId,
      callId: written.callId,
      callerNumber: written.answer.callerNumber,
      channel: record.channel,
      contentType: record.contentType,
      rawBody: record.rawBody,
      tags: written.answer.tags,
      problems: written.answer.problems,
      outcome: written.answer.outcome,
      httpStatus: written.answer.httpStatus,
      response: written.answer,
      idempotencyKey: record.idempotencyKey,
      sourceIp: record.sourceIp,
      userAgent: record.userAgent,
      createdAt: record.receivedAt.toISOString(),
    },
  })
  return written.answer
}
