import { filter, pipe } from 'graphql-yoga'
import type { Postback } from '../generated/prisma/client.js'
import { findCampaign } from '../campaigns/campaigns.js'
import { badInput, notFound, RinghookError, type ErrorCode } from '../core/errors.js'
import { ingestWithKey } from '../postbacks/ingestPostback.js'
import type { PostbackProblem } from '../postbacks/parsePostback.js'
import { postbackWhere } from '../postbacks/postbackFilter.js'
import type { PostbackAnswer } from '../postbacks/postbackWriter.js'
import { postbackAnswerOf } from '../postbacks/postbackAnswer.js'
import { jsonText } from '../core/json.js'
import { builder } from './builder.js'
import { PostbackOutcomeEnum } from './enums.js'
import { checkPhoneNumber } from '../core/phone.js'

const ProblemRef = builder.objectRef<PostbackProblem>('PostbackProblem').implement({
  description: 'Something found in a postback: why it was refused, or what was changed or skipped.',
  fields: (t) => ({
    code: t.exposeString('code'),
    field: t.string({ nullable: true, resolve: (p) => p.field ?? null }),
    message: t.exposeString('message'),
  }),
})

const PostbackRef = builder.prismaObject('Postback', {
  description: 'One inbound message from a publisher, as received, with what was made of it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    apiKey: t.relation('apiKey'),
    campaign: t.relation('campaign', { nullable: true }),
    call: t.relation('call', { nullable: true, description: 'the call its tags reached, once they did' }),
    callerNumber: t.exposeString('callerNumber', { nullable: true }),
    channel: t.exposeString('channel', { description: 'GRAPHQL, REST_GET or REST_POST' }),
    contentType: t.exposeString('contentType', { nullable: true }),
    rawBody: t.exposeString('rawBody', { description: 'the body exactly as received (the query string for GET), the key redacted' }),
    tags: t.expose('tags', { type: 'JSON', nullable: true, description: 'the parsed tags, keys normalised: {key: value}' }),
    problems: t.field({ type: [ProblemRef], resolve: (p) => (p.problems as unknown as PostbackProblem[] | null) ?? [] }),
    outcome: t.field({ type: PostbackOutcomeEnum, resolve: (p) => p.outcome as never }),
    httpStatus: t.exposeInt('httpStatus'),
    response: t.field({
      type: 'JSON',
      description: 'the answer the publisher was given',
      select: { call: { select: { uuid: true } } },
      resolve: (p) => p.response ?? postbackAnswerOf(p),
    }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    sourceIp: t.exposeString('sourceIp', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    pendingTags: t.relation('pendingTags', { description: 'its tags still waiting for the number to call' }),
  }),
})

const CALL_POSTBACKS = { default: 50, max: 200 }

/** How many of a call's postbacks to list: `first` as asked, within 1 to CALL_POSTBACKS.max. */
function callPostbacksTake(first: number | null | undefined): number {
  const n = first ?? CALL_POSTBACKS.default
  if (n < 1 || n > CALL_POSTBACKS.max) throw badInput('first', `must be from 1 to ${CALL_POSTBACKS.max}, not ${n}`)
  return n
}

builder.prismaObjectFields('Call', (t) => ({
  postbacks: t.relation('postbacks', {
    description: `the postbacks whose tags reached this call (at once, or when it called in), oldest first; postbackCount says how many there are`,
    args: { first: t.arg.int({ defaultValue: CALL_POSTBACKS.default, description: `at most ${CALL_POSTBACKS.max}` }) },
    query: (args) => ({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: callPostbacksTake(args.first) }),
  }),
  // a count of the call's own rows by the callId index: Prisma's relation count joins a count of every
  // call's postbacks, grouped, which SQLite computes over the whole table
  postbackCount: t.int({
    description: 'how many postbacks reached this call',
    resolve: (call, _args, ctx) => ctx.services.db.postback.count({ where: { callId: call.id } }),
  }),
}))

