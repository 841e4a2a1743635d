// Benchmark: REST postback ingest on embedded SQLite (or PostgreSQL when DATABASE_URL=postgres://… names a
// server: a database of the run's own is made there), 50 connections (autocannon), against a bare node:http
// server in the same run. Both servers run as child processes; autocannon runs here.
//   npm run bench:postbacks            (DURATION=10 CONNECTIONS=50 to change; DATABASE_URL=postgres://… for PostgreSQL;
//                                       LOG_LEVEL=info to log every request, to LOG_FILE or /dev/null)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import { benchDatabase, companyByCli } from './postgres.js'
import { startProcess, startRinghook, stopProcess } from './process.js'

const duration = Number(process.env.DURATION ?? 10)
const connections = Number(process.env.CONNECTIONS ?? 50)

interface Figures {
  rps: number
  p50: number
  p99: number
  ok: number
  errors: number
  non2xx: number
}

async function load(url: string, path: (i: number) => string): Promise<Figures> {
  let i = 0
  const result = await autocannon({
    url,
    connections,
    duration,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: path(i++) }) }],
  })
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

const bare = await startProcess(process.execPath, ['bench/bare-server.mjs'], {})
const bareFigures = await load(bare.url, () => '/postback')
await stopProcess(bare.child)

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-bench-'))
const dbFile = path.join(dir, 'ringhook.db')
const server = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : null
const pgDatabase = server ? await benchDatabase(server) : null
const pgKeys = pgDatabase ? await companyByCli(pgDatabase.url) : null
const app = await startRinghook(
  {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: pgDatabase?.url ?? `file:${dbFile}`,
    ...(pgDatabase ? { JOBS_URL: pgDatabase.url, DEMO_COMPANY: 'off' } : {}),
    // LOG_LEVEL=info writes a line a request: the server's log goes to a file then (LOG_FILE, else /dev/null),
    // as a process manager would take it, not through this process
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    POSTBACK_RATE_LIMIT_PER_MINUTE: '0',
  },
  process.env.PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROFILE] : [],
)
const keys = pgKeys ?? (JSON.parse(/\{[\s\S]*?\}/.exec(app.out())![0]) as { adminKey: string; publisherKey: string })
const gql = async (query: string, variables: object) => {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.adminKey}` },
    body: JSON.stringify({ query, variables }),
  })
  return (await res.json()) as { data: any }
}
const campaignId = (await gql('mutation { createCampaign(input:{name:"bench"}) { id } }', {})).data.createCampaign.id
// half of the 1,000 caller numbers have a call in progress: postbacks both find calls and store pending tags
for (let n = 0; n < 500; n++) {
  await gql('mutation($i:StartCallInput!){ startCall(input:$i) { id } }', { i: { campaignId, callerNumber: `+1415555${String(n).padStart(4, '0')}` } })
}
const appFigures = await load(
  app.url,
  (i) => `/postback?key=${keys.publisherKey}&caller_number=%2B1415555${String(i % 1000).padStart(4, '0')}&age=${20 + (i % 50)}&lead_source=bench&zip=94103`,
)
await stopProcess(app.child)

let stored: number
if (pgDatabase) {
  stored = await pgDatabase.count('SELECT COUNT(*) AS n FROM "Postback"')
  await pgDatabase.drop()
} else {
  const db = new Database(dbFile, { readonly: true })
  stored = (db.prepare('SELECT COUNT(*) AS n FROM Postback').get() as { n: number }).n
  db.close()
}
fs.rmSync(dir, { recursive: true, force: true })

const share = appFigures.rps / bareFigures.rps
console.log(`\npostback ingest, ${connections} connections, ${duration} s each, ${os.cpus().length} cores, ${os.cpus()[0]?.model}`)
console.log('| server | req/s | p50 ms | p99 ms | 2xx | non-2xx | errors |')
console.log('| --- | --- | --- | --- | --- | --- | --- |')
console.log(
  `| bare node:http | ${bareFigures.rps} | ${bareFigures.p50} | ${bareFigures.p99} | ${bareFigures.ok} | ${bareFigures.non2xx} | ${bareFigures.errors} |`,
)
console.log(
  `| Ringhook GET /postback (${pgDatabase ? 'PostgreSQL' : 'SQLite'}) | ${appFigures.rps} | ${appFigures.p50} | ${appFigures.p99} | ${appFigures.ok} | ${appFigures.non2xx} | ${appFigures.errors} |`,
)
console.log(`\nRinghook / bare: ${(share * 100).toFixed(1)} %; postbacks in the database: ${stored} (2xx answered: ${appFigures.ok})`)
if (stored < appFigures.ok) {
  console.error('FAIL: fewer postbacks stored than answered 200')
  process.exit(1)
}
