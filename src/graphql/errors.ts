import { GraphQLError } from 'graphql'
import type { RinghookError } from '../core/errors.js'

/** Ours as GraphQL answers it, with its HTTP status when it ends the request as a whole (a refused key). */
export function toGraphQLError(e: RinghookError, withStatus = false): GraphQLError {
  return new GraphQLError(e.message, { originalError: e, extensions: { ...e.extensions, ...(withStatus ? { http: { status: e.httpStatus } } : {}) } })
}
