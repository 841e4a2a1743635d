// Cross-cutting concerns of the GraphQL server, as Yoga/envelop plugins.
import { GraphQLError, Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { forbidden } from '../resolvers/errors.js'
import type { Context } from './context.js'
import { untilRevoked, type OpenStreams } from '../events/openStreams.js'

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

/** A subscription ends when the key that opened it is revoked (an SSE response closes; graphql-ws completes it). */
export function useStreamsEndWithKey(streams: OpenStreams): Plugin<Context> {
  return {
    onSubscribe({ args }) {
      return {
        onSubscribeResult({ result, setResult }) {
          const apiKeyId = args.contextValue.auth?.apiKey.id
          if (apiKeyId && isAsyncIterable(result)) setResult(untilRevoked(result, streams, apiKeyId))
        },
      }
    },
  }
}

const isAsyncIterable = <T>(value: unknown): value is AsyncIterableIterator<T> =>
  value !== null && typeof value === 'object' && Symbol.asyncIterator in value

/** The GraphQL limits (environment settings) a refused document names. */
export type QueryLimit = 'MAX_QUERY_TOKENS' | 'MAX_QUERY_DEPTH' | 'MAX_QUERY_COST'

/**
 * A document refused by a limit (graphql-armor's plugins find them; their own errors say "Syntax Error" and
 * carry no code): code QUERY_LIMIT_EXCEEDED, the setting and the figures in `extensions`, HTTP 400.
 */
export function limitError(limit: QueryLimit, max: number, refusal: GraphQLError): GraphQLError {
  const found = /found (\d+)/.exec(refusal.message)?.[1]
  const what =
    limit === 'MAX_QUERY_TOKENS'
      ? `the document has more than ${max} tokens`
      : limit === 'MAX_QUERY_DEPTH'
        ? `the query nests selections ${found ?? 'too many'} levels deep`
        : `the query costs ${found ?? 'too much'}`
  return new GraphQLError(`${what}; ${limit} allows ${max}`, {
    extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit, max, ...(found ? { found: Number(found) } : {}), http: { status: 400 } },
  })
}

/** A refusal handler for graphql-armor that throws our error in place of its own. */
export const refuseWith = (limit: QueryLimit, max: number) => [
  (_context: unknown, refusal: GraphQLError) => {
    throw limitError(limit, max, refusal)
  },
]

/**
 * GET (and form-encoded POST) parameters: Yoga's own parser throws a bare SyntaxError on `variables=%7B`,
 * answered 500; here a JSON parameter that is not JSON is refused 400, naming it.
 */
export function useParamsErrors(): Plugin {
  const paramsOf = (params: URLSearchParams) => {
    const json = (name: 'variables' | 'extensions') => {
      const text = params.get(name)
      if (!text) return undefined
      try {
        return JSON.parse(text) as Record<string, unknown>
      } catch (e) {
        throw new GraphQLError(`${name}: not JSON (${(e as Error).message})`, { extensions: { code: 'BAD_USER_INPUT', field: name, http: { status: 400 } } })
      }
    }
    return { operationName: params.get('operationName') || undefined, query: params.get('query') || undefined, variables: json('variables'), extensions: json('extensions') }
  }
  return {
    onRequestParse({ request, url, setRequestParser }) {
      if (request.method === 'GET') setRequestParser(() => paramsOf(url.searchParams))
      else if (/^application\/x-www-form-urlencoded\s*(;|$)/i.test(request.headers.get('content-type') ?? '')) {
        setRequestParser(async (r) => paramsOf(new URLSearchParams(await r.text())))
      }
    },
  }
}

/**
 * Every error carries a code and says what is wrong: input errors GraphQL itself finds (a variable of the
 * wrong type, an unknown enum value such as a trigger) get the shape of ours, code BAD_USER_INPUT and the
 * field named (e.g. `input.trigger` -> `trigger`); other errors without a code that GraphQL or Pothos
 * raise about the request (`first: -1`) are BAD_USER_INPUT too. A request error (no data at all: the
 * document could not be parsed or validated, or was refused before execution) is answered with HTTP 400
 * (401, 403 for ours by their code), not 200.
 */
export function useErrorShape(): Plugin {
  return {
    onExecutionResult({ result, setResult }) {
      if (!result || !('errors' in result) || !result.errors?.length) return
      setResult({ ...result, errors: result.errors.map((e) => shapeError(e, false)) })
    },
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== 'object' || !('errors' in result) || !result.errors?.length) return
      const requestError = !('data' in result)
      setResult({ ...result, errors: result.errors.map((e) => shapeError(e as GraphQLError, requestError)) })
    },
  }
}

const VARIABLE_ERROR = /^Variable "\$\w+" got invalid value .*? at "([^"]+)"|^Variable "\$(\w+)" got invalid value/
const ARGUMENT_ERROR = /^Argument "(\w+)"/

const REQUEST_ERROR_STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, RATE_LIMITED: 429 }

/** One error in the shape every error has (see useErrorShape); `requestError`: the result has no data. */
export function shapeError(error: GraphQLError, requestError: boolean): GraphQLError {
  const extensions: Record<string, unknown> = { ...error.extensions }
  if (!extensions.code || !extensions.field) {
    const variable = VARIABLE_ERROR.exec(error.message)
    if (variable) {
      // relative to the argument, as our own errors name it: `$input` at "input.trigger" -> "trigger"
      extensions.field = variable[1] ? variable[1].split('.').slice(1).join('.') || variable[1] : variable[2]!
      extensions.code = 'BAD_USER_INPUT'
    } else if (!extensions.code) {
      extensions.code = 'BAD_USER_INPUT'
      const argument = ARGUMENT_ERROR.exec(error.message)?.[1]
      if (argument) extensions.field = argument
    }
  }
  const http = extensions.http as { status?: number; spec?: boolean } | undefined
  if (requestError && (!http?.status || http.spec)) {
    extensions.http = { ...http, spec: false, status: REQUEST_ERROR_STATUS[extensions.code as string] ?? (extensions.code === 'INTERNAL_SERVER_ERROR' ? 500 : 400) }
  }
  if (extensions.code === error.extensions?.code && extensions.field === error.extensions?.field && extensions.http === error.extensions?.http) return error
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions })
}
