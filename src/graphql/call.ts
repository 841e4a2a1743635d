import { filter, pipe } from 'graphql-yoga'
import type { Call } from '../generated/prisma/client.js'
import { addCallTags } from '../calls/addCallTags.js'
import { callWhere } from '../calls/callFilter.js'
import { findCampaign } from '../campaigns/campaigns.js'
import { findCall } from '../calls/findCall.js'
import { recordCallEvent, waitForStartPixels } from '../calls/callEvents.js'
import { builder } from './builder.js'
import { CallStatusEnum, TagInputRef, TagSourceEnum } from './enums.js'

const TagRef = builder.prismaObject('Tag', {
  fields: (t) => ({
    key: t.exposeString('key'),
    value: t.exposeString('value'),
    source: t.field({ type: TagSourceEnum, resolve: (tag) => tag.source as never }),
    sourceId: t.exposeID('sourceId', { nullable: true, description: 'the postback (source POSTBACK) or pixel (source WEBHOOK) that wrote it' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

export const CallRef = builder.prismaObject('Call', {
  fields: (t) => ({
    id: t.exposeID('id'),
    uuid: t.exposeString('uuid'),
    campaign: t.relation('campaign'),
    callerNumber: t.exposeString('callerNumber'),
    calledNumber: t.exposeString('calledNumber', { nullable: true }),
    status: t.field({ type: CallStatusEnum, resolve: (c) => c.status as never }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    answeredAt: t.expose('answeredAt', { type: 'DateTime', nullable: true }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    durationSeconds: t.exposeInt('durationSeconds', { nullable: true, description: 'connected seconds, answer to end' }),
    converted: t.exposeBoolean('converted'),
    convertedAt: t.expose('convertedAt', { type: 'DateTime', nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    tags: t.relation('tags', { query: { orderBy: [{ key: 'asc' }] } }),
    tag: t.field({
      type: TagRef,
      nullable: true,
      description: 'the tag with this key, if the call has one',
      args: { key: t.arg.string({ required: true }) },
      resolve: (call, args, ctx) => ctx.loaders.tagByCallAndKey.load(`${call.id}\u0000${args.key}`),
    }),
  }),
})

const CallFilterInput = builder.inputType('CallFilter', {
  fields: (t) => ({
    campaignId: t.id(),
    status: t.field({ type: CallStatusEnum }),
    callerNumber: t.string(),
    startedAfter: t.field({ type: 'DateTime', description: 'inclusive' }),
    startedBefore: t.field({ type: 'DateTime', description: 'exclusive' }),
  }),
})

builder.queryFields((t) => ({
  calls: t.prismaConnection({
    type: 'Call',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 200,
    description: 'The call log, newest first.',
    args: { filter: t.arg({ type: CallFilterInput }) },
    resolve: (query, _root, args, ctx) =>
      ctx.services.db.call.findMany({
        ...query,
        where: callWhere(ctx.auth.companyId, args.filter && { ...args.filter, campaignId: args.filter.campaignId?.toString() }),
        orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      }),
  }),
  call: t.prismaField({
    type: 'Call',
    args: { uuid: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const call = await findCall(ctx.services.db, ctx.auth.companyId, args.uuid)
      return ctx.services.db.call.findUniqueOrThrow({ ...query, where: { id: call.id } })
    },
  }),
}))

const StartCallInput = builder.inputType('StartCallInput', {
  fields: (t) => ({
    campaignId: t.id({ required: true }),
    callerNumber: t.string({ required: true, description: 'normalised to E.164 (default country +1)' }),
    calledNumber: t.string(),
    uuid: t.string({ description: 'the telephony call id; generated when not given' }),
    startedAt: t.field({ type: 'DateTime' }),
    tags: t.field({ type: [TagInputRef] }),
    waitForWebhooksMs: t.int({ description: 'wait up to this long (at most 30000) for CALL_START webhooks to answer, so their tags are on the call returned' }),
  }),
})
const AnswerCallInput = builder.inputType('AnswerCallInput', {
  fields: (t) => ({ uuid: t.string({ required: true }), answeredAt: t.field({ type: 'DateTime' }) }),
})
const EndCallInput = builder.inputType('EndCallInput', {
  fields: (t) => ({ uuid: t.string({ required: true }), endedAt: t.field({ type: 'DateTime' }) }),
})
const ConvertCallInput = builder.inputType('ConvertCallInput', {
  fields: (t) => ({
    uuid: t.string({ required: true }),
    convertedAt: t.field({ type: 'DateTime' }),
    tags: t.field({ type: [TagInputRef] }),
  }),
})
const AddCallTagsInput = builder.inputType('AddCallTagsInput', {
  fields: (t) => ({ uuid: t.string({ required: true }), tags: t.field({ type: [TagInputRef], required: true }) }),
})

builder.mutationFields((t) => ({
  startCall: t.prismaField({
    type: 'Call',
    args: { input: t.arg({ type: StartCallInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const { waitForWebhooksMs, ...event } = input
      const { call } = await recordCallEvent(ctx.services, ctx.auth.companyId, { event: 'START', ...event, campaignId: input.campaignId.toString() })
      if (!waitForWebhooksMs) return call
      // read again: start webhooks may have written tags while startCall waited
      await waitForStartPixels(ctx.services.db, call.id, waitForWebhooksMs)
      return ctx.services.db.call.findUniqueOrThrow({ ...query, where: { id: call.id } })
    },
  }),
  answerCall: t.prismaField({
    type: 'Call',
    args: { input: t.arg({ type: AnswerCallInput, required: true }) },
    resolve: async (_q, _root, { input }, ctx) => (await recordCallEvent(ctx.services, ctx.auth.companyId, { event: 'ANSWER', ...input })).call,
  }),
  endCall: t.prismaField({
    type: 'Call',
    args: { input: t.arg({ type: EndCallInput, required: true }) },
    resolve: async (_q, _root, { input }, ctx) => (await recordCallEvent(ctx.services, ctx.auth.companyId, { event: 'END', ...input })).call,
  }),
  convertCall: t.prismaField({
    type: 'Call',
    args: { input: t.arg({ type: ConvertCallInput, required: true }) },
    resolve: async (_q, _root, { input }, ctx) => (await recordCallEvent(ctx.services, ctx.auth.companyId, { event: 'CONVERSION', ...input })).call,
  }),
  addCallTags: t.prismaField({
    type: 'Call',
    args: { input: t.arg({ type: AddCallTagsInput, required: true }) },
    resolve: (_q, _root, { input }, ctx) => addCallTags(ctx.services, ctx.auth.companyId, input),
  }),
}))

const CALL_DATE_FIELDS = ['startedAt', 'answeredAt', 'endedAt', 'convertedAt', 'updatedAt'] as const

/** A call as published on the bus (JSON) -> the row shape the Call type reads. */
function reviveCall(json: Record<string, unknown>): Call {
  const call = { ...json } as Record<string, unknown>
  for (const key of CALL_DATE_FIELDS) if (typeof call[key] === 'string') call[key] = new Date(call[key] as string)
  return call as unknown as Call
}

const CallUpdateRef = builder.objectRef<{ event: string; call: Call }>('CallUpdate').implement({
  fields: (t) => ({
    event: t.exposeString('event', { description: 'STARTED, ANSWERED, ENDED, CONVERTED or TAGGED' }),
    call: t.field({ type: CallRef, resolve: (parent) => parent.call }),
  }),
})

builder.subscriptionField('callUpdated', (t) =>
  t.field({
    type: CallUpdateRef,
    description: "Each change of a call of the key's company: lifecycle events and tags.",
    args: { campaignId: t.arg.id(), uuid: t.arg.string() },
    subscribe: async (_root, args, ctx) => {
      const campaignId = args.campaignId?.toString()
      if (campaignId) await findCampaign(ctx.services.db, ctx.auth.companyId, campaignId, 'campaignId')
      return pipe(
        ctx.services.pubsub.subscribe('callUpdated', ctx.auth.companyId),
        filter((p) => (!campaignId || p.call.campaignId === campaignId) && (!args.uuid || p.call.uuid === args.uuid)),
      )
    },
    resolve: (payload) => ({ event: payload.event, call: reviveCall(payload.call) }),
  }),
)
