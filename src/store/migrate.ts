// Applies and creates migrations offline with Prisma's WASM schema engine, driven through the same
// driver adapters the app uses (the Prisma CLI's migrate needs a native engine it cannot download here).
import fs from 'node:fs/promises'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { providerOf, type DatabaseProvider } from '../core/config.js'
import { sqliteFilePath } from './sqlite/sqlitePath.js'

const require = createRequire(import.meta.url)
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

const schemaFiles: Record<DatabaseProvider, string> = {
  sqlite: path.join(projectRoot, 'prisma/schema.prisma'),
  // derived from prisma/schema.prisma by scripts/generate.mjs (npm install runs it)
  postgresql: path.join(projectRoot, 'src/generated/schema.postgresql.prisma'),
}

export function migrationsDir(provider: DatabaseProvider): string {
  return path.join(projectRoot, 'prisma/migrations', provider)
}

let engineClass: Promise<{ new: (options: object, log: (m: string) => void, adapter: object) => Promise<SchemaEngineLike> }> | undefined

interface SchemaEngineLike {
  applyMigrations(input: object): Promise<{ appliedMigrationNames: string[] }>
  diff(input: object): Promise<{ exitCode: number; stdout: string | null }>
  reset(input: object): Promise<void>
  free(): void
}

async function loadEngineClass() {
  const dir = path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'))
  const glue = await import(path.join(dir, 'schema_engine_bg.js'))
  const wasm = new WebAssembly.Module(await fs.readFile(path.join(dir, 'schema_engine_bg.wasm')))
  const instance = new WebAssembly.Instance(wasm, { './schema_engine_bg.js': glue })
  glue.__wbg_set_wasm(instance.exports)
  ;(instance.exports as { __wbindgen_start: () => void }).__wbindgen_start()
  return glue.SchemaEngine as { new: (options: object, log: (m: string) => void, adapter: object) => Promise<SchemaEngineLike> }
}

// adapter-pg cannot decode the catalogue types "char" (18), name (19) and their arrays that the engine's
// introspection queries return; they are text on the wire, so relabel them as text.
const PG_RELABEL: Record<number, number> = { 18: 25, 19: 25, 1002: 1009, 1003: 1009 }
interface QueryableLike {
  performIO?: (...args: unknown[]) => Promise<{ fields?: { dataTypeID: number }[] } | undefined>
  startTransaction?: (...args: unknown[]) => Promise<QueryableLike>
}
function relabelPgTypes<T extends QueryableLike>(q: T): T {
  const perform = q.performIO?.bind(q)
  if (perform) {
    q.performIO = async (...args) => {
      const result = await perform(...args)
      for (const field of result?.fields ?? []) field.dataTypeID = PG_RELABEL[field.dataTypeID] ?? field.dataTypeID
      return result
    }
  }
  const start = q.startTransaction?.bind(q)
  if (start) q.startTransaction = async (...args) => relabelPgTypes(await start(...args))
  return q
}

// The engine reads a partial index's WHERE clause with `… AND name = "<index>"`, a double-quoted string,
// which this build of SQLite refuses (no double-quoted string literals); the same query, quoted as SQL says.
const INDEX_SQL_QUERY = /^(SELECT sql FROM sqlite_master WHERE type = 'index' AND name = )"([^"]*)";?$/
interface SqliteQueryable {
  queryRaw?: (query: { sql: string }) => Promise<unknown>
  startTransaction?: (...args: unknown[]) => Promise<SqliteQueryable>
}
function quoteIndexNames<T extends SqliteQueryable>(q: T): T {
  const query = q.queryRaw?.bind(q)
  if (query) {
    q.queryRaw = (request) => {
      const m = INDEX_SQL_QUERY.exec(request.sql.trim())
      return query(m ? { ...request, sql: `${m[1]}'${m[2]!.replaceAll("'", "''")}'` } : request)
    }
  }
  const start = q.startTransaction?.bind(q)
  if (start) q.startTransaction = async (...args) => quoteIndexNames(await start(...args))
  return q
}

async function adapterFactory(databaseUrl: string): Promise<SqlMigrationAwareDriverAdapterFactory> {
  if (providerOf(databaseUrl) === 'sqlite') {
    const file = sqliteFilePath(databaseUrl)
    await fs.mkdir(path.dirname(file), { recursive: true })
    const sqlite = new PrismaBetterSqlite3({ url: `file:${file}` })
    const connect = sqlite.connect.bind(sqlite)
    sqlite.connect = async () => quoteIndexNames((await connect()) as unknown as SqliteQueryable) as never
    const shadow = sqlite.connectToShadowDb.bind(sqlite)
    sqlite.connectToShadowDb = async () => quoteIndexNames((await shadow()) as unknown as SqliteQueryable) as never
    return sqlite
  }
  const factory = new PrismaPg({ connectionString: databaseUrl })
  const connect = factory.connect.bind(factory)
  factory.connect = async () => relabelPgTypes((await connect()) as unknown as QueryableLike) as never
  const shadow = factory.connectToShadowDb.bind(factory)
  factory.connectToShadowDb = async () => relabelPgTypes((await shadow()) as unknown as QueryableLike) as never
  return factory
}

async function readSchema(provider: DatabaseProvider) {
  const file = schemaFiles[provider]
  const content = await fs.readFile(file, 'utf8').catch(() => {
    throw new Error(`${file} is missing: run \`npm run generate\``)
  })
  return { files: [{ path: file, content }] }
}

