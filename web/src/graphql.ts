// gql.tada over the API's schema (printed from the server's Pothos schema at build time): every operation's
// result and variables are typed where it is written.
import { initGraphQLTada } from 'gql.tada'
import type { introspection } from './graphql/graphql-env.d.ts'

export const graphql = initGraphQLTada<{
  introspection: introspection
  scalars: { DateTime: string; JSON: unknown; ID: string }
}>()

export type { ResultOf, VariablesOf } from 'gql.tada'
