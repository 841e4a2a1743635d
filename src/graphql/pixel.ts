import { filter, pipe } from 'graphql-yoga'
import type { Pixel } from '../generated/prisma/client.js'
import { findCampaign } from '../campaigns/campaigns.js'
import { notFound } from '../core/errors.js'
import { findCall } from '../calls/findCall.js'
import type { FailedMatch } from '../webhooks/matchTags.js'
import { resendPixel, testFireWebhook } from '../delivery/pixelActions.js'
import { pixelWhere } from '../delivery/pixelFilter.js'
import { findWebhook } from '../webhooks/webhooks.js'
import { summarisePixels, type PixelSummary } from '../delivery/pixelSummary.js'
import { builder } from './builder.js'
import { PixelStatusEnum, TagInputRef } from './enums.js'
import { webhookEvaluations, type WebhookEvaluation } from '../webhooks/evaluations.js'

const PixelRef = builder.prismaObject('Pixel', {
  description: 'One firing of a webhook for a call: the request sent and every attempt.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'also the webhook-id header receivers dedupe repeats by' }),
    webhook: t.relation('webhook'),
    call: t.relation('call'),
    trigger: t.exposeString('trigger', { description: 'CALL_START, ANSWERED, CALL_END, CONVERSION, TIMER, RESEND or TEST' }),
    status: t.field({ type: PixelStatusEnum, resolve: (p) => p.status as never }),
    request: t.expose('request', {
      type: 'JSON',
      nullable: true,
      description: 'the rendered request {method, url, headers, body} (signature headers are added per attempt)',
    }),
    unresolvedTokens: t.expose('unresolvedTokens', { type: 'JSON', nullable: true, description: 'tokens that found no value and were sent empty' }),
    tagsApplied: t.expose('tagsApplied', { type: 'JSON', nullable: true, description: 'tags the response wrote on the call' }),
    responseNote: t.exposeString('responseNote', { nullable: true }),
    attemptCount: t.exposeInt('attemptCount'),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    attempts: t.relation('attempts', { query: { orderBy: { number: 'asc' } } }),
  }),
})

builder.prismaObject('PixelAttempt', {
  fields: (t) => ({
    number: t.exposeInt('number'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    durationMs: t.exposeInt('durationMs'),
    statusCode: t.exposeInt('statusCode', { nullable: true }),
    responseHeaders: t.expose('responseHeaders', { type: 'JSON', nullable: true }),
    responseBody: t.exposeString('responseBody', { nullable: true, description: 'up to 64 KB' }),
    responseTruncated: t.exposeBoolean('responseTruncated'),
    error: t.exposeString('error', { nullable: true }),
  }),
})

const FailedConditionRef = builder.objectRef<FailedMatch>('FailedCondition').implement({
  fields: (t) => ({
    group: t.exposeInt('group'),
    condition: t.exposeInt('condition'),
    key: t.exposeString('key'),
    operator: t.exposeString('operator'),
    expected: t.field({ type: 'JSON', nullable: true, resolve: (f) => f.expected }),
    actual: t.string({ nullable: true, resolve: (f) => f.actual }),
  }),
})

const WebhookEvaluationRef = builder.objectRef<WebhookEvaluation>('WebhookEvaluation').implement({
  description: 'Did this webhook fire for this call, and if not, why.',
  fields: (t) => ({
    webhook: t.prismaField({
      type: 'Webhook',
      resolve: (query, e, _a, ctx) => ctx.services.db.webhook.findUniqueOrThrow({ ...query, where: { id: e.webhookId } }),
    }),
    trigger: t.exposeString('trigger'),
    fired: t.exposeBoolean('fired'),
    pixel: t.prismaField({
      type: 'Pixel',
      nullable: true,
      resolve: (query, e, _a, ctx) => (e.pixelId ? ctx.services.db.pixel.findUnique({ ...query, where: { id: e.pixelId } }) : null),
    }),
    reason: t.exposeString('reason', { nullable: true }),
    failedConditions: t.field({ type: [FailedConditionRef], resolve: (e) => e.failedConditions }),
  }),
})

export const PixelSummaryRef = builder.objectRef<PixelSummary>('PixelSummary').implement({
  description: 'Pixels by status: the call log\'s "Pixels Fired" column, a replay\'s progress.',
  fields: (t) => ({
    count: t.exposeInt('count'),
    succeeded: t.exposeInt('succeeded'),
    failed: t.exposeInt('failed'),
    pending: t.exposeInt('pending', { description: 'waiting for a first attempt, a retry, or in flight' }),
    cancelled: t.exposeInt('cancelled'),
  }),
})

builder.prismaObjectFields('Call', (t) => ({
  pixels: t.relation('pixels', { description: 'the pixels fired for this call, oldest first', query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } }),
  pixelSummary: t.field({
    type: PixelSummaryRef,
    select: { pixels: { select: { status: true } } },
    resolve: (call) => summarisePixels(call.pixels.map((p) => ({ status: p.status, n: 1 }))),
  }),
  webhookEvaluations: t.field({
    type: [WebhookEvaluationRef],
    description: 'For each webhook of the campaign: fired (its pixel) or not, and why.',
    resolve: (call, _args, ctx) => webhookEvaluations(ctx.services, call.id),
  }),
}))

