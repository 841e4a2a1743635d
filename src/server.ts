// The HTTP server: Yoga at /graphql (GraphiQL, SSE), graphql-ws on the same port and path, health routes.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import DataLoader from 'dataloader'
import { GraphQLError } from 'graphql'
import { createYoga, maskError, type YogaInitialContext } from 'graphql-yoga'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocketServer } from 'ws'
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth'
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit'
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens'
import type { Config } from './config.js'
import { databaseReachable, type Db } from './db/client.js'
import type { Tag } from './generated/prisma/client.js'
import type { Logger } from './logger.js'
import { authenticate } from './resolvers/authenticate.js'
import { internalFailure, RinghookError, UNAVAILABLE_RETRY_AFTER_SECONDS } from './resolvers/errors.js'
import type { Services } from './resolvers/interfaces.js'
import { createCallEventRoutes } from './http/callEventRoutes.js'
import { createPostbackRoutes } from './http/postbackRoutes.js'
import { BodyTooLargeError, readBody, sendJson } from './http/readBody.js'
import { schema } from './schema/index.js'
import type { Context, Loaders } from './schema/context.js'
import { refuseWith, shapeError, useErrorShape, useNulGuard, useParamsErrors, useRoleGuard, useStreamsEndWithKey } from './schema/plugins.js'

export interface ServerDeps {
  config: Config
  services: Services
  logger: Logger
}

export interface RinghookServer {
  server: http.Server
  listen(port?: number, host?: string): Promise<number>
  close(): Promise<void>
}

function createLoaders(db: Db): Loaders {
  return {
    tagByCallAndKey: new DataLoader<string, Tag | null>(async (ids) => {
      const pairs = ids.map((id) => id.split('\u0000') as [string, string])
      const tags = await db.tag.findMany({
        where: { callId: { in: [...new Set(pairs.map((p) => p[0]))] }, key: { in: [...new Set(pairs.map((p) => p[1]))] } },
      })
      const byId = new Map(tags.map((t) => [`${t.callId}\u0000${t.key}`, t]))
      return ids.map((id) => byId.get(id) ?? null)
    }),
  }
}

type ServerContext = { req: IncomingMessage; res: ServerResponse }
type WsInitialContext = { connectionParams?: Record<string, unknown> }

export function createServer({ config, services, logger }: ServerDeps): RinghookServer {
  const { db } = services
  const postbackRoutes = createPostbackRoutes(services, config, logger)
  const callEventRoutes = createCallEventRoutes(services, config)

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Ringhook', headers: JSON.stringify({ Authorization: 'Bearer <your admin key>' }) },
    // Yoga's own log lines (the unexpected errors it masks) go to our logger, at our level
    logging: {
      debug: (...args: unknown[]) => logger.debug({ yoga: args }, 'graphql'),
      info: (...args: unknown[]) => logger.info({ yoga: args }, 'graphql'),
      warn: (...args: unknown[]) => logger.warn({ yoga: args }, 'graphql'),
      error: (...args: unknown[]) => logger.error({ err: args.find((a) => a instanceof Error), yoga: args.filter((a) => !(a instanceof Error)) }, 'graphql request failed'),
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
        if (e instanceof RinghookError) {
          // answered as HTTP 401 rather than a 200 with errors
          throw new RinghookErrorWithStatus(e)
        }
        throw e
      }
    },
    // an unexpected error says whether a retry can help (the database out of reach), never what went wrong inside
    maskedErrors: {
      maskError: (error, message, isDev): Error => {
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
      useStreamsEndWithKey(services.streams),
      useErrorShape(),
    ],
  })

  // a GET postback's query is its body: request lines up to the body limit reach the app (which refuses
  // longer queries itself and logs them); past this Node answers 431 (clientError below)
  const maxHeaderSize = Math.max(16 * 1024, config.bodyLimitBytes + 16 * 1024)
  const server = http.createServer({ maxHeaderSize }, async (req, res) => {
    const url = req.url ?? '/'
    const path = url.split('?')[0]
    try {
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' })
      if (path === '/readyz') {
        const ok = await databaseReachable(db)
        return sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'database unreachable' })
      }
      if (config.role === 'worker') return sendJson(res, 404, { error: 'this instance runs ROLE=worker: it delivers webhooks and serves only /healthz and /readyz' })
      if (postbackRoutes.handles(req.method, path)) return await postbackRoutes.handle(req, res, path)
      if (callEventRoutes.handles(req.method, path)) return await callEventRoutes.handle(req, res)
      if (path === '/graphql') {
        if (req.method === 'POST') {
          const body = await readBody(req, config.bodyLimitBytes)
          if (body.length > 0) (req as IncomingMessage & { body?: Buffer }).body = body
        }
        return yoga(req, res, { req, res })
      }
      sendJson(res, 404, { error: `no route for ${req.method} ${path}` })
    } catch (e) {
      if (e instanceof BodyTooLargeError) return sendJson(res, 413, { error: e.message }, { connection: 'close' })
      logger.error({ err: e }, 'request failed')
      if (res.headersSent) return
      const failure = internalFailure(e)
      sendJson(res, failure.status, { error: failure.error, retryable: failure.retryable }, failure.retryable ? { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } : {})
    }
  })
  // requests Node refuses before the app sees them (a request line or headers past maxHeaderSize,
  // malformed HTTP) are answered in JSON with words, like every other refusal
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy()
    const [status, error] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, `the request line and headers are larger than ${maxHeaderSize} bytes; send large postbacks as a POST body`]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'the request took too long to arrive']
          : [400, `malformed HTTP request (${err.code ?? err.message})`]
    const body = JSON.stringify({ error })
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  })

  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: config.bodyLimitBytes })
  const wsCleanup = useServer(
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

  return {
    server,
    listen: (port = config.port, host = config.host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port))
      }),
    close: async () => {
      await wsCleanup.dispose()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

type EnvelopedRoot = { execute: (args: unknown) => never; subscribe: (args: unknown) => never }

/** An auth error that Yoga answers with its HTTP status (401) instead of 200. */
class RinghookErrorWithStatus extends RinghookError {
  constructor(e: RinghookError) {
    super(e.code, e.message, e.field)
    Object.assign(this.extensions, { http: { status: e.httpStatus } })
  }
}
