// The job store, chosen by JOBS_URL: unset or file: -> SQLite (ours); postgres:// -> @agendajs/postgres-backend;
// mongodb:// -> @agendajs/mongo-backend (the design's production choice; no MongoDB runs on our machines, so
// only its selection is tested).
import path from 'node:path'
import type { AgendaBackend } from 'agenda'
import { PostgresBackend } from '@agendajs/postgres-backend'
import { MongoBackend } from '@agendajs/mongo-backend'
import { sqliteFilePath } from '../store/sqlite/sqlitePath.js'
import { SqliteBackend } from './sqliteBackend.js'

export const DEFAULT_JOBS_URL = `file:${path.join('data', 'ringhook-jobs.db')}`

export type JobsBackendKind = 'sqlite' | 'postgres' | 'mongodb'

export function jobsBackendKind(jobsUrl: string): JobsBackendKind {
  if (jobsUrl.startsWith('file:')) return 'sqlite'
  if (/^postgres(ql)?:\/\//.test(jobsUrl)) return 'postgres'
  if (/^mongodb(\+srv)?:\/\//.test(jobsUrl)) return 'mongodb'
  throw new Error(`JOBS_URL: "${jobsUrl.replace(/\/\/[^@/]*@/, '//***@')}" is not file:, postgres:// or mongodb://`)
}

/** Builds the backend; nothing connects until Agenda starts (connect it first to report a clear error). */
export function createJobsBackend(jobsUrl: string): AgendaBackend {
  switch (jobsBackendKind(jobsUrl)) {
    case 'sqlite':
      return new SqliteBackend(sqliteFilePath(jobsUrl))
    case 'postgres':
      return new PostgresBackend({ connectionString: jobsUrl, tableName: 'agenda_jobs' })
    case 'mongodb':
      return new MongoBackend({ address: jobsUrl, collection: 'agendaJobs' })
  }
}
