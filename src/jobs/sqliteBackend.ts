// Agenda's job store on SQLite (the embedded default, JOBS_URL unset or file:), on Agenda 6's
// AgendaBackend / JobRepository interfaces: one table, queryable fields as columns, times as epoch ms.
// Every lock is a single UPDATE … RETURNING, which SQLite runs atomically, so two workers (in one
// process or several on the same file) never take the same job. In-process notifications come from
// Agenda's InMemoryNotificationChannel.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import {
  computeJobState,
  InMemoryNotificationChannel,
  toJobId,
  type AgendaBackend,
  type JobParameters,
  type JobRepository,
  type JobRepositoryOptions,
  type JobsOverview,
  type JobsQueryOptions,
  type JobsResult,
  type JobWithState,
  type RemoveJobsOptions,
} from 'agenda'
import { withBusyRetry } from '../store/sqlite/sqliteBusy.js'

interface JobRow {
  id: string
  name: string
  type: string
  priority: number
  next_run_at: number | null
  locked_at: number | null
  disabled: number
  last_run_at: number | null
  last_finished_at: number | null
  failed_at: number | null
  fail_count: number | null
  fail_reason: string | null
  progress: number | null
  debounce_started_at: number | null
  data: string
  /** the remaining JobParameters fields (repeat settings, fork, date constraints, lastModifiedBy) as JSON */
  extra: string
}

const ms = (d: Date | null | undefined) => (d ? new Date(d).getTime() : null)
const date = (n: number | null) => (n === null ? undefined : new Date(n))

function toJob(row: JobRow): JobParameters {
  const extra = JSON.parse(row.extra) as Partial<JobParameters> & { startDate?: string; endDate?: string }
  return {
    ...extra,
    _id: toJobId(row.id),
    name: row.name,
    type: row.type as 'normal' | 'single',
    priority: row.priority,
    nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
    lockedAt: date(row.locked_at),
    disabled: row.disabled === 1,
    lastRunAt: date(row.last_run_at),
    lastFinishedAt: date(row.last_finished_at),
    failedAt: date(row.failed_at),
    failCount: row.fail_count ?? undefined,
    failReason: row.fail_reason ?? undefined,
    progress: row.progress ?? undefined,
    debounceStartedAt: date(row.debounce_started_at),
    startDate: extra.startDate ? new Date(extra.startDate) : undefined,
    endDate: extra.endDate ? new Date(extra.endDate) : undefined,
    data: JSON.parse(row.data),
  }
}

function extraOf(job: JobParameters, options?: JobRepositoryOptions): string {
  return JSON.stringify({
    repeatInterval: job.repeatInterval,
    repeatTimezone: job.repeatTimezone,
    repeatAt: job.repeatAt,
    fork: job.fork,
    startDate: job.startDate,
    endDate: job.endDate,
    skipDays: job.skipDays,
    lastModifiedBy: options?.lastModifiedBy ?? job.lastModifiedBy,
  })
}

/** JobParameters fields a `unique` constraint may name, as SQL over this table's columns (the rest live in `extra`). */
const UNIQUE_FIELDS: Record<string, string> = {
  id: 'id',
  name: 'name',
  type: 'type',
  priority: 'priority',
  disabled: 'disabled',
  nextRunAt: 'next_run_at',
  lockedAt: 'locked_at',
  lastRunAt: 'last_run_at',
  lastFinishedAt: 'last_finished_at',
  failedAt: 'failed_at',
  failCount: 'fail_count',
  failReason: 'fail_reason',
  progress: 'progress',
  debounceStartedAt: 'debounce_started_at',
  data: 'data',
  repeatInterval: `json_extract(extra, '$.repeatInterval')`,
  repeatTimezone: `json_extract(extra, '$.repeatTimezone')`,
  repeatAt: `json_extract(extra, '$.repeatAt')`,
  lastModifiedBy: `json_extract(extra, '$.lastModifiedBy')`,
}

/**
 * Whether JSON `value` contains `part`, as PostgreSQL's `@>` (how Agenda's PostgreSQL backend matches a
 * `data` filter): objects contain the keys of `part` with contained values, arrays contain each element of
 * `part`, scalars are equal. `part` comes from the code that queries, not from outside.
 */