builder.prismaObject('PendingTag', {
  description: 'A tag for a caller number that has not called yet; applied when it calls within the window.',
  fields: (t) => ({
    key: t.exposeString('key'),
    value: t.exposeString('value'),
    callerNumber: t.exposeString('callerNumber'),
    campaign: t.field({ type: 'String', nullable: true, description: 'id of the campaign it is pinned to', resolve: (p) => p.campaignId }),
    postback: t.relation('postback'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
})

const PostbackFilterInput = builder.inputType('PostbackFilter', {
  fields: (t) => ({
    outcome: t.field({ type: PostbackOutcomeEnum }),
    callerNumber: t.string(),
    apiKeyId: t.id({ description: 'the publisher key that sent it' }),
    campaignId: t.id(),
    receivedAfter: t.field({ type: 'DateTime', description: 'inclusive' }),
    receivedBefore: t.field({ type: 'DateTime', description: 'exclusive' }),
  }),
})

builder.queryFields((t) => ({
  postbacks: t.prismaConnection({
    type: 'Postback',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 200,
    description: 'The postback log, newest first.',
    args: { filter: t.arg({ type: PostbackFilterInput }) },
    resolve: (query, _root, args, ctx) =>
      ctx.services.db.postback.findMany({
        ...query,
        where: postbackWhere(
          ctx.auth.companyId,
          args.filter && { ...args.filter, apiKeyId: args.filter.apiKeyId?.toString(), campaignId: args.filter.campaignId?.toString() },
        ),
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
  }),
  postback: t.prismaField({
    type: 'Postback',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const found = await ctx.services.db.postback.findFirst({ ...query, where: { id: args.id.toString(), companyId: ctx.auth.companyId } })
      if (!found) throw notFound('postback', 'id')
      return found
    },
  }),
  pendingTags: t.prismaField({
    type: ['PendingTag'],
    description: 'Tags waiting for a caller number to call in (not expired), oldest first.',
    args: { callerNumber: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const callerNumber = checkPhoneNumber('callerNumber', args.callerNumber)
      return ctx.services.db.pendingTag.findMany({
        ...query,
        where: { companyId: ctx.auth.companyId, callerNumber, expiresAt: { gt: new Date() } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      })
    },
  }),
}))

const PostbackResultRef = builder.objectRef<PostbackAnswer>('PostbackResult').implement({
  description: 'What a publisher is told about a postback: the same words the REST shim answers.',
  fields: (t) => ({
    status: t.exposeString('status', { description: '"call found, tags applied", "completed call found, tags applied" or "call not found, tags stored"' }),
    outcome: t.field({ type: PostbackOutcomeEnum, resolve: (a) => a.outcome }),
    postbackId: t.exposeID('postbackId', { nullable: true }),
    callUuid: t.exposeString('callUuid', { nullable: true }),
    callerNumber: t.exposeString('callerNumber', { nullable: true }),
    tags: t.expose('tags', { type: 'JSON' }),
    problems: t.field({ type: [ProblemRef], resolve: (a) => a.problems }),
  }),
})

const rejectionCode = (status: number): ErrorCode => (status === 429 ? 'RATE_LIMITED' : status === 404 ? 'NOT_FOUND' : 'BAD_USER_INPUT')

builder.mutationField('ingestPostback', (t) =>
  t.field({
    type: PostbackResultRef,
    description: "Send caller data (publisher or admin key): every field becomes a tag on the caller's call, now or when the number calls in.",
    args: {
      payload: t.arg({ type: 'JSON', required: true, description: '{"caller_number": "+14155550100", "age": 39, ...} or {"call_uuid": ...}' }),
      idempotencyKey: t.arg.string({ description: 'a retry with the same key gets the first answer, not a second postback' }),
    },
    resolve: async (_root, args, ctx) => {
      const payload = args.payload
      const isObject = payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      const answer = await ingestWithKey(ctx.services, ctx.auth.apiKey, {
        channel: 'GRAPHQL',
        secret: null,
        contentType: 'application/json',
        // a payload may nest deeper than JSON.stringify can recurse
        rawBody: jsonText(payload),
        fields: isObject ? (payload as Record<string, unknown>) : null,
        bodyProblem: isObject ? null : { code: 'INVALID_BODY', message: 'payload must be an object of fields', httpStatus: 400 },
        idempotencyKey: args.idempotencyKey ?? null,
        sourceIp: null,
        userAgent: null,
      })
      if (answer.outcome === 'REJECTED') {
        const problem = answer.problems[0]
        throw new RinghookError(rejectionCode(answer.httpStatus), answer.error ?? answer.status, problem?.field ? `payload.${problem.field}` : 'payload', {
          postbackId: answer.postbackId,
          problems: answer.problems,
        })
      }
      return answer
    },
  }),
)

const POSTBACK_DATES = ['createdAt'] as const

builder.subscriptionField('postbackReceived', (t) =>
  t.field({
    type: PostbackRef,
    description: "Every logged postback of the key's company, refused ones too.",
    args: { campaignId: t.arg.id(), apiKeyId: t.arg.id() },
    subscribe: async (_root, args, ctx) => {
      const campaignId = args.campaignId?.toString()
      const apiKeyId = args.apiKeyId?.toString()
      if (campaignId) await findCampaign(ctx.services.db, ctx.auth.companyId, campaignId, 'campaignId')
      return pipe(
        ctx.services.pubsub.subscribe('postbackReceived', ctx.auth.companyId),
        filter((e) => (!campaignId || e.postback.campaignId === campaignId) && (!apiKeyId || e.postback.apiKeyId === apiKeyId)),
      )
    },
    resolve: (event) => {
      const row = { ...event.postback } as Record<string, unknown>
      for (const key of POSTBACK_DATES) row[key] = new Date(row[key] as string)
      return row as unknown as Postback
    },
  }),
)
