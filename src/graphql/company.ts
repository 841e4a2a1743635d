import type { RetentionRun } from '../generated/prisma/client.js'
import { companyRetention, lastRetentionRun, updateCompany, type CompanyRetention } from '../tenancy/companySettings.js'
import { builder } from './builder.js'

const RetentionRunRef = builder.objectRef<RetentionRun>('RetentionRun').implement({
  description: 'One run of the retention job for the company: what it deleted.',
  fields: (t) => ({
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    postbacks: t.exposeInt('postbacks'),
    pixels: t.exposeInt('pixels', { description: 'finished pixels past their days, and the pixels of purged calls' }),
    calls: t.exposeInt('calls'),
    error: t.exposeString('error', { nullable: true, description: 'why the run stopped short, if it did' }),
  }),
})

const RetentionRef = builder.objectRef<CompanyRetention & { companyId: string }>('CompanyRetention').implement({
  description: 'How many days each kind of data is kept (0: for ever), and the last purge.',
  fields: (t) => ({
    postbackDays: t.int({ resolve: (r) => r.postbacks.days }),
    postbackDaysIsDefault: t.boolean({ resolve: (r) => r.postbacks.isDefault }),
    pixelDays: t.int({ description: 'finished pixels (by when they were created), health events, finished replays', resolve: (r) => r.pixels.days }),
    pixelDaysIsDefault: t.boolean({ resolve: (r) => r.pixels.isDefault }),
    callDays: t.int({ description: 'calls not started nor changed for this long, with their tags and pixels', resolve: (r) => r.calls.days }),
    callDaysIsDefault: t.boolean({ resolve: (r) => r.calls.isDefault }),
    defaultDays: t.exposeInt('defaultDays', { description: "the server's RETENTION_DAYS, in force where the company sets none" }),
    lastRun: t.field({ type: RetentionRunRef, nullable: true, resolve: (r, _a, ctx) => lastRetentionRun(ctx.services.db, r.companyId) }),
  }),
})

builder.prismaObject('Company', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    retention: t.field({
      type: RetentionRef,
      select: { postbackRetentionDays: true, pixelRetentionDays: true, callRetentionDays: true },
      resolve: (c, _a, ctx) => ({ ...companyRetention(c, ctx.services.retentionDays), companyId: c.id }),
    }),
    operatorUrl: t.exposeString('operatorUrl', { nullable: true, description: "where the company's circuit-breaker changes are sent" }),
    hasOperatorSigningSecret: t.boolean({
      description: 'the secret itself is write-only',
      select: { operatorSigningSecret: true },
      resolve: (c) => c.operatorSigningSecret != null,
    }),
  }),
})

builder.queryField('company', (t) =>
  t.prismaField({
    type: 'Company',
    description: 'The company of the API key in use.',
    resolve: (query, _root, _args, ctx) => ctx.services.db.company.findUniqueOrThrow({ ...query, where: { id: ctx.auth.companyId } }),
  }),
)

const UpdateCompanyInput = builder.inputType('UpdateCompanyInput', {
  description: 'A field left out is kept as it is.',
  fields: (t) => ({
    postbackRetentionDays: t.int({ description: '0 to 36500 days; 0 keeps for ever; null: the server default (RETENTION_DAYS)' }),
    pixelRetentionDays: t.int({ description: '0 to 36500 days; 0 keeps for ever; null: the server default (RETENTION_DAYS)' }),
    callRetentionDays: t.int({ description: '0 to 36500 days; 0 keeps for ever; null: the server default (RETENTION_DAYS)' }),
    operatorUrl: t.string({ description: 'absolute http(s) URL for circuit-breaker changes; null: none' }),
    operatorSigningSecret: t.string({ description: 'Standard Webhooks secret (whsec_...) the operator URL is signed with, write-only; null removes it' }),
  }),
})

builder.mutationField('updateCompany', (t) =>
  t.prismaField({
    type: 'Company',
    description: "The company's retention and operator settings.",
    args: { input: t.arg({ type: UpdateCompanyInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const company = await updateCompany(ctx.services.db, ctx.auth.companyId, input)
      return ctx.services.db.company.findUniqueOrThrow({ ...query, where: { id: company.id } })
    },
  }),
)
