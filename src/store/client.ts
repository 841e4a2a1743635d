import fs from 'node:fs'
import path from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'
import { PrismaClient as PgPrismaClient } from '../generated/prisma-pg/client.js'
import { providerOf } from '../core/config.js'
import { sqliteFilePath } from './sqlite/sqlitePath.js'

import type { Db } from '../core/db.js'

export interface OpenDatabaseOptions {
  /** called with each SQL statement the client sends (tests count them) */
  onQuery?: (sql: string) => void
}

export async function openDatabase(databaseUrl: string, options: OpenDatabaseOptions = {}): Promise<Db> {
  const log = options.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : []
  let db: Db
  if (providerOf(databaseUrl) === 'sqlite') {
    const file = sqliteFilePath(databaseUrl)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    db = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}`, timeout: 10_000 }), log })
    // WAL with synchronous=NORMAL: a commit appends to the log instead of syncing the database file
    await db.$queryRawUnsafe('PRAGMA journal_mode=WAL')
    await db.$executeRawUnsafe('PRAGMA synchronous=NORMAL')
  } else {
    db = new PgPrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }), log }) as unknown as Db
  }
  if (options.onQuery) {
    const onQuery = options.onQuery
    ;(db as unknown as { $on(e: 'query', cb: (ev: { query: string }) => void): void }).$on('query', (ev) => onQuery(ev.query))
  }
  return db
}

/** True when the database answers a trivial query. */
export async function databaseReachable(db: Db): Promise<boolean> {
  try {
    await db.$queryRawUnsafe('SELECT 1')
    return true
  } catch {
    return false
  }
}
