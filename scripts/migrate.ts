// npm run migrate -- new NAME   write a migration for both providers from prisma/schema.prisma changes
// npm run migrate -- deploy     apply pending migrations to DATABASE_URL (the server also does this at start)
// npm run migrate -- drift      print the SQL between DATABASE_URL and the schema (nothing: no drift)
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { applyMigrations, createMigration, schemaDrift } from '../src/store/migrate.js'
import { loadConfig } from '../src/core/config.js'

const [cmd, name] = process.argv.slice(2)
const adminPgUrl = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

if (cmd === 'new') {
  if (!name || !/^[a-z0-9_]+$/.test(name)) throw new Error('usage: npm run migrate -- new snake_case_name')
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ringhook-migrate-'))
  console.log('sqlite:', (await createMigration(`file:${path.join(tmp, 'scratch.db')}`, name)) ?? 'no changes')
  const db = `ringhook_scratch_${process.pid}`
  const admin = new pg.Client({ connectionString: adminPgUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${db}`)
  try {
    const url = new URL(adminPgUrl)
    url.pathname = `/${db}`
    console.log('postgresql:', (await createMigration(url.toString(), name)) ?? 'no changes')
  } finally {
    await admin.query(`DROP DATABASE ${db}`)
    await admin.end()
  }
} else if (cmd === 'deploy') {
  const { databaseUrl } = loadConfig()
  console.log('applied:', await applyMigrations(databaseUrl))
} else if (cmd === 'drift') {
  const { databaseUrl } = loadConfig()
  process.stdout.write(`${await schemaDrift(databaseUrl)}\n`)
} else {
  throw new Error('usage: npm run migrate -- new NAME | deploy | drift')
}