const PixelFilterInput = builder.inputType('PixelFilter', {
  fields: (t) => ({
    status: t.field({ type: PixelStatusEnum }),
    trigger: t.string(),
    createdAfter: t.field({ type: 'DateTime' }),
    createdBefore: t.field({ type: 'DateTime' }),
  }),
})

builder.prismaObjectField('Webhook', 'pixels', (t) =>
  t.relatedConnection('pixels', {
    cursor: 'id',
    description: "the webhook's pixels, newest first (the webhook overview)",
    args: { filter: t.arg({ type: PixelFilterInput }) },
    query: (args) => ({
      where: pixelWhere(args.filter),
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    }),
  }),
)

builder.queryFields((t) => ({
  pixels: t.prismaConnection({
    type: 'Pixel',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 200,
    description: 'Fired pixels of the company, newest first.',
    args: { filter: t.arg({ type: PixelFilterInput }) },
    resolve: (query, _root, args, ctx) =>
      ctx.services.db.pixel.findMany({
        ...query,
        where: { ...pixelWhere(args.filter), companyId: ctx.auth.companyId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
  }),
  pixel: t.prismaField({
    type: 'Pixel',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const pixel = await ctx.services.db.pixel.findFirst({ ...query, where: { id: args.id.toString(), companyId: ctx.auth.companyId } })
      if (!pixel) throw notFound('pixel', 'id')
      return pixel
    },
  }),
}))

builder.mutationFields((t) => ({
  resendPixel: t.prismaField({
    type: 'Pixel',
    description: 'Fire the same webhook for the same call again (a new pixel, trigger RESEND).',
    args: { input: t.arg({ type: builder.inputType('ResendPixelInput', { fields: (f) => ({ id: f.id({ required: true }) }) }), required: true }) },
    resolve: (_q, _root, { input }, ctx) => resendPixel(ctx.services, ctx.auth.companyId, input.id.toString()),
  }),
  testFireWebhook: t.prismaField({
    type: 'Pixel',
    description: 'Fire a webhook once, now, against a call or sample tags; answers with the request sent and the response (no retries).',
    args: {
      input: t.arg({
        type: builder.inputType('TestFireWebhookInput', {
          fields: (f) => ({
            webhookId: f.id({ required: true }),
            callUuid: f.string({ description: "a call of the webhook's campaign; without it a sample call is made" }),
            tags: f.field({ type: [TagInputRef], description: 'sample tags, written on the call first' }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_q, _root, { input }, ctx) => testFireWebhook(ctx.services, ctx.auth.companyId, { ...input, webhookId: input.webhookId.toString() }),
  }),
}))

const PIXEL_DATES = ['createdAt', 'completedAt', 'nextAttemptAt', 'lockedUntil'] as const

builder.subscriptionField('pixelFired', (t) =>
  t.field({
    type: PixelRef,
    description: "Each attempt and final state of the key's company's pixels.",
    args: {
      id: t.arg.id({ description: 'one pixel (its page follows it as it settles)' }),
      campaignId: t.arg.id(),
      webhookId: t.arg.id(),
      callUuid: t.arg.string(),
      status: t.arg({ type: PixelStatusEnum }),
    },
    subscribe: async (_root, args, ctx) => {
      const pixelId = args.id?.toString()
      const campaignId = args.campaignId?.toString()
      const webhookId = args.webhookId?.toString()
      if (pixelId && !(await ctx.services.db.pixel.findFirst({ where: { id: pixelId, companyId: ctx.auth.companyId }, select: { id: true } })))
        throw notFound('pixel', 'id')
      if (campaignId) await findCampaign(ctx.services.db, ctx.auth.companyId, campaignId, 'campaignId')
      if (webhookId) await findWebhook(ctx.services.db, ctx.auth.companyId, webhookId, 'webhookId')
      const callId = args.callUuid ? (await findCall(ctx.services.db, ctx.auth.companyId, args.callUuid, 'callUuid')).id : undefined
      return pipe(
        ctx.services.pubsub.subscribe('pixelFired', ctx.auth.companyId),
        filter(
          ({ pixel: p }) =>
            (!pixelId || p.id === pixelId) &&
            (!campaignId || p.campaignId === campaignId) &&
            (!webhookId || p.webhookId === webhookId) &&
            (!callId || p.callId === callId) &&
            (!args.status || p.status === args.status),
        ),
      )
    },
    resolve: (event) => {
      const row = { ...event.pixel } as Record<string, unknown>
      for (const key of PIXEL_DATES) if (typeof row[key] === 'string') row[key] = new Date(row[key] as string)
      return row as unknown as Pixel
    },
  }),
)