export function jsonContains(value: unknown, part: unknown): boolean {
  if (part === null || typeof part !== 'object') return value === part
  if (Array.isArray(part)) return Array.isArray(value) && part.every((p) => value.some((v) => jsonContains(v, p)))
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  return Object.entries(part).every(([k, p]) => Object.hasOwn(value, k) && jsonContains((value as Record<string, unknown>)[k], p))
}

/** Agenda keeps an Error's message; a job may throw anything else, stored as its JSON text (as PostgreSQL's driver does). */
function failReasonText(reason: unknown): string | null {
  if (reason === undefined || reason === null) return null
  return typeof reason === 'string' ? reason : (JSON.stringify(reason) ?? String(reason))
}

export class SqliteJobRepository implements JobRepository {
  private db: Database.Database | null = null

  constructor(private readonly file: string) {}

  private get conn(): Database.Database {
    if (!this.db) throw new Error('the SQLite job store is not connected')
    return this.db
  }

  async connect(): Promise<void> {
    if (this.db) return
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    // busy timeout 0: a locked database is retried asynchronously, never by blocking the event loop
    this.db = new Database(this.file, { timeout: 0 })
    await withBusyRetry(() => {
      this.conn.pragma('journal_mode = WAL')
      this.conn.pragma('synchronous = NORMAL')
      this.conn.exec(`
        CREATE TABLE IF NOT EXISTS agenda_jobs (
          id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL DEFAULT 'normal', priority INTEGER NOT NULL DEFAULT 0,
          next_run_at INTEGER, locked_at INTEGER, disabled INTEGER NOT NULL DEFAULT 0,
          last_run_at INTEGER, last_finished_at INTEGER, failed_at INTEGER, fail_count INTEGER, fail_reason TEXT,
          progress REAL, debounce_started_at INTEGER, data TEXT NOT NULL DEFAULT 'null', extra TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX IF NOT EXISTS agenda_jobs_next ON agenda_jobs (name, next_run_at, priority DESC, locked_at);
        CREATE UNIQUE INDEX IF NOT EXISTS agenda_jobs_single ON agenda_jobs (name) WHERE type = 'single';`)
    })
  }

  async disconnect(): Promise<void> {
    this.db?.close()
    this.db = null
  }

  private run<T>(fn: (db: Database.Database) => T): Promise<T> {
    return withBusyRetry(() => fn(this.conn))
  }

  /**
   * The filter of removeJobs, disableJobs and enableJobs (and queryJobs' names), as Agenda's PostgreSQL
   * backend reads it: `id` before `ids`, `name` before `names` before `notNames`; `data` matches jobs whose
   * data contains it (see jsonContains). Null when nothing is named: such a call touches no job.
   */
  private where(options: RemoveJobsOptions): { sql: string; params: unknown[]; data: unknown } | null {
    const clauses: string[] = []
    const params: unknown[] = []
    const list = (column: string, values: unknown[], not = false) => {
      clauses.push(`${column} ${not ? 'NOT IN' : 'IN'} (${values.map(() => '?').join(',')})`)
      params.push(...values.map(String))
    }
    if (options.id) list('id', [options.id])
    else if (options.ids?.length) list('id', options.ids)
    if (options.name) list('name', [options.name])
    else if (options.names?.length) list('name', options.names)
    else if (options.notNames?.length) list('name', options.notNames, true)
    if (clauses.length === 0 && options.data === undefined) return null
    return { sql: clauses.length ? clauses.join(' AND ') : '1 = 1', params, data: options.data }
  }

  /** The ids of the jobs a filter names (data containment is checked here, on the rows the SQL part selects). */
  private idsWhere(options: RemoveJobsOptions): string[] {
    const filter = this.where(options)
    if (!filter) return []
    const rows = this.conn.prepare(`SELECT id, data FROM agenda_jobs WHERE ${filter.sql}`).all(...filter.params) as { id: string; data: string }[]
    return rows.filter((r) => filter.data === undefined || jsonContains(JSON.parse(r.data), filter.data)).map((r) => r.id)
  }

