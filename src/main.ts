// Entry: read config, open stores, start the HTTP server.
import { ConfigError, loadConfig } from './core/config.js'
import { startApp, StartupError } from './app.js'

/** the longest a SIGTERM/SIGINT shutdown may take */
const SHUTDOWN_LIMIT_MS = 60_000

try {
  const config = loadConfig()
  const app = await startApp(config)
  if (app.demo) {
    // printed once: only the hashes are stored
    console.log('Created the demo company on the empty embedded database. Keep these keys; they are not shown again:')
    console.log(JSON.stringify(app.demo, null, 2))
  }
  const dashboard = config.role === 'worker' ? '' : `; the dashboard at ${app.url}/`
  console.log(`Ringhook listening on ${app.url}/graphql (GraphiQL in a browser) on ${config.databaseProvider}, events ${app.bus.kind}${dashboard}`)
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    app.logger.info({ signal }, 'stopping')
    // deliveries get the longest webhook timeout to finish; a shutdown that hangs past this still ends (what
    // was not recorded stays locked in the database and is taken over when the locks expire)
    setTimeout(() => {
      app.logger.error({ signal, limitMs: SHUTDOWN_LIMIT_MS }, 'stopping took too long; exiting without waiting further')
      process.exit(1)
    }, SHUTDOWN_LIMIT_MS).unref()
    await app.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
} catch (e) {
  if (e instanceof ConfigError || e instanceof StartupError) {
    console.error(e.message)
    process.exit(1)
  }
  throw e
}
