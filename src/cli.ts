// Operator commands: npm run cli -- company create "Acme"
import { ConfigError, loadConfig } from './core/config.js'
import { openDatabase } from './store/client.js'
import { applyMigrations } from './store/migrate.js'
import { createCompany } from './tenancy/createCompany.js'

const usage = 'usage: npm run cli -- company create "<name>"'

async function main(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv
  if (noun !== 'company' || verb !== 'create' || rest.length !== 1) {
    console.error(usage)
    return 2
  }
  const config = loadConfig()
  await applyMigrations(config.databaseUrl)
  const db = await openDatabase(config.databaseUrl)
  try {
    const created = await createCompany(db, rest[0]!)
    console.log(JSON.stringify(created))
    return 0
  } catch (e) {
    console.error((e as Error).message)
    return 1
  } finally {
    await db.$disconnect()
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : e)
  process.exitCode = 1
}