  /** Runs `statement` (with `id IN (…)` appended) over the jobs the filter names; answers how many changed. */
  private changeWhere(options: RemoveJobsOptions, statement: string): Promise<number> {
    return this.run((db) =>
      db.transaction(() => {
        const ids = this.idsWhere(options)
        if (ids.length === 0) return 0
        return db.prepare(`${statement} WHERE id IN (${ids.map(() => '?').join(',')})`).run(...ids).changes
      })(),
    )
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const filter = this.where({ id: options.id, ids: options.ids, name: options.name, names: options.names })
    const clauses = filter ? [filter.sql] : []
    const params = filter ? filter.params : []
    // Agenda documents includeDisabled as true unless said otherwise
    if (options.includeDisabled === false) clauses.push('disabled = 0')
    if (options.search) {
      // in the name only (case-insensitive), as the PostgreSQL backend's ILIKE
      clauses.push(`name LIKE ? ESCAPE '\\'`)
      params.push(`%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''
    const rows = await this.run((db) => db.prepare(`SELECT * FROM agenda_jobs ${where}`).all(...params) as JobRow[])
    const now = new Date()
    let jobs: JobWithState[] = rows
      .filter((row) => options.data === undefined || jsonContains(JSON.parse(row.data), options.data))
      .map((row) => {
        const job = toJob(row)
        return { ...job, _id: job._id!, state: computeJobState(job, now) }
      })
    if (options.state) jobs = jobs.filter((j) => (options.state === 'paused' ? j.disabled === true : j.state === options.state))
    const sort = options.sort ?? { nextRunAt: 'desc', lastRunAt: 'desc' }
    jobs.sort((a, b) => {
      for (const [field, dir] of Object.entries(sort)) {
        const direction = dir === 'asc' || dir === 1 ? 1 : -1
        const av = (a as unknown as Record<string, unknown>)[field]
        const bv = (b as unknown as Record<string, unknown>)[field]
        const x = av instanceof Date ? av.getTime() : (av as number | string | undefined)
        const y = bv instanceof Date ? bv.getTime() : (bv as number | string | undefined)
        if (x === y) continue
        if (x === undefined || x === null) return 1
        if (y === undefined || y === null) return -1
        return (x < y ? -1 : 1) * direction
      }
      return 0
    })
    const total = jobs.length
    const skip = options.skip ?? 0
    return { jobs: jobs.slice(skip, options.limit ? skip + options.limit : undefined), total }
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const { jobs } = await this.queryJobs({ includeDisabled: true })
    const byName = new Map<string, JobsOverview>()
    for (const job of jobs) {
      const o = byName.get(job.name) ?? { name: job.name, total: 0, running: 0, scheduled: 0, queued: 0, completed: 0, failed: 0, repeating: 0, paused: 0 }
      o.total++
      o[job.state]++
      if (job.disabled) o.paused++
      byName.set(job.name, o)
    }
    return [...byName.values()]
  }

  async getDistinctJobNames(): Promise<string[]> {
    return this.run((db) => (db.prepare('SELECT DISTINCT name FROM agenda_jobs ORDER BY name').all() as { name: string }[]).map((r) => r.name))
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const row = await this.run((db) => db.prepare('SELECT * FROM agenda_jobs WHERE id = ?').get(id) as JobRow | undefined)
    return row ? toJob(row) : null
  }

  async getQueueSize(): Promise<number> {
    return this.run((db) => (db.prepare('SELECT COUNT(*) AS n FROM agenda_jobs WHERE next_run_at < ?').get(Date.now()) as { n: number }).n)
  }

  async removeJobs(options: RemoveJobsOptions): Promise<number> {
    return this.changeWhere(options, 'DELETE FROM agenda_jobs')
  }

  async disableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.changeWhere(options, 'UPDATE agenda_jobs SET disabled = 1')
  }

  async enableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.changeWhere(options, 'UPDATE agenda_jobs SET disabled = 0')
  }

  async purgeAllJobs(): Promise<number> {
    return this.run((db) => db.prepare('DELETE FROM agenda_jobs').run().changes)
  }

  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return
    // only jobs that are not being processed (nextRunAt set) are unlocked
    await this.run((db) => db.prepare('UPDATE agenda_jobs SET locked_at = NULL WHERE id = ? AND next_run_at IS NOT NULL').run(String(job._id)))
  }

  async unlockJobs(jobIds: string[]): Promise<void> {
    if (!jobIds.length) return
    await this.run((db) => db.prepare(`UPDATE agenda_jobs SET locked_at = NULL WHERE id IN (${jobIds.map(() => '?').join(',')})`).run(...jobIds.map(String)))
  }

  async lockJob(job: JobParameters, options?: JobRepositoryOptions): Promise<JobParameters | undefined> {
    if (!job._id) return undefined
    const row = await this.run(
      (db) =>
        db
          .prepare(
            `UPDATE agenda_jobs SET locked_at = ?, extra = json_set(extra, '$.lastModifiedBy', ?)
             WHERE id = ? AND name = ? AND locked_at IS NULL AND next_run_at IS ? AND disabled = 0 RETURNING *`,
          )
          .get(Date.now(), options?.lastModifiedBy ?? null, String(job._id), job.name, ms(job.nextRunAt)) as JobRow | undefined,
    )
    return row ? toJob(row) : undefined
  }

  async getNextJobToRun(jobName: string, nextScanAt: Date, lockDeadline: Date, now?: Date, options?: JobRepositoryOptions): Promise<JobParameters | undefined> {
    const row = await this.run(
      (db) =>
        db
          .prepare(
            `UPDATE agenda_jobs SET locked_at = ?, extra = json_set(extra, '$.lastModifiedBy', ?)
             WHERE id = (SELECT id FROM agenda_jobs WHERE name = ? AND disabled = 0
                           AND ((locked_at IS NULL AND next_run_at <= ?) OR locked_at <= ?)
                         ORDER BY next_run_at ASC, priority DESC LIMIT 1)
             RETURNING *`,
          )
          .get((now ?? new Date()).getTime(), options?.lastModifiedBy ?? null, jobName, nextScanAt.getTime(), lockDeadline.getTime()) as JobRow | undefined,
    )
    return row ? toJob(row) : undefined
  }

  async saveJobState(job: JobParameters, options?: JobRepositoryOptions): Promise<void> {
    if (!job._id) throw new Error('cannot save job state without job ID')
    const changes = await this.run(
      (db) =>
        db
          .prepare(
            `UPDATE agenda_jobs SET locked_at = ?, next_run_at = ?, last_run_at = ?, progress = ?, fail_reason = ?, fail_count = ?,
               failed_at = ?, last_finished_at = ?, extra = json_set(extra, '$.lastModifiedBy', ?) WHERE id = ? AND name = ?`,
          )
          .run(
            ms(job.lockedAt),
            ms(job.nextRunAt),
            ms(job.lastRunAt),
            job.progress ?? null,
            failReasonText(job.failReason),
            job.failCount ?? null,
            ms(job.failedAt),
            ms(job.lastFinishedAt),
            options?.lastModifiedBy ?? null,
            String(job._id),
            job.name,
          ).changes,
    )
    if (changes !== 1) throw new Error(`job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`)
  }

  async saveJob<DATA = unknown>(job: JobParameters<DATA>, options?: JobRepositoryOptions): Promise<JobParameters<DATA>> {
    const row = await this.run((db) => db.transaction(() => this.saveJobSync(db, job as JobParameters, options))())
    return (row ? toJob(row) : job) as JobParameters<DATA>
  }

  private saveJobSync(db: Database.Database, job: JobParameters, options?: JobRepositoryOptions): JobRow | undefined {
    const { _id, unique, uniqueOpts } = job
    const values = [job.priority, ms(job.nextRunAt), job.type, job.disabled ? 1 : 0, JSON.stringify(job.data ?? null), extraOf(job, options)]
    if (_id) {
      return db
        .prepare(
          `UPDATE agenda_jobs SET priority = ?, next_run_at = ?, type = ?, disabled = ?, data = ?, extra = ?,
             fail_reason = ?, fail_count = ?, failed_at = ? WHERE id = ? AND name = ? RETURNING *`,
        )
        .get(...values, failReasonText(job.failReason), job.failCount ?? null, ms(job.failedAt), String(_id), job.name) as JobRow | undefined
    }
    const insert = (nextRunAt: number | null, debounceStartedAt: number | null) =>
      db
        .prepare(
          `INSERT INTO agenda_jobs (id, name, priority, next_run_at, type, disabled, data, extra, debounce_started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(crypto.randomUUID(), job.name, job.priority, nextRunAt, job.type, job.disabled ? 1 : 0, values[4], values[5], debounceStartedAt) as JobRow
    if (job.type === 'single') {
      const existing = db.prepare(`SELECT * FROM agenda_jobs WHERE name = ? AND type = 'single'`).get(job.name) as JobRow | undefined
      if (!existing) return insert(ms(job.nextRunAt), null)
      // a single job that is due keeps its earlier nextRunAt (it must not be pushed back by a re-save)
      const protect = job.nextRunAt && job.nextRunAt.getTime() <= Date.now()
      const nextRunAt = protect ? (existing.next_run_at ?? ms(job.nextRunAt)) : ms(job.nextRunAt)
      return db
        .prepare(`UPDATE agenda_jobs SET priority = ?, next_run_at = ?, disabled = ?, data = ?, extra = ? WHERE id = ? RETURNING *`)
        .get(job.priority, nextRunAt, values[3], values[4], values[5], existing.id) as JobRow
    }
    if (unique) {
      const clauses = ['name = ?']
      const params: unknown[] = [job.name]
      for (const [key, value] of Object.entries(unique)) {
        if (key.startsWith('data.')) {
          // compared as text, as the PostgreSQL backend's `data->>path = String(value)`
          const path = `$.${key.slice(5)}`
          clauses.push(`(CASE json_type(data, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(data, ?) AS TEXT) END) = ?`)
          params.push(path, path, String(value))
        } else {
          const column = UNIQUE_FIELDS[key]
          if (!column) throw new Error(`Invalid unique constraint field: "${key}"`)
          clauses.push(`${column} = ?`)
          params.push(
            key === 'data'
              ? JSON.stringify(value)
              : value instanceof Date
                ? value.getTime()
                : typeof value === 'boolean'
                  ? value
                    ? 1
                    : 0
                  : (value as string | number),
          )
        }
      }
      const existing = db.prepare(`SELECT * FROM agenda_jobs WHERE ${clauses.join(' AND ')} LIMIT 1`).get(...params) as JobRow | undefined
      const debounce = uniqueOpts?.debounce
      const now = Date.now()
      if (existing) {
        if (uniqueOpts?.insertOnly && !debounce) return existing
        let nextRunAt = ms(job.nextRunAt)
        let debounceStartedAt: number | null = null
        if (debounce) {
          const started = existing.debounce_started_at ?? now
          if (debounce.strategy === 'leading') {
            nextRunAt = existing.next_run_at
            debounceStartedAt = started
          } else if (debounce.maxWait && now - started >= debounce.maxWait) {
            nextRunAt = now
          } else {
            nextRunAt = now + debounce.delay
            debounceStartedAt = started
          }
        }
        return db
          .prepare(
            `UPDATE agenda_jobs SET priority = ?, next_run_at = ?, type = ?, disabled = ?, data = ?, extra = ?, debounce_started_at = ? WHERE id = ? RETURNING *`,
          )
          .get(job.priority, nextRunAt, job.type, values[3], values[4], values[5], debounceStartedAt, existing.id) as JobRow
      }
      if (debounce) return insert(debounce.strategy === 'leading' ? ms(job.nextRunAt) : now + debounce.delay, now)
    }
    return insert(ms(job.nextRunAt), null)
  }
}

export class SqliteBackend implements AgendaBackend {
  readonly name = 'SQLite'
  readonly repository: SqliteJobRepository
  readonly notificationChannel = new InMemoryNotificationChannel()
  readonly ownsConnection = true

  constructor(file: string) {
    this.repository = new SqliteJobRepository(file)
  }

  /** the notification channel is connected by Agenda.start() */
  async connect(): Promise<void> {
    await this.repository.connect()
  }

  async disconnect(): Promise<void> {
    await this.notificationChannel.disconnect()
    await this.repository.disconnect()
  }
}
