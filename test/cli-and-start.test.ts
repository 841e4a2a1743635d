import { spawn, execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { startArgs } from '../bench/process.js'
import { gql, ok } from './helpers/app.js'
import { createTestDatabase, testProvider, type TestDatabase } from './helpers/db.js'

const root = path.resolve(import.meta.dirname, '..')
const tsx = path.join(root, 'node_modules/.bin/tsx')
const run = promisify(execFile)

/** every server started, so none outlives the test file (a test that times out leaves its finally blocks unrun) */
const started = new Set<ReturnType<typeof spawn>>()
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL')
})

/** Runs `npm start`'s entry with env, returns its stdout once it prints the listening line, and the process. */
async function startServer(env: Record<string, string>) {
  // jobs on the test's own database, not in the repository's data/ directory
  const jobs = env.DATABASE_URL?.startsWith('postgres') ? { JOBS_URL: env.DATABASE_URL } : {}
  const child = spawn(process.execPath, startArgs(), { cwd: root, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', ...jobs, ...env } })
  started.add(child)
  child.once('exit', () => started.delete(child))
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000)
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/\S+\/graphql)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    child.stderr.on('data', (d) => (out += d))
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)))
  })
  const stop = () =>
    new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code))
      child.kill('SIGTERM')
    })
  return { url, out: () => out, stop }
}

describe(`operator command and npm start (${testProvider} pass)`, () => {
  const dbs: TestDatabase[] = []
  afterAll(async () => {
    for (const child of started) child.kill('SIGKILL')
    await Promise.all(dbs.map((d) => d.drop()))
  })

  it('`company create` prints JSON with a company id and working admin and publisher keys', async () => {
    const db = await createTestDatabase()
    dbs.push(db)
    const { stdout } = await run(tsx, ['src/cli.ts', 'company', 'create', 'Acme Leads'], { cwd: root, env: { ...process.env, DATABASE_URL: db.url } })
    const created = JSON.parse(stdout.trim()) as { companyId: string; adminKey: string; publisherKey: string }
    expect(Object.keys(created)).toEqual(['companyId', 'adminKey', 'publisherKey'])
    const server = await startServer({ DATABASE_URL: db.url })
    try {
      const company = ok(await gql<{ company: { id: string; name: string } }>(server.url, '{ company { id name } }', {}, created.adminKey))
      expect(company.company).toEqual({ id: created.companyId, name: 'Acme Leads' })
      const pub = await gql(server.url, '{ company { id } }', {}, created.publisherKey)
      expect(pub.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
      // the dashboard (built by npm install) is served at / on the same port
      const home = await fetch(server.url.replace(/\/graphql$/, '/'))
      expect(home.status).toBe(200)
      expect(home.headers.get('content-type')).toMatch(/^text\/html/)
      expect(await home.text()).toContain('<div id="root">')
    } finally {
      expect(await server.stop()).toBe(0) // SIGTERM stops cleanly
    }
    const bad = await run(tsx, ['src/cli.ts', 'company', 'remove'], { cwd: root, env: { ...process.env, DATABASE_URL: db.url } }).catch((e) => e)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/usage: npm run cli -- company create/)
  })

  it('on an empty embedded database, creates a demo company and prints its keys once', async () => {
    const db = await createTestDatabase('sqlite')
    dbs.push(db)
    const first = await startServer({ DATABASE_URL: db.url })
    let keys: { companyId: string; adminKey: string; publisherKey: string }
    try {
      const json = /\{[\s\S]*?\}/.exec(first.out())![0]
      keys = JSON.parse(json)
      const company = ok(await gql<{ company: { id: string; name: string } }>(first.url, '{ company { id name } }', {}, keys.adminKey))
      expect(company.company).toEqual({ id: keys.companyId, name: 'Demo' })
    } finally {
      await first.stop()
    }
    const second = await startServer({ DATABASE_URL: db.url })
    try {
      expect(second.out()).not.toContain('adminKey')
      expect(ok(await gql<{ company: { id: string } }>(second.url, '{ company { id } }', {}, keys.adminKey)).company.id).toBe(keys.companyId)
    } finally {
      await second.stop()
    }
  })
})
