// The pg pool the PostgreSQL hot paths write through (set-based statements, one round trip a statement
// however many rows), beside Prisma's own pool for the rest. Times are stored as Prisma stores them:
// `timestamp(3)` without a zone, in UTC.
import pg from 'pg'

const types = new pg.TypeOverrides()
// timestamp without time zone (1114) is UTC here, whatever the process's zone
types.setTypeParser(1114, (text: string) => new Date(`${text.replace(' ', 'T')}Z`))

export type Pool = pg.Pool
export type PoolClient = pg.PoolClient

export function openPool(connectionString: string, max = 10): Pool {
  const pool = new pg.Pool({ connectionString, max, types })
  // an idle client's error (the server went away) is reported on the next query; here it must not crash
  pool.on('error', () => {})
  return pool
}

/** A time as a query parameter: ISO text, which `timestamp(3)` reads as UTC (the zone suffix is ignored). */
export const pgTime = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null)

/** PostgreSQL errors after which the same transaction may succeed if tried again. */
const RETRYABLE = new Set(['40P01', '40001'])

/**
 * Runs `fn` on a client of its own, trying it again (a few times, after a short pause) after a deadlock or
 * serialization failure. `fn` opens and commits its transaction itself (a script may begin with BEGIN and
 * end with COMMIT); when it throws, what it left open is rolled back.
 */
export async function withRetries<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, tries = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect()
    try {
      return await fn(client)
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {})
      if (attempt >= tries || !RETRYABLE.has((e as { code?: string }).code ?? '')) throw e
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 10))
    } finally {
      client.release()
    }
  }
}

/** Runs `fn` in a transaction (tried again like withRetries); its writes are undone when it throws. */
export const inTransaction = <T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, tries = 4): Promise<T> =>
  withRetries(
    pool,
    async (client) => {
      await client.query('BEGIN')
      const value = await fn(client)
      await client.query('COMMIT')
      return value
    },
    tries,
  )

/**
 * A value as an SQL literal, escaped by pg. Statements sent together as one script (the simple query
 * protocol: one round trip for several statements) take no parameters; their values go in as literals.
 */
export function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`)
    return String(v)
  }
  if (v instanceof Date) return pg.escapeLiteral(v.toISOString())
  return pg.escapeLiteral(String(v))
}

/** An array of values as a typed SQL array literal: `ARRAY[…]::type[]`. */
export const arrayLiteral = (values: unknown[], type: string): string => `ARRAY[${values.map(literal).join(',')}]::${type}[]`

/** Runs a script of statements in one round trip; answers each statement's rows, in order. */
export async function runScript(client: PoolClient, statements: string[]): Promise<unknown[][]> {
  const results = (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult | pg.QueryResult[]
  return (Array.isArray(results) ? results : [results]).map((r) => r.rows)
}
