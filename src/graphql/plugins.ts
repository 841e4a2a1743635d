// Cross-cutting concerns of the GraphQL server, as Yoga/envelop plugins.
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionNode, type ValueNode } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { badInput, forbidden, type RinghookError } from '../core/errors.js'
import type { Context } from './context.js'
import { untilRevoked, type OpenStreams } from '../events/openStreams.js'
import { toGraphQLError } from './errors.js'

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

function roleError(context: Context, document: DocumentNode, operationName: string | null | undefined): RinghookError | null {
  if (context.auth?.role !== 'PUBLISHER') return null
  const refused = rootFieldNames(document, operationName).filter((n) => !PUBLISHER_FIELDS.has(n))
  return refused.length ? forbidden(`a publisher key may only send postbacks; ${refused.join(', ')} needs an admin key`) : null
}

/** Publisher keys may only send postbacks (ingestPostback); admin keys may do everything. */
export function useRoleGuard(): Plugin<Context> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = roleError(args.contextValue, args.document, args.operationName)
      if (error) setResultAndStopExecution({ errors: [toGraphQLError(error)] })
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = roleError(args.contextValue, args.document, args.operationName)
      if (error) setResultAndStopExecution({ errors: [toGraphQLError(error)] })
    },
  }
}

/**
 * Where the first NUL character stands in a variable's value (`a.b[2]`, '' for the value itself), or null.
 * Walked without recursion: JSON variables may nest deep.
 */
function nulAt(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']]
  while (stack.length) {
    const [v, path] = stack.pop()!
    if (typeof v === 'string') {
      if (v.includes('\0')) return path
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([item, `${path}[${i}]`]))
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) stack.push([item, path ? `${path}.${k}` : k])
    }
  }
  return null
}

/** Root fields that take care of NUL themselves: a postback keeps what it was sent (NUL stored as U+FFFD). */
const TEXT_KEEPING_FIELDS = new Set(['ingestPostback'])

/** The input path of a value in an argument, as input errors name fields (`input` itself left out). */
const inputPath = (argument: string, inner: string) =>
  argument === 'input' && inner ? inner : `${argument}${inner && !inner.startsWith('[') ? '.' : ''}${inner}`

/**
 * The arguments of an operation's fields: for each variable, where it is first used; the first string
 * literal holding NUL. Nesting is bounded by MAX_QUERY_TOKENS (the document was lexed under it).
 */
function argumentValues(
  selections: readonly SelectionNode[],
  fragments: readonly FragmentDefinitionNode[],
): { variables: Map<string, string>; nul: string | null } {
  const variables = new Map<string, string>()
  let nul: string | null = null
  const value = (v: ValueNode, argument: string, inner: string) => {
    if (v.kind === Kind.VARIABLE) {
      if (!variables.has(v.name.value)) variables.set(v.name.value, inputPath(argument, inner))
    } else if (v.kind === Kind.STRING) {
      if (nul === null && v.value.includes('\0')) nul = inputPath(argument, inner)
    } else if (v.kind === Kind.LIST) {
      v.values.forEach((item, i) => value(item, argument, `${inner}[${i}]`))
    } else if (v.kind === Kind.OBJECT) {
      for (const f of v.fields) value(f.value, argument, inner ? `${inner}.${f.name.value}` : f.name.value)
    }
  }
  const walk = (list: readonly SelectionNode[], root: boolean) => {
    for (const selection of list) {
      if (selection.kind === Kind.FIELD) {
        if (root && TEXT_KEEPING_FIELDS.has(selection.name.value)) continue
        for (const a of selection.arguments ?? []) value(a.value, a.name.value, '')
      }
      if ('selectionSet' in selection && selection.selectionSet) walk(selection.selectionSet.selections, false)
    }
  }
  walk(selections, true)
  for (const fragment of fragments) walk(fragment.selectionSet.selections, false)
  return { variables, nul }
}

/**
 * PostgreSQL cannot compare or store text holding NUL: an input string with one (in variables or in the
 * document) is refused naming the field, before anything is looked up.
 */
function nulError(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): RinghookError | null {
  const operation = operationOf(document, operationName)
  if (!operation) return null
  const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
  const found = argumentValues(operation.selectionSet.selections, fragments)
  for (const [name, v] of Object.entries(variables ?? {})) {
    const usedAt = found.variables.get(name)
    if (usedAt === undefined) continue
    const at = nulAt(v)
    if (at !== null)
      return badInput(at ? (usedAt === 'input' ? at : `${usedAt}${at.startsWith('[') ? '' : '.'}${at}`) : usedAt, 'must not contain NUL characters')
  }
  return found.nul === null ? null : badInput(found.nul, 'must not contain NUL characters')
}

/** Input strings with NUL are refused before execution (nulError). */
export function useNulGuard(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = nulError(args.document, args.operationName, args.variableValues)
      if (error) setResultAndStopExecution({ errors: [toGraphQLError(error)] })
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = nulError(args.document, args.operationName, args.variableValues)
      if (error) setResultAndStopExecution({ errors: [toGraphQLError(error)] })
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

const isAsyncIterable = <T>(value: unknown): value is AsyncIterableIterator<T> => value !== null && typeof value === 'object' && Symbol.asyncIterator in value

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
    return {
      operationName: params.get('operationName') || undefined,
      query: params.get('query') || undefined,
      variables: json('variables'),
      extensions: json('extensions'),
    }
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
    extensions.http = {
      ...http,
      spec: false,
      status: REQUEST_ERROR_STATUS[extensions.code as string] ?? (extensions.code === 'INTERNAL_SERVER_ERROR' ? 500 : 400),
    }
  }
  if (extensions.code === error.extensions?.code && extensions.field === error.extensions?.field && extensions.http === error.extensions?.http) return error
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  })
}
