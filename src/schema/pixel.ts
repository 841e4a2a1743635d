import { builder } from './builder.js'
import { PixelStatusEnum } from './enums.js'

builder.prismaObject('Pixel', {
  description: 'One firing of a webhook for a call: the request sent and every attempt.',
  fields: (t) => ({
    id: t.exposeID('id'),
    webhook: t.relation('webhook'),
    call: t.relation('call'),
    trigger: t.exposeString('trigger'),
    status: t.field({ type: PixelStatusEnum, resolve: (p) => p.status as never }),
    request: t.expose('request', { type: 'JSON' }),
    unresolvedTokens: t.expose('unresolvedTokens', { type: 'JSON', nullable: true }),
    tagsApplied: t.expose('tagsApplied', { type: 'JSON', nullable: true }),
    responseNote: t.exposeString('responseNote', { nullable: true }),
    attemptCount: t.exposeInt('attemptCount'),
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
    responseBody: t.exposeString('responseBody', { nullable: true }),
    responseTruncated: t.exposeBoolean('responseTruncated'),
    error: t.exposeString('error', { nullable: true }),
  }),
})

builder.prismaObjectField('Call', 'pixels', (t) =>
  t.relation('pixels', { description: 'the pixels fired for this call, oldest first', query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } }),
)

builder.queryField('pixels', (t) =>
  t.prismaConnection({
    type: 'Pixel',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 200,
    description: 'Fired pixels, newest first.',
    resolve: (query, _root, _args, ctx) =>
      ctx.services.db.pixel.findMany({
        ...query,
        where: { companyId: ctx.auth.companyId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
  }),
)
