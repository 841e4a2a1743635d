// The HTTP server: Yoga at /graphql (GraphiQL, SSE), graphql-ws on the same port and path, health routes.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import DataLoader from 'dataloader'
import { createYoga, type YogaInitialContext } from 'graphql-yoga'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocketServer } from 'ws'
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth'
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit'
import type { Config } from './config.js'
import { databaseReachable, type Db } from './db/client.js'
import type { Tag } from './generated/prisma/client.js'
import type { Logger } from './logger.js'
import { authenticate } from './resolvers/authenticate.js'
import { RinghookError } from './resolvers/errors.js'
import type { Services } from './resolvers/interfaces.js'
import { createCallEventRoutes } from './http/callEventRoutes.js'
import { createPostbackRoutes } from './http/postbackRoutes.js'
import { BodyTooLargeError, readBody, sendJson } from './http/readBody.js'
import { schema } from './schema/index.js'
import type { Context, Loaders } from './schema/context.js'
import { useInputErrorShape, useRoleGuard } from './schema/plugins.js'

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
    logging: logger.level === 'debug' ? 'debug' : 'error',
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
    plugins: [
      maxDepthPlugin({ n: config.maxQueryDepth, exposeLimits: true, flattenFragments: true }),
      costLimitPlugin({ maxCost: config.maxQueryCost, exposeLimits: true }),
      useRoleGuard(),
      useInputErrorShape(),
    ],
  })

  const server = http.createServer(async (req, res) => {
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
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' })
    }
  })

  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: config.bodyLimitBytes })
  const wsCleanup = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {}
        try {
          await authenticate(services.apiKeys, (params.authorization ?? params.Authorization) as string | undefined)
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
        if (errors.length) return errors
        return args
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
