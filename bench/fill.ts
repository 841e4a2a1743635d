// Filling a benchmark's database fast: rows as tables of columns, written in batches, beside the server
// (SQLite with prepared statements in one transaction a batch, PostgreSQL with one INSERT … unnest a batch).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { request } from 'undici'
import { applyMigrations } from '../src/store/migrate.js'
import { benchDatabase, companyByCli, type CompanyKeys } from './postgres.js'
import { startRinghook, type Started } from './process.js'

export interface Writer {
  /** `types`: PostgreSQL types of the columns, when the first row's values do not tell (a null) */
  insert(table: string, columns: string[], rows: unknown[][], types?: string[]): Promise<void>
  close(): Promise<void>
}

const sqliteTime = (d: Date) => d.toISOString().replace('Z', '+00:00')

export interface History {
  /** the database's URL, to start Ringhook on */
  url: string
  keys: CompanyKeys
  writer: Writer
  /** drops the database (PostgreSQL) or deletes its directory (SQLite) */
  remove(): Promise<void>
}

/**
 * A benchmark's own database, migrated, with a company and a writer to fill it: embedded SQLite in a
 * directory of its own, or a database of its own on the PostgreSQL server DATABASE_URL=postgres://… names.
 */
export async function openHistory(): Promise<History> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-bench-'))
  const server = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : null
  const pgDatabase = server ? await benchDatabase(server) : null
  const sqliteFile = path.join(dir, 'ringhook.db')
  const url = pgDatabase?.url ?? `file:${sqliteFile}`
  await applyMigrations(url)
  return {
    url,
    keys: await companyByCli(url),
    writer: await openWriter(pgDatabase?.url ?? null, sqliteFile),
    remove: async () => {
      await pgDatabase?.drop()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A writer to PostgreSQL at `pgUrl`, or to the SQLite file when it is null. */
async function openWriter(pgUrl: string | null, sqliteFile: string): Promise<Writer> {
  if (!pgUrl) {
    const db = new Database(sqliteFile)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = OFF')
    return {
      insert: async (table, columns, rows) => {
        const statement = db.prepare(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
        db.transaction(() => {
          for (const row of rows) statement.run(...row.map((v) => (v instanceof Date ? sqliteTime(v) : typeof v === 'boolean' ? Number(v) : v)))
        })()
      },
      close: async () => void db.close(),
    }
  }
  const client = new pg.Client({ connectionString: pgUrl })
  await client.connect()
  return {
    insert: async (table, columns, rows, given) => {
      if (rows.length === 0) return
      const types =
        given ??
        rows[0]!.map((v) =>
          v instanceof Date ? 'timestamp(3)' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float8') : typeof v === 'boolean' ? 'boolean' : 'text',
        )
      const params = columns.map((_, i) => rows.map((r) => (r[i] instanceof Date ? (r[i] as Date).toISOString() : r[i])))
      await client.query(
        `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`,
        params,
      )
    },
    // statistics, as autovacuum gathers them after a bulk load: without them the planner reads the tables whole
    close: async () => {
      await client.query('ANALYZE')
      await client.end()
    },
  }
}

/** PostgreSQL types of the Webhook columns the benchmarks write (matches and headers are jsonb). */
export const WEBHOOK_TYPES = ['text', 'text', 'text', 'text', 'text', 'jsonb', 'text', 'text', 'jsonb', 'timestamp(3)', 'timestamp(3)']

/** Ringhook (as `npm start`) on a database a benchmark filled with a large history, kept as it is. */
export function startOnHistory(databaseUrl: string): Promise<Started> {
  return startRinghook({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    ...(databaseUrl.startsWith('postgres') ? { JOBS_URL: databaseUrl } : {}),
    DEMO_COMPANY: 'off',
    LOG_LEVEL: 'error',
    // the retention job runs at start: with the default 30 days it would be purging the oldest rows meanwhile
    RETENTION_DAYS: '0',
  })
}

export type QueryCase = [name: string, query: string, variables: Record<string, unknown>]

/**
 * Each query `rounds` times, one request at a time, after ten to warm the caches and the JIT; answers a
 * markdown row per query: p50, p99 and max latency at the client (ms, HTTP included).
 */
export async function timeQueries(url: string, key: string, cases: QueryCase[], rounds: number): Promise<string[]> {
  const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
  }
  const rows: string[] = []
  for (const [name, query, variables] of cases) {
    const times: number[] = []
    for (let i = 0; i < rounds + 10; i++) {
      const t0 = performance.now()
      const res = await request(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      })
      const body = (await res.body.json()) as { errors?: unknown }
      if (body.errors) throw new Error(JSON.stringify(body.errors))
      if (i >= 10) times.push(performance.now() - t0)
    }
    rows.push(`| ${name} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} | ${Math.max(...times).toFixed(1)} |`)
  }
  return rows
}
