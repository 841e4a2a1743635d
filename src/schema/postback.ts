import { builder } from './builder.js'
import { PostbackOutcomeEnum } from './enums.js'

builder.prismaObject('Postback', {
  description: 'One inbound message from a publisher, as received, with what was made of it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    apiKey: t.relation('apiKey'),
    campaign: t.relation('campaign', { nullable: true }),
    call: t.relation('call', { nullable: true }),
    callerNumber: t.exposeString('callerNumber', { nullable: true }),
    channel: t.exposeString('channel'),
    contentType: t.exposeString('contentType', { nullable: true }),
    rawBody: t.exposeString('rawBody', { description: 'the body exactly as received (the query string for GET)' }),
    tags: t.expose('tags', { type: 'JSON', nullable: true }),
    problems: t.expose('problems', { type: 'JSON', nullable: true }),
    outcome: t.field({ type: PostbackOutcomeEnum, resolve: (p) => p.outcome as never }),
    httpStatus: t.exposeInt('httpStatus'),
    sourceIp: t.exposeString('sourceIp', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

builder.queryField('postbacks', (t) =>
  t.prismaConnection({
    type: 'Postback',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 200,
    description: 'The postback log, newest first.',
    resolve: (query, _root, _args, ctx) =>
      ctx.services.db.postback.findMany({
        ...query,
        where: { companyId: ctx.auth.companyId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
  }),
)
