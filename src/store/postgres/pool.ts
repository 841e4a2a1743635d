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
 * Runs `fn` in a transaction on a client of its own; a deadlock or serialization failure is tried again
 * (a few times, after a short pause). The transaction's writes are undone when `fn` throws.
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, tries = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const value = await fn(client)
      await client.query('COMMIT')
      return value
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {})
      if (attempt >= tries || !RETRYABLE.has((e as { code?: string }).code ?? '')) throw e
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 10))
    } finally {
      client.release()
    }
  }
}
