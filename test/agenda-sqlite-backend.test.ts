// The SQLite job store under real Agenda instances (independent of TEST_DB: it is the embedded default).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Agenda, exponential } from 'agenda'
import { MongoBackend } from '@agendajs/mongo-backend'
import { PostgresBackend } from '@agendajs/postgres-backend'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createJobsBackend, jobsBackendKind } from '../src/jobs/backend.js'
import { SqliteBackend } from '../src/jobs/sqliteBackend.js'
import { loadConfig } from '../src/config.js'
import { sleep } from './helpers/app.js'

describe('Agenda on the SQLite job store', () => {
  const agendas: Agenda[] = []
  let dir = ''
  const file = () => path.join(dir, 'jobs.db')
  const worker = (name: string, options: { processEvery?: number; lockLifetime?: number } = {}) => {
    const agenda = new Agenda({ backend: new SqliteBackend(file()), name, processEvery: options.processEvery ?? 100, defaultLockLifetime: options.lockLifetime ?? 10_000 })
    agendas.push(agenda)
    return agenda
  }
  const fresh = () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-jobs-'))
  }
  afterEach(async () => {
    await Promise.all(agendas.splice(0).map((a) => a.stop().catch(() => {})))
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  async function until(check: () => boolean, timeoutMs: number, what: string) {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await sleep(20)
    }
  }

  it('never runs one job on two workers at once', async () => {
    fresh()
    const runs: { i: number; by: string }[] = []
    const a = worker('a')
    const b = worker('b')
    for (const [agenda, by] of [[a, 'a'], [b, 'b']] as const) {
      agenda.define<{ i: number }>('count', async (job) => {
        runs.push({ i: job.attrs.data.i, by })
        await sleep(5)
      }, { concurrency: 4 })
    }
    await a.start()
    await b.start()
    for (let i = 0; i < 40; i++) await (i % 2 ? a : b).now('count', { i })
    await until(() => runs.length >= 40, 15_000, '40 runs')
    await sleep(300)
    expect(runs).toHaveLength(40)
    expect(new Set(runs.map((r) => r.i)).size).toBe(40)
    expect(new Set(runs.map((r) => r.by))).toEqual(new Set(['a', 'b']))
  })

  it('runs a job again once the lock of its dead worker expires, not before', async () => {
    fresh()
    // a worker took the job and died: its lock stays behind in the store
    const backend = new SqliteBackend(file())
    await backend.connect()
    const saved = await backend.repository.saveJob({ name: 'orphan', priority: 0, nextRunAt: new Date(Date.now() - 1000), type: 'normal', data: { n: 1 } }, undefined)
    await backend.disconnect()
    const lockedAt = Date.now()
    const raw = new Database(file())
    raw.prepare('UPDATE agenda_jobs SET locked_at = ? WHERE id = ?').run(lockedAt, String(saved._id))
    raw.close()

    const ranAt: number[] = []
    const live = worker('live', { lockLifetime: 1500 })
    live.define('orphan', async () => {
      ranAt.push(Date.now())
    }, { lockLifetime: 1500 })
    await live.start()
    await until(() => ranAt.length === 1, 10_000, 'the orphaned job to run')
    expect(ranAt[0]! - lockedAt).toBeGreaterThanOrEqual(1400)
  })

  it('runs a future job on time', async () => {
    fresh()
    const ranAt: number[] = []
    const a = worker('timer', { processEvery: 200 })
    a.define('later', async () => {
      ranAt.push(Date.now())
    })
    await a.start()
    const due = Date.now() + 1500
    await a.schedule(new Date(due), 'later', {})
    await until(() => ranAt.length === 1, 10_000, 'the scheduled job')
    expect(ranAt[0]!).toBeGreaterThanOrEqual(due - 5)
    expect(ranAt[0]! - due).toBeLessThan(1000)
  })

  it('retries a failing job with backoff, and gives up after maxRetries', async () => {
    fresh()
    const attempts: number[] = []
    const hopeless: number[] = []
    const exhausted: string[] = []
    const a = worker('retry')
    a.define('flaky', async () => {
      attempts.push(Date.now())
      if (attempts.length < 3) throw new Error(`fail ${attempts.length}`)
    }, { backoff: exponential({ delay: 200, factor: 2, maxRetries: 3 }) })
    a.define('hopeless', async () => {
      hopeless.push(Date.now())
      throw new Error('always')
    }, { backoff: exponential({ delay: 100, maxRetries: 1 }) })
    a.on('retry exhausted', (_e: unknown, job: { attrs: { name: string } }) => exhausted.push(job.attrs.name))
    await a.start()
    await a.now('flaky', {})
    await a.now('hopeless', {})
    await until(() => attempts.length >= 3 && exhausted.length >= 1, 15_000, 'retries')
    expect(attempts).toHaveLength(3)
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(150)
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(300)
    expect(hopeless).toHaveLength(2)
    expect(exhausted).toEqual(['hopeless'])
    const stored = await (a as unknown as { db: SqliteBackend['repository'] }).db.queryJobs({ name: 'flaky' })
    expect(stored.jobs[0]!.state).toBe('completed')
  })

  it('is chosen by JOBS_URL: file: SQLite (default beside the database), postgres:// and mongodb:// their backends', () => {
    expect(createJobsBackend('file:/tmp/x-jobs.db')).toBeInstanceOf(SqliteBackend)
    expect(createJobsBackend('postgres://postgres@127.0.0.1:5432/x')).toBeInstanceOf(PostgresBackend)
    // MongoDB cannot run on these machines: the selection is what can be tested (nothing connects here)
    expect(createJobsBackend('mongodb://127.0.0.1:27017/ringhook')).toBeInstanceOf(MongoBackend)
    expect(() => jobsBackendKind('redis://127.0.0.1')).toThrow(/JOBS_URL/)
    expect(loadConfig({ DATABASE_URL: 'file:./data/ringhook.db' }).jobsUrl).toBe('file:./data/ringhook-jobs.db')
    expect(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1/x' }).jobsUrl).toBe('file:data/ringhook-jobs.db')
    expect(() => loadConfig({ JOBS_URL: 'redis://x' })).toThrow(/JOBS_URL: must start with file:, postgres:\/\/ or mongodb:\/\//)
  })
})
