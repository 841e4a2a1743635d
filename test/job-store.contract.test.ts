// The job store contract (test/contract/jobStore.ts), run by the job store of this pass: our SQLite store in
// the SQLite pass, Agenda's PostgreSQL backend (the control) in the PostgreSQL pass.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PostgresBackend } from '@agendajs/postgres-backend'
import { SqliteBackend } from '../src/jobs/sqliteBackend.js'
import { jobStoreContract } from './contract/jobStore.js'
import { createTestDatabase, testProvider } from './helpers/db.js'

if (testProvider === 'postgres') {
  jobStoreContract('PostgreSQL (@agendajs/postgres-backend)', async () => {
    const db = await createTestDatabase('postgres')
    return { backend: () => new PostgresBackend({ connectionString: db.url, tableName: 'agenda_jobs' }), close: () => db.drop() }
  })
} else {
  jobStoreContract('SQLite (src/jobs/sqliteBackend.ts)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-jobs-'))
    return { backend: () => new SqliteBackend(path.join(dir, 'jobs.db')), close: async () => fs.rmSync(dir, { recursive: true, force: true }) }
  })
}