async function migrationsList(provider: DatabaseProvider) {
  const dir = migrationsDir(provider)
  await fs.mkdir(dir, { recursive: true })
  const entries = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory())
  const migrationDirectories = await Promise.all(
    entries.map(async (d) => ({
      path: d.name,
      migrationFile: {
        path: 'migration.sql',
        content: await fs.readFile(path.join(dir, d.name, 'migration.sql'), 'utf8').then(
          (value) => ({ tag: 'ok', value }),
          (e: Error) => ({ tag: 'error', value: e.message }),
        ),
      },
    })),
  )
  migrationDirectories.sort((a, b) => a.path.localeCompare(b.path))
  const lock = await fs.readFile(path.join(dir, 'migration_lock.toml'), 'utf8').catch(() => null)
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: lock },
    migrationDirectories,
    shadowDbInitScript: '',
  }
}

const filters = { externalTables: [], externalEnums: [] }

async function withEngine<T>(databaseUrl: string, fn: (engine: SchemaEngineLike, provider: DatabaseProvider) => Promise<T>): Promise<T> {
  const provider = providerOf(databaseUrl)
  engineClass ??= loadEngineClass()
  const SchemaEngine = await engineClass
  const schema = await readSchema(provider)
  // the engine does not close the connections it opened (SQLite keeps an exclusive lock): track and close them
  const opened: { dispose(): Promise<void> }[] = []
  const inner = await adapterFactory(databaseUrl)
  const connect = inner.connect.bind(inner)
  inner.connect = async () => {
    const adapter = await connect()
    opened.push(adapter)
    return adapter
  }
  const connectShadow = inner.connectToShadowDb.bind(inner)
  inner.connectToShadowDb = async () => {
    const adapter = await connectShadow()
    opened.push(adapter)
    return adapter
  }
  const factory = bindMigrationAwareSqlAdapterFactory(inner)
  const engine = await SchemaEngine.new(
    { datamodels: schema.files.map((f) => [f.path, f.content]) },
    (m: string) => process.env.DEBUG_MIGRATE && console.error('[schema-engine]', m),
    factory,
  )
  try {
    return await fn(engine, provider)
  } finally {
    engine.free()
    await Promise.all(opened.map((a) => a.dispose().catch(() => undefined)))
  }
}

/** Names of the migrations the database has finished, read directly (no engine); null when it has no history table. */
async function appliedMigrationNames(databaseUrl: string): Promise<Set<string> | null> {
  const sql = 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL'
  if (providerOf(databaseUrl) === 'sqlite') {
    const file = sqliteFilePath(databaseUrl)
    const { default: Database } = await import('better-sqlite3')
    let db: InstanceType<typeof Database>
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 })
    } catch {
      return null
    }
    try {
      return new Set((db.prepare(sql).all() as { migration_name: string }[]).map((r) => r.migration_name))
    } catch {
      return null
    } finally {
      db.close()
    }
  }
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return new Set((await client.query<{ migration_name: string }>(sql)).rows.map((r) => r.migration_name))
  } catch {
    return null
  } finally {
    await client.end()
  }
}

/**
 * Applies the provider's migrations that the database has not seen; returns their names. When every
 * migration is already applied the engine is not started at all: it takes an exclusive lock on SQLite,
 * which a second process on the same file (another instance, a worker) could not get.
 */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const provider = providerOf(databaseUrl)
  const applied = await appliedMigrationNames(databaseUrl)
  if (applied) {
    const dirs = (await migrationsList(provider)).migrationDirectories.map((d) => d.path)
    if (dirs.every((d) => applied.has(d))) return []
  }
  return withEngine(databaseUrl, async (engine, provider) => {
    const result = await engine.applyMigrations({ migrationsList: await migrationsList(provider), filters })
    return result.appliedMigrationNames
  })
}

/** SQL that would bring the database to prisma/schema.prisma; empty when it already matches (no drift). */
export async function schemaDrift(databaseUrl: string): Promise<string> {
  return withEngine(databaseUrl, async (engine, provider) => {
    const schema = await readSchema(provider)
    const result = await engine.diff({
      from: { tag: 'schemaDatasource', files: schema.files, configDir: projectRoot },
      to: { tag: 'schemaDatamodel', ...schema },
      script: true,
      exitCode: true,
      filters,
    })
    return result.exitCode === 2 ? (result.stdout ?? '').trim() : ''
  })
}

/**
 * Development: brings an empty scratch database up to the existing migrations, diffs it against the schema
 * and writes the difference as a new migration. Returns the new migration's directory, or null when none.
 */
export async function createMigration(scratchDatabaseUrl: string, name: string): Promise<string | null> {
  await applyMigrations(scratchDatabaseUrl)
  const sql = await schemaDrift(scratchDatabaseUrl)
  if (!sql) return null
  const provider = providerOf(scratchDatabaseUrl)
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
  const dir = path.join(migrationsDir(provider), `${stamp}_${name}`)
  await fs.mkdir(dir, { recursive: true })
  await fs.writeFile(path.join(dir, 'migration.sql'), `${sql}\n`)
  await fs.writeFile(path.join(migrationsDir(provider), 'migration_lock.toml'), `# Please do not edit this file manually\nprovider = "${provider}"\n`)
  return dir
}
