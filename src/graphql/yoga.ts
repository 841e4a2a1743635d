// The GraphQL server assembled in one place: Yoga over the Pothos schema with its plugins (limits, roles,
// NUL guard, streams ending with their key, error shape, masked errors that say whether to retry, metrics),
// and graphql-ws on the HTTP server's port and path.
import type http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import DataLoader from 'dataloader'
import { GraphQLError } from 'graphql'
import { createYoga, maskError, type YogaInitialContext } from 'graphql-yoga'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocketServer } from 'ws'
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth'
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit'
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens'
import type { Config } from '../core/config.js'
import type { Db } from '../core/db.js'
import { internalFailure, RinghookError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { Tag } from '../generated/prisma/client.js'
import { authenticate } from '../tenancy/authenticate.js'
import type { Context, Loaders, Services } from './context.js'
import { refuseWith, shapeError, useErrorShape, useNulGuard, useParamsErrors, useRoleGuard, useStreamsEndWithKey } from './plugins.js'
import { schema } from './schema.js'
import { toGraphQLError } from './errors.js'
import { useSharedSubscriptions } from './sharedSubscriptions.js'
import { useGraphqlMetrics } from './graphqlMetrics.js'

export type ServerContext = { req: IncomingMessage; res: ServerResponse }
type WsInitialContext = { connectionParams?: Record<string, unknown> }

function createLoaders(db: Db): Loaders {
  // batched within a turn, never cached: a subscription's context lives as long as its stream, and a cached
  // tag would be answered unchanged to every later event
  return {
    tagByCallAndKey: new DataLoader<string, Tag | null>(
      async (ids) => {
        const pairs = ids.map((id) => id.split('\u0000') as [string, string])
        const tags = await db.tag.findMany({
          where: { callId: { in: [...new Set(pairs.map((p) => p[0]))] }, key: { in: [...new Set(pairs.map((p) => p[1]))] } },
        })
        const byId = new Map(tags.map((t) => [`${t.callId}\u0000${t.key}`, t]))
        return ids.map((id) => byId.get(id) ?? null)
      },
      { cache: false },
    ),
  }
}

export function createGraphql({ config, services, logger }: { config: Config; services: Services; logger: Logger }) {
  const { db } = services
  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // GraphiQL is served by the HTTP server, made once (http/graphiqlPage.ts)
    graphiql: false,
    // Yoga's own log lines (the unexpected errors it masks) go to our logger, at our level
    logging: {
      debug: (...args: unknown[]) => logger.debug({ yoga: args }, 'graphql'),
      info: (...args: unknown[]) => logger.info({ yoga: args }, 'graphql'),
      warn: (...args: unknown[]) => logger.warn({ yoga: args }, 'graphql'),
      error: (...args: unknown[]) =>
        logger.error({ err: args.find((a) => a instanceof Error), yoga: args.filter((a) => !(a instanceof Error)) }, 'graphql request failed'),
    },
    context: async (initial: YogaInitialContext & Partial<ServerContext> & WsInitialContext) => {
      const header =
        (initial.request as Request | undefined)?.headers?.get?.('authorization') ??
        (initial.connectionParams?.authorization as string | undefined) ??
        (initial.connectionParams?.Authorization as string | undefined)
      try {
        const auth = await authenticate(services.apiKeys, header)
        return { services, auth, loaders: createLoaders(db) }
      } catch (e) {
        // answered as HTTP 401 rather than a 200 with errors
        if (e instanceof RinghookError) throw toGraphQLError(e, true)
        throw e
      }
    },
    // an unexpected error says whether a retry can help (the database out of reach), never what went wrong inside
    maskedErrors: {
      maskError: (error, message, isDev): Error => {
        // ours are answers, not failures: a resolver's comes located (graphql-js copied its extensions)
        const original = (error as GraphQLError).originalError ?? error
        if (original instanceof RinghookError) return error instanceof GraphQLError ? error : toGraphQLError(original)
        const masked = maskError(error, message, isDev)
        if (masked === error) return error as Error
        const failure = internalFailure((error as GraphQLError).originalError ?? error)
        const retryAfter = failure.retryable ? { headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } } : {}
        const code = failure.retryable ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_SERVER_ERROR'
        return new GraphQLError(failure.error, {
          nodes: (masked as GraphQLError).nodes,
          path: (masked as GraphQLError).path,
          extensions: { code, retryable: failure.retryable, unexpected: true, http: { status: failure.status, ...retryAfter } },
        })
      },
    },
    plugins: [
      // the document is refused while it is lexed, before parsing can recurse as deep as it nests
      maxTokensPlugin({ n: config.maxQueryTokens, onReject: refuseWith('MAX_QUERY_TOKENS', config.maxQueryTokens) }),
      maxDepthPlugin({ n: config.maxQueryDepth, flattenFragments: true, onReject: refuseWith('MAX_QUERY_DEPTH', config.maxQueryDepth) }),
      costLimitPlugin({ maxCost: config.maxQueryCost, onReject: refuseWith('MAX_QUERY_COST', config.maxQueryCost) }),
      useParamsErrors(),
      useRoleGuard(),
      useNulGuard(),
      useSharedSubscriptions(),
      useStreamsEndWithKey(services.streams),
      useErrorShape(),
      useGraphqlMetrics(services.metrics),
    ],
  })

  /** graphql-ws on the HTTP server, same path; answers the function that closes it. */
  const attachWebSockets = (server: http.Server) => {
    const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: config.bodyLimitBytes })
    return useServer(
      {
        execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
        subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
        onConnect: async (ctx) => {
          const params = ctx.connectionParams ?? {}
          try {
            const auth = await authenticate(services.apiKeys, (params.authorization ?? params.Authorization) as string | undefined)
            // the socket closes with 4403 when its key is revoked
            const socket = ctx.extra.socket
            const forget = services.streams.hold(auth.apiKey.id, () => socket.close(4403, 'Forbidden: the API key was revoked'))
            socket.once('close', forget)
            return true
          } catch {
            return false // closes with 4403 Forbidden
          }
        },
        onSubscribe: async (ctx, _id, payload) => {
          const enveloped = yoga.getEnveloped({
            ...ctx,
            req: ctx.extra.request,
            socket: ctx.extra.socket,
            params: payload,
          } as never)
          try {
            const document = enveloped.parse(payload.query)
            const args = {
              schema: enveloped.schema,
              operationName: payload.operationName,
              document,
              variableValues: payload.variables,
              contextValue: await enveloped.contextFactory(),
              rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
            }
            const errors = enveloped.validate(args.schema, args.document)
            if (errors.length) return errors.map((e: GraphQLError) => shapeError(e, true))
            return args
          } catch (e) {
            // a document refused by a limit, a syntax error, an unknown key: an error message, not a closed socket
            if (e instanceof GraphQLError) return [shapeError(e, true)]
            throw e
          }
        },
      },
      wsServer,
    )
  }
  return { yoga, attachWebSockets }
}

type EnvelopedRoot = { execute: (args: unknown) => never; subscribe: (args: unknown) => never }
