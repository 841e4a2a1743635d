import SchemaBuilder from '@pothos/core'
import PrismaPlugin from '@pothos/plugin-prisma'
import RelayPlugin from '@pothos/plugin-relay'
import { GraphQLError, GraphQLScalarType } from 'graphql'
import { DateTimeResolver, JSONResolver } from 'graphql-scalars'
import { TIME_RANGE } from '../core/times.js'
import type PrismaTypes from '../generated/pothos-types.js'
import { getDatamodel } from '../generated/pothos-types.js'
import type { Context } from './context.js'

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes
  Context: Context
  DefaultFieldNullability: false
  Scalars: {
    DateTime: { Input: Date; Output: Date | string }
    JSON: { Input: unknown; Output: unknown }
  }
}>({
  plugins: [PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.services.db,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
})

/** RFC 3339 times as graphql-scalars reads them, within the range both databases store as given. */
const DateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  parseValue: (value) => inRange(DateTimeResolver.parseValue(value) as Date),
  parseLiteral: (ast, variables) => inRange(DateTimeResolver.parseLiteral(ast, variables) as Date),
})

function inRange(date: Date): Date {
  // a GraphQLError: graphql-js passes its message on as the input error (anything else counts as unexpected)
  if (date < TIME_RANGE.earliest || date > TIME_RANGE.latest)
    throw new GraphQLError(`DateTime ${date.toISOString()} is outside the range the API takes (1970 to 9999)`)
  return date
}

builder.addScalarType('DateTime', DateTime)
builder.addScalarType('JSON', JSONResolver)

builder.queryType({})
builder.mutationType({})
builder.subscriptionType({})
