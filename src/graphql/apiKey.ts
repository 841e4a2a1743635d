import type { ApiKey } from '../generated/prisma/client.js'
import { createApiKey } from '../tenancy/createApiKey.js'
import { revokeApiKey } from '../tenancy/revokeApiKey.js'
import { builder } from './builder.js'
import { ApiKeyRoleEnum } from './enums.js'

const ApiKeyRef = builder.prismaObject('ApiKey', {
  description: 'An API key. The secret itself is shown once, when the key is created.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.field({ type: ApiKeyRoleEnum, resolve: (k) => k.role as never }),
    prefix: t.exposeString('prefix', { description: 'the first characters of the secret' }),
    campaign: t.relation('campaign', { nullable: true }),
    tagPrefix: t.exposeString('tagPrefix', { nullable: true }),
    pendingTtlSeconds: t.exposeInt('pendingTtlSeconds'),
    rateLimitPerMinute: t.exposeInt('rateLimitPerMinute', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'when the key was last used, to the minute' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
})

const CreatedApiKey = builder.objectRef<{ apiKey: ApiKey; secret: string }>('CreatedApiKey').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'the key itself: shown this once, stored only as a hash' }),
    apiKey: t.field({ type: ApiKeyRef, resolve: (parent) => parent.apiKey }),
  }),
})

builder.queryField('apiKeys', (t) =>
  t.prismaField({
    type: ['ApiKey'],
    resolve: (query, _root, _args, ctx) =>
      ctx.services.db.apiKey.findMany({ ...query, where: { companyId: ctx.auth.companyId }, orderBy: { createdAt: 'desc' } }),
  }),
)

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    role: t.field({ type: ApiKeyRoleEnum, required: true }),
    campaignId: t.id({ description: 'publisher keys: match postbacks to calls of this campaign only' }),
    tagPrefix: t.string({ description: 'publisher keys: prefix for the tag keys of its postbacks' }),
    pendingTtlSeconds: t.int({ description: 'publisher keys: how long tags for a number yet to call are kept (default 86400)' }),
    rateLimitPerMinute: t.int(),
  }),
})

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreatedApiKey,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApiKey(ctx.services.db, ctx.auth.companyId, { ...input, campaignId: input.campaignId?.toString() }),
  }),
)

builder.mutationField('revokeApiKey', (t) =>
  t.prismaField({
    type: 'ApiKey',
    args: { input: t.arg({ type: builder.inputType('RevokeApiKeyInput', { fields: (f) => ({ id: f.id({ required: true }) }) }), required: true }) },
    resolve: (_query, _root, { input }, ctx) => revokeApiKey(ctx.services, ctx.auth.companyId, input.id.toString()),
  }),
)
