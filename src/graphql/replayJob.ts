import { filter, pipe } from 'graphql-yoga'
import type { ReplayJob } from '../generated/prisma/client.js'
import {
  cancelReplay,
  findReplayJob,
  REPLAY_STATUSES,
  replayPixelSummary,
  replayPixels,
  type ReplayAnswer,
  type StoredReplayFilter,
} from '../delivery/replayPixels.js'
import { builder } from './builder.js'
import { PixelSummaryRef } from './pixel.js'
import { PixelStatusEnum, PixelTriggerEnum } from './enums.js'
import { PIXEL_TRIGGERS } from '../webhooks/webhookConfig.js'

const ReplayJobStatusEnum = builder.enumType('ReplayJobStatus', {
  description: 'QUEUED (waiting for a worker) -> RUNNING -> COMPLETED, CANCELLED or FAILED',
  values: REPLAY_STATUSES,
})

const ReplayFilterRef = builder.objectRef<StoredReplayFilter>('ReplayFilter').implement({
  fields: (t) => ({
    webhookId: t.id({ nullable: true, resolve: (f) => f.webhookId ?? null }),
    campaignId: t.id({ nullable: true, resolve: (f) => f.campaignId ?? null }),
    status: t.field({ type: PixelStatusEnum, nullable: true, resolve: (f) => (f.status ?? null) as never }),
    trigger: t.field({
      type: PixelTriggerEnum,
      nullable: true,
      // a replay stored before triggers were checked may hold another word: it selected nothing
      resolve: (f) => PIXEL_TRIGGERS.find((p) => p === f.trigger) ?? null,
    }),
    createdAfter: t.field({ type: 'DateTime', nullable: true, resolve: (f) => (f.createdAfter ? new Date(f.createdAfter) : null) }),
    createdBefore: t.field({ type: 'DateTime', nullable: true, resolve: (f) => (f.createdBefore ? new Date(f.createdBefore) : null) }),
  }),
})

const ReplayJobRef = builder.prismaObject('ReplayJob', {
  description: 'A bulk replay: the pixels a filter selected, delivered again as new pixels (trigger RESEND) in batches.',
  fields: (t) => ({
    id: t.exposeID('id'),
    filter: t.field({ type: ReplayFilterRef, resolve: (j) => j.filter as StoredReplayFilter }),
    status: t.field({ type: ReplayJobStatusEnum, resolve: (j) => j.status as never }),
    total: t.exposeInt('total', { description: 'pixels the filter selected when the replay was asked for' }),
    done: t.exposeInt('done', { description: 'replayed: a new pixel made' }),
    failed: t.exposeInt('failed', { description: 'not replayed: their webhook was deleted' }),
    upTo: t.expose('upTo', { type: 'DateTime', description: 'pixels created after this are not replayed' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    pixels: t.field({ type: PixelSummaryRef, resolve: (j, _a, ctx) => replayPixelSummary(ctx.services.db, j.id) }),
  }),
})

const ReplayPixelsResultRef = builder.objectRef<ReplayAnswer>('ReplayPixelsResult').implement({
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'pixels the filter selects' }),
    dryRun: t.exposeBoolean('dryRun'),
    job: t.field({ type: ReplayJobRef, nullable: true, description: 'the replay started (null for a dry run)', resolve: (a) => a.job }),
  }),
})

const ReplayPixelFilterInput = builder.inputType('ReplayPixelFilter', {
  fields: (t) => ({
    webhookId: t.id(),
    campaignId: t.id(),
    status: t.field({ type: PixelStatusEnum }),
    trigger: t.field({ type: PixelTriggerEnum }),
    createdAfter: t.field({ type: 'DateTime', description: 'pixels created at or after' }),
    createdBefore: t.field({ type: 'DateTime', description: 'pixels created before' }),
  }),
})

builder.queryFields((t) => ({
  replayJob: t.prismaField({
    type: 'ReplayJob',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const job = await findReplayJob(ctx.services.db, ctx.auth.companyId, args.id.toString())
      return ctx.services.db.replayJob.findUniqueOrThrow({ ...query, where: { id: job.id } })
    },
  }),
  replayJobs: t.prismaConnection({
    type: 'ReplayJob',
    cursor: 'id',
    defaultSize: 20,
    maxSize: 100,
    description: "The company's bulk replays, newest first.",
    resolve: (query, _root, _args, ctx) =>
      ctx.services.db.replayJob.findMany({ ...query, where: { companyId: ctx.auth.companyId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
}))

builder.mutationFields((t) => ({
  replayPixels: t.field({
    type: ReplayPixelsResultRef,
    description:
      'Deliver again the pixels a filter selects, each as a new pixel (trigger RESEND) naming its original. dryRun: only count them. One replay of a filter at a time.',
    args: {
      input: t.arg({
        type: builder.inputType('ReplayPixelsInput', {
          fields: (f) => ({
            filter: f.field({ type: ReplayPixelFilterInput, required: true }),
            dryRun: f.boolean({ description: 'count only (default false)' }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) =>
      replayPixels(ctx.services, ctx.auth.companyId, {
        dryRun: input.dryRun,
        filter: { ...input.filter, webhookId: input.filter.webhookId?.toString(), campaignId: input.filter.campaignId?.toString() },
      }),
  }),
  cancelReplay: t.prismaField({
    type: 'ReplayJob',
    description: 'Stop a queued or running replay before its next batch (pixels already made are delivered).',
    args: { input: t.arg({ type: builder.inputType('CancelReplayInput', { fields: (f) => ({ id: f.id({ required: true }) }) }), required: true }) },
    resolve: (_q, _root, { input }, ctx) => cancelReplay(ctx.services, ctx.auth.companyId, input.id.toString()),
  }),
}))

const REPLAY_DATES = ['upTo', 'cursorCreatedAt', 'createdAt', 'startedAt', 'finishedAt', 'updatedAt'] as const

builder.subscriptionField('replayJobUpdated', (t) =>
  t.field({
    type: ReplayJobRef,
    description: "A replay's progress: after each batch, and when its status changes.",
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const job = await findReplayJob(ctx.services.db, ctx.auth.companyId, args.id.toString())
      return pipe(
        ctx.services.pubsub.subscribe('replayJobUpdated', ctx.auth.companyId),
        filter(({ replayJob }) => replayJob.id === job.id),
      )
    },
    resolve: (event) => {
      const row = { ...event.replayJob } as Record<string, unknown>
      for (const key of REPLAY_DATES) if (typeof row[key] === 'string') row[key] = new Date(row[key] as string)
      return row as unknown as ReplayJob
    },
  }),
)
