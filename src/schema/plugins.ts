// Cross-cutting concerns of the GraphQL server, as Yoga/envelop plugins.
import { GraphQLError, Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { forbidden } from '../resolvers/errors.js'
import type { Context } from './context.js'

/** Root fields a publisher key may use; everything else needs an admin key. */
const PUBLISHER_FIELDS = new Set(['ingestPostback', '__typename'])

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  return operationName ? operations.find((o) => o.name?.value === operationName) : operations[0]
}

function rootFieldNames(document: DocumentNode, operationName: string | null | undefined): string[] {
  const names: string[] = []
  for (const selection of operationOf(document, operationName)?.selectionSet.selections ?? []) {
    if (selection.kind === Kind.FIELD) names.push(selection.name.value)
    else names.push('(fragment)') // publishers have no use for fragments on root types
  }
  return names
}

function roleError(context: Context, document: DocumentNode, operationName: string | null | undefined): GraphQLError | null {
  if (context.auth?.role !== 'PUBLISHER') return null
  const refused = rootFieldNames(document, operationName).filter((n) => !PUBLISHER_FIELDS.has(n))
  return refused.length ? forbidden(`a publisher key may only send postbacks; ${refused.join(', ')} needs an admin key`) : null
}

/** Publisher keys may only send postbacks (ingestPostback); admin keys may do everything. */
export function useRoleGuard(): Plugin<Context> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = roleError(args.contextValue, args.document, args.operationName)
      if (error) setResultAndStopExecution({ errors: [error] })
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = roleError(args.contextValue, args.document, args.operationName)
      if (error) setResultAndStopExecution({ errors: [error] })
    },
  }
}

/**
 * Input errors GraphQL itself finds (a variable of the wrong type, an unknown enum value such as a trigger)
 * get the same shape as ours: code BAD_USER_INPUT and the field named, e.g. `input.trigger`.
 */
export function useInputErrorShape(): Plugin {
  return {
    onExecutionResult({ result, setResult }) {
      if (!result || !('errors' in result) || !result.errors?.length) return
      setResult({ ...result, errors: result.errors.map(shapeInputError) })
    },
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== 'object' || !('errors' in result) || !result.errors?.length) return
      setResult({ ...result, errors: result.errors.map(shapeInputError) })
    },
  }
}

const VARIABLE_ERROR = /^Variable "\$\w+" got invalid value .*? at "([^"]+)"|^Variable "\$(\w+)" got invalid value/

function shapeInputError(error: GraphQLError): GraphQLError {
  if (error.extensions?.field) return error
  const m = VARIABLE_ERROR.exec(error.message)
  if (!m) return error
  // relative to the argument, as our own errors name it: `$input` at "input.trigger" -> "trigger"
  const field = m[1] ? m[1].split('.').slice(1).join('.') || m[1] : m[2]!
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    path: error.path,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT', field },
  })
}
