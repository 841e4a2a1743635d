// Opens the stores and starts the server: used by main.ts and by the tests (same code path).
import type { Config } from './config.js'
import { openDatabase, type Db, type OpenDatabaseOptions } from './db/client.js'
import { applyMigrations } from './db/migrate.js'
import { createEventBus, type EventBus } from './events/bus.js'
import { createLogger, type Logger } from './logger.js'
import { createCompany, type CreatedCompany } from './resolvers/createCompany.js'
import { createServer, type RinghookServer } from './server.js'

export interface RunningApp {
  config: Config
  db: Db
  bus: EventBus
  logger: Logger
  http: RinghookServer
  port: number
  url: string
  /** set when this start created the demo company of an empty embedded database */
  demo: CreatedCompany | null
  close(): Promise<void>
}

export class StartupError extends Error {}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}

export async function startApp(config: Config, options: OpenDatabaseOptions & { logger?: Logger } = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config.logLevel)
  try {
    const applied = await applyMigrations(config.databaseUrl)
    if (applied.length) logger.info({ applied }, 'applied migrations')
  } catch (e) {
    throw new StartupError(`cannot migrate the database at ${redact(config.databaseUrl)}: ${(e as Error).message}`)
  }
  const db = await openDatabase(config.databaseUrl, options)
  const bus = createEventBus(config.redisUrl, logger)

  let demo: CreatedCompany | null = null
  if (config.demoCompany && config.databaseProvider === 'sqlite' && (await db.company.count()) === 0) {
    demo = await createCompany(db, 'Demo')
  }

  const http = createServer({ config, db, bus, logger })
  const port = await http.listen(config.port, config.host)
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  return {
    config,
    db,
    bus,
    logger,
    http,
    port,
    url: `http://${host}:${port}`,
    demo,
    close: async () => {
      await http.close()
      await bus.close()
      await db.$disconnect()
    },
  }
}
