// One function ingests a postback, whether it came by GET, POST or the GraphQL mutation.
import type { ApiKey } from '../generated/prisma/client.js'
import { newId } from '../db/ids.js'
import type { Services } from './interfaces.js'
import { normalisePhoneNumber } from './normalise.js'
import { parsePostbackFields, type PostbackProblem } from './parsePostback.js'
import type { PostbackAnswer, PostbackRecord, WrittenPostback } from './postbackWriter.js'

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
  /** the body is not usable: invalid JSON, unsupported content type, too large */
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

/** The key's secret never reaches the log: it is replaced wherever it appears in what was received. */
function redactSecret(raw: string, secret: string): string {
  if (!secret) return raw
  return raw.split(secret).join('[REDACTED]').split(encodeURIComponent(secret)).join('[REDACTED]')
}

/**
 * Checks, parses, matches and logs one postback; answers what the publisher is told. Every postback that
 * carried a valid key is logged, refused ones too. Unknown or revoked keys get 401 and are not logged
 * (there is no company to log them for).
 */
export async function ingestPostback(services: Services, request: PostbackRequest): Promise<PostbackAnswer> {
  if (!request.secret) return unauthorized('missing key: pass it as ?key=, in the body as "key", or in the X-Ringhook-Key header')
  const apiKey = await services.apiKeys.lookup(request.secret)
  if (!apiKey || apiKey.revokedAt) return unauthorized('unknown or revoked key')
  return ingestWithKey(services, apiKey, request)
}

/** The answer the first postback with this Idempotency-Key was given, if there was one. */
async function firstAnswer(services: Services, apiKeyId: string, idempotencyKey: string): Promise<PostbackAnswer | null> {
  const first = await services.db.postback.findUnique({
    where: { apiKeyId_idempotencyKey: { apiKeyId, idempotencyKey } },
    select: { response: true },
  })
  return (first?.response as unknown as PostbackAnswer | null) ?? null
}

export async function ingestWithKey(services: Services, apiKey: ApiKey, request: PostbackRequest): Promise<PostbackAnswer> {
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
  } else {
    const parsed = parsePostbackFields(request.fields ?? {}, apiKey.tagPrefix)
    record.tags = parsed.tags
    record.problems = parsed.problems
    record.callUuid = parsed.callUuid
    if (parsed.fatal) {
      record.rejection = { httpStatus: 400, error: parsed.fatal.message }
    } else if (parsed.callerNumberRaw) {
      record.callerNumber = normalisePhoneNumber(parsed.callerNumberRaw)
      if (!record.callerNumber) {
        const problem: PostbackProblem = { code: 'INVALID_CALLER_NUMBER', field: 'caller_number', message: `caller_number "${parsed.callerNumberRaw}" is not a phone number` }
        record.problems.unshift(problem)
        record.rejection = { httpStatus: 400, error: problem.message }
      }
    }
  }

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
