// Which job store JOBS_URL picks. What each store does under Agenda is the job store contract
// (test/contract/jobStore.ts, run by test/job-store.contract.test.ts).
import { MongoBackend } from '@agendajs/mongo-backend'
import { PostgresBackend } from '@agendajs/postgres-backend'
import { describe, expect, it } from 'vitest'
import { createJobsBackend, jobsBackendKind } from '../src/jobs/backend.js'
import { SqliteBackend } from '../src/jobs/sqliteBackend.js'
import { loadConfig } from '../src/core/config.js'

describe('the job store', () => {
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
