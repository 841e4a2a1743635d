import { builder } from './builder.js'

builder.prismaObject('Company', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

builder.queryField('company', (t) =>
  t.prismaField({
    type: 'Company',
    description: 'The company of the API key in use.',
    resolve: (query, _root, _args, ctx) => ctx.services.db.company.findUniqueOrThrow({ ...query, where: { id: ctx.auth.companyId } }),
  }),
)
