import { archiveCampaign, createCampaign, findCampaign, updateCampaign } from '../campaigns/campaigns.js'
import { builder } from './builder.js'

builder.prismaObject('Campaign', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    archivedAt: t.expose('archivedAt', { type: 'DateTime', nullable: true }),
    webhooks: t.relation('webhooks', {
      description: 'the webhooks of the campaign, oldest first',
      query: { where: { deletedAt: null }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    }),
  }),
})

builder.queryFields((t) => ({
  campaigns: t.prismaConnection({
    type: 'Campaign',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 200,
    args: { includeArchived: t.arg.boolean({ defaultValue: false }) },
    resolve: (query, _root, args, ctx) =>
      ctx.services.db.campaign.findMany({
        ...query,
        where: { companyId: ctx.auth.companyId, ...(args.includeArchived ? {} : { archivedAt: null }) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
  }),
  campaign: t.prismaField({
    type: 'Campaign',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      await findCampaign(ctx.services.db, ctx.auth.companyId, args.id.toString())
      return ctx.services.db.campaign.findUniqueOrThrow({ ...query, where: { id: args.id.toString() } })
    },
  }),
}))

const CreateCampaignInput = builder.inputType('CreateCampaignInput', {
  fields: (t) => ({ name: t.string({ required: true }) }),
})
const UpdateCampaignInput = builder.inputType('UpdateCampaignInput', {
  fields: (t) => ({ id: t.id({ required: true }), name: t.string() }),
})
const ArchiveCampaignInput = builder.inputType('ArchiveCampaignInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
})

builder.mutationFields((t) => ({
  createCampaign: t.prismaField({
    type: 'Campaign',
    args: { input: t.arg({ type: CreateCampaignInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) => createCampaign(ctx.services.db, ctx.auth.companyId, input),
  }),
  updateCampaign: t.prismaField({
    type: 'Campaign',
    args: { input: t.arg({ type: UpdateCampaignInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) => updateCampaign(ctx.services.db, ctx.auth.companyId, { id: input.id.toString(), name: input.name }),
  }),
  archiveCampaign: t.prismaField({
    type: 'Campaign',
    args: { input: t.arg({ type: ArchiveCampaignInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) => archiveCampaign(ctx.services.db, ctx.auth.companyId, { id: input.id.toString() }),
  }),
}))
