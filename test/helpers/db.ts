// A database of the test's own: a temporary SQLite file, or a PostgreSQL database created for it and
// dropped afterwards. TEST_DB=sqlite (default) or postgres picks the provider for the whole run.
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

export const testProvider: 'sqlite' | 'postgres' = process.env.TEST_DB === 'postgres' ? 'postgres' : 'sqlite'
export const pgAdminUrl = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface TestDatabase {
  url: string
  drop(): Promise<void>
}

export async function createTestDatabase(provider = testProvider): Promise<TestDatabase> {
  if (provider === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-test-'))
    return { url: `file:${path.join(dir, 'ringhook.db')}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) }
  }
  const name = `ringhook_test_${crypto.randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: pgAdminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(pgAdminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: pgAdminUrl })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}
