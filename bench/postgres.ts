// Benchmarks on PostgreSQL: a database of the run's own on the server a URL names (dropped at the end), its
// company made by the cli as an operator would.
import { spawn } from 'node:child_process'
import pg from 'pg'
import { root } from './process.js'

export interface BenchDatabase {
  url: string
  /** counts rows with a query of its own connection */
  count(sql: string, params?: unknown[]): Promise<number>
  drop(): Promise<void>
}

async function run(connectionString: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    return await client.query(sql, params)
  } finally {
    await client.end()
  }
}

let made = 0
export async function benchDatabase(server: string): Promise<BenchDatabase> {
  const name = `ringhook_bench_${process.pid}_${made++}`
  await run(server, `CREATE DATABASE ${name}`)
  const url = new URL(server)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    count: async (sql, params) => Number((await run(url.toString(), sql, params)).rows[0].n),
    drop: async () => void (await run(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  }
}

export interface CompanyKeys {
  companyId: string
  adminKey: string
  publisherKey: string
}

/** `company create` on the database (migrating it first, as the cli does): the new company's keys. */
export function companyByCli(databaseUrl: string, name = 'Bench'): Promise<CompanyKeys> {
  return new Promise((resolve, reject) => {
    let out = ''
    const cli = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'company', 'create', name], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl },
    })
    cli.stdout.on('data', (d) => (out += d))
    cli.stderr.on('data', (d) => (out += d))
    cli.on('exit', (code) => (code === 0 ? resolve(JSON.parse(/\{[\s\S]*\}/.exec(out)![0]) as CompanyKeys) : reject(new Error(`cli exited ${code}: ${out}`))))
  })
}
