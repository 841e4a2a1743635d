// Starts the real server (same code as `npm start`) on a free port and a database of its own.
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import { createServices, startApp, type RunningApp } from '../../src/app.js'
import { loadConfig } from '../../src/core/config.js'
import { openDatabase } from '../../src/store/client.js'
import { createEventBus } from '../../src/events/bus.js'
import { createLogger, type Logger } from '../../src/core/logger.js'
import { createServer } from '../../src/http/server.js'
import { createCompany, type CreatedCompany } from '../../src/tenancy/createCompany.js'
import { createTestDatabase, testProvider, type TestDatabase } from './db.js'

export interface GqlResult<T = Record<string, any>> {
  status: number
  data: T | null | undefined
  errors: { message: string; extensions?: { code?: string; field?: string } }[] | undefined
}

export interface TestApp {
  app: RunningApp
  url: string
  databaseUrl: string
  company: CreatedCompany
  /** POST a GraphQL operation with a key (default: the company's admin key) */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GqlResult<T>>
  wsClient(key?: string): Client
  close(): Promise<void>
}

export interface TestAppOptions {
  env?: Record<string, string>
  /** share another test app's database (a second instance) */
  database?: { url: string }
  onQuery?: (sql: string) => void
  /** the app's logger (default: one at LOG_LEVEL, silent in tests) */
  logger?: Logger
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  let owned: TestDatabase | null = null
  const databaseUrl = options.database?.url ?? (owned = await createTestDatabase()).url
  // jobs on the same kind of store as the data: beside the SQLite file, or in the PostgreSQL test database
  const jobs = testProvider === 'postgres' ? { JOBS_URL: databaseUrl } : {}
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', DEMO_COMPANY: 'off', ...jobs, ...options.env })
  const app = await startApp(config, { onQuery: options.onQuery, logger: options.logger })
  const company = await createCompany(app.db, 'Acme')
  const clients: Client[] = []
  const url = `${app.url}/graphql`
  return {
    app,
    url,
    databaseUrl,
    company,
    gql: (query, variables, key = company.adminKey) => gql(url, query, variables, key),
    wsClient: (key = company.adminKey) => {
      const client = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${key}` },
        retryAttempts: 0,
        lazy: true,
      })
      clients.push(client)
      return client
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.dispose()))
      try {
        await app.close()
      } finally {
        await owned?.drop()
      }
    },
  }
}

/**
 * The HTTP server alone (no migrations, no worker, no jobs) on a database that may not work: how the
 * server answers while the database fails.
 */
export async function startBareServer(databaseUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', ROLE: 'api' })
  const logger = createLogger('silent')
  const db = await openDatabase(config.databaseUrl)
  const { services } = createServices(config, db, createEventBus(undefined, logger), logger)
  const server = createServer({ config, services, logger })
  const port = await server.listen(0, '127.0.0.1')
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await server.close()
      await db.$disconnect().catch(() => {})
    },
  }
}

export async function gql<T>(url: string, query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await res.json()) as { data?: T | null; errors?: GqlResult['errors'] }
  return { status: res.status, data: body.data, errors: body.errors }
}

/** The data of a successful operation; fails the test with the errors otherwise. */
export function ok<T>(result: GqlResult<T>): T {
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`)
  return result.data as T
}

/** Subscribes and collects events; `ready` resolves once the server has registered the subscription. */
export function collect<T = Record<string, any>>(client: Client, query: string, variables?: Record<string, unknown>) {
  const events: T[] = []
  const errors: unknown[] = []
  const waiters: (() => void)[] = []
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(value.errors)
        else events.push(value.data as T)
        waiters.splice(0).forEach((w) => w())
      },
      error: (e) => {
        errors.push(e)
        waiters.splice(0).forEach((w) => w())
      },
      complete: () => {},
    },
  )
  return {
    events,
    errors,
    dispose,
    /** waits (bounded) until `n` events arrived */
    async waitFor(n: number, timeoutMs = 5000): Promise<T[]> {
      const deadline = Date.now() + timeoutMs
      while (events.length < n && errors.length === 0) {
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`timed out waiting for ${n} events (have ${events.length})`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          waiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
      if (errors.length) throw new Error(`subscription error: ${JSON.stringify(errors)}`)
      return events
    },
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A connected graphql-ws client is not yet subscribed: fire `probe` (which must cause an event the
 * subscription sees) until the first event arrives, then forget the probe events.
 */
export async function untilSubscribed(sub: { events: unknown[]; errors: unknown[] }, probe: () => Promise<unknown>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (sub.events.length === 0) {
    if (sub.errors.length) throw new Error(`subscription error: ${JSON.stringify(sub.errors)}`)
    if (Date.now() > deadline) throw new Error('subscription did not become active')
    await probe()
    await sleep(50)
  }
  await sleep(50)
  sub.events.length = 0
}

/** Subscribes over SSE (POST with Accept: text/event-stream) and collects each `next` event's data. */
export async function sseSubscribe<T = Record<string, any>>(url: string, key: string, query: string) {
  const controller = new AbortController()
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
    signal: controller.signal,
  })
  const events: T[] = []
  const errors: unknown[] = []
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let i: number
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i)
        buffer = buffer.slice(i + 2)
        const data = block.split('\n').find((l) => l.startsWith('data:'))
        if (!data || !block.includes('event: next')) continue
        const payload = JSON.parse(data.slice(5)) as { data?: T; errors?: unknown[] }
        if (payload.errors) errors.push(payload.errors)
        else events.push(payload.data as T)
      }
    }
  })().catch(() => {})
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    events,
    errors,
    /** resolves when the server ends the stream (or close() is called) */
    ended: pump,
    async close() {
      controller.abort()
      await pump
    },
  }
}

/** Waits (bounded) until `check` holds. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(20)
  }
}
