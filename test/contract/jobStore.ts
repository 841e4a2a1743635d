// The job store contract: what Agenda 6 expects of a backend's JobRepository, checked under real Agenda
// instances. Run by every job store the server can use (test/job-store.contract.test.ts): our SQLite store
// and Agenda's own PostgreSQL backend, which serves as the control.
import { Agenda, exponential, InMemoryNotificationChannel, type AgendaBackend, type JobParameters } from 'agenda'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connectBackend } from '../../src/jobs/agenda.js'
import { sleep } from '../helpers/app.js'

export interface JobStoreHarness {
  /** a new backend on the suite's store (each Agenda instance gets its own, as separate processes would) */
  backend(): AgendaBackend
  close(): Promise<void>
}

async function until(check: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

export function jobStoreContract(name: string, open: () => Promise<JobStoreHarness>): void {
  describe(`job store contract: ${name}`, () => {
    let store: JobStoreHarness
    const agendas: Agenda[] = []
    const backends: AgendaBackend[] = []
    beforeAll(async () => {
      store = await open()
    })
    afterAll(async () => store?.close())
    /** empties the store between tests */
    const reset = async () => {
      const backend = await connectBackend(store.backend())
      await backend.repository.purgeAllJobs()
      await backend.disconnect()
    }
    afterEach(async () => {
      await Promise.all(agendas.splice(0).map((a) => a.stop().catch(() => {})))
      await Promise.all(backends.splice(0).map((b) => b.disconnect().catch(() => {})))
      await reset()
    })

    const worker = async (
      workerName: string,
      options: { processEvery?: number; lockLifetime?: number; maxConcurrency?: number; inProcessNotifications?: boolean } = {},
    ) => {
      // connected as the server connects it (two instances starting at once race to make the schema)
      const backend = await connectBackend(store.backend())
      const agenda = new Agenda({
        backend,
        name: workerName,
        processEvery: options.processEvery ?? 100,
        defaultLockLifetime: options.lockLifetime ?? 10_000,
        ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
        ...(options.inProcessNotifications ? { notificationChannel: new InMemoryNotificationChannel() } : {}),
      })
      agendas.push(agenda)
      return agenda
    }
    /** the repository of a backend of its own, connected (for reading and writing the store directly) */
    const repository = async () => {
      const backend = await connectBackend(store.backend())
      backends.push(backend)
      return backend.repository
    }
    const job = (fields: Partial<JobParameters>): JobParameters => ({
      name: 'j',
      priority: 0,
      nextRunAt: new Date(Date.now() + 3_600_000),
      type: 'normal',
      data: {},
      ...fields,
    })

    it('never runs one job on two workers at once', async () => {
      const runs: { i: number; by: string }[] = []
      const a = await worker('a')
      const b = await worker('b')
      for (const [agenda, by] of [
        [a, 'a'],
        [b, 'b'],
      ] as const) {
        agenda.define<{ i: number }>(
          'count',
          async (j) => {
            runs.push({ i: j.attrs.data.i, by })
            await sleep(5)
          },
          { concurrency: 4 },
        )
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

    it('lets instances that start at the same moment all connect, and shares the work between them', async () => {
      const ran: string[] = []
      const workers = await Promise.all(['w1', 'w2', 'w3'].map((name) => worker(name)))
      for (const [i, w] of workers.entries()) w.define('shared', async () => void ran.push(`w${i + 1}`))
      await Promise.all(workers.map((w) => w.start()))
      for (let i = 0; i < 12; i++) await workers[i % 3]!.now('shared', { i })
      await until(() => ran.length >= 12, 10_000, '12 runs')
      await sleep(200)
      expect(ran).toHaveLength(12)
    })

    it('runs a job again once the lock of its dead worker expires, not before', async () => {
      // a worker took the job and died: its lock stays behind in the store
      const repo = await repository()
      const saved = await repo.saveJob(job({ name: 'orphan', nextRunAt: new Date(Date.now() - 1000), data: { n: 1 } }), undefined)
      expect(await repo.lockJob(saved, undefined)).toBeDefined()
      const lockedAt = Date.now()
      const ranAt: number[] = []
      const live = await worker('live', { lockLifetime: 1500 })
      live.define(
        'orphan',
        async () => {
          ranAt.push(Date.now())
        },
        { lockLifetime: 1500 },
      )
      await live.start()
      await until(() => ranAt.length === 1, 10_000, 'the orphaned job to run')
      expect(ranAt[0]! - lockedAt).toBeGreaterThanOrEqual(1400)
    })

    it('runs a future job on time', async () => {
      const ranAt: number[] = []
      const a = await worker('timer', { processEvery: 200 })
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
      const attempts: number[] = []
      const hopeless: number[] = []
      const exhausted: string[] = []
      const a = await worker('retry')
      a.define(
        'flaky',
        async () => {
          attempts.push(Date.now())
          if (attempts.length < 3) throw new Error(`fail ${attempts.length}`)
        },
        { backoff: exponential({ delay: 200, factor: 2, maxRetries: 3 }) },
      )
      a.define(
        'hopeless',
        async () => {
          hopeless.push(Date.now())
          throw new Error('always')
        },
        { backoff: exponential({ delay: 100, maxRetries: 1 }) },
      )
      a.on('retry exhausted', (_e: unknown, j: { attrs: { name: string } }) => exhausted.push(j.attrs.name))
      await a.start()
      await a.now('flaky', {})
      await a.now('hopeless', {})
      await until(() => attempts.length >= 3 && exhausted.length >= 1, 15_000, 'retries')
      expect(attempts).toHaveLength(3)
      expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(150)
      expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(300)
      expect(hopeless).toHaveLength(2)
      expect(exhausted).toEqual(['hopeless'])
      const stored = await (await repository()).queryJobs({ name: 'flaky' })
      expect(stored.jobs[0]!.state).toBe('completed')
    })

    it('saves a job that failed with a thrown non-Error as its JSON text, and runs it once', async () => {
      const runs: number[] = []
      const a = await worker('odd')
      a.define(
        'throws-object',
        async () => {
          runs.push(Date.now())
          throw { code: 42 }
        },
        { lockLifetime: 1000 },
      )
      await a.start()
      await a.now('throws-object', {})
      const repo = await repository()
      let stored: JobParameters | undefined
      await until(() => runs.length >= 1, 10_000, 'the job to run')
      for (let i = 0; i < 100 && !stored?.failedAt; i++) {
        stored = (await repo.queryJobs({ name: 'throws-object' })).jobs[0]
        await sleep(20)
      }
      expect(stored).toMatchObject({ failReason: '{"code":42}', failCount: 1 })
      expect(stored!.lockedAt ?? null).toBeNull()
      // past its lock lifetime a job that could not be saved would run again
      await sleep(1500)
      expect(runs).toHaveLength(1)
    })

    it('lists disabled jobs unless told not to, and Job.disable() / enable() change what runs', async () => {
      const ran: string[] = []
      const a = await worker('switch')
      a.define('switchable', async (j) => {
        ran.push((j.attrs.data as { tag: string }).tag)
      })
      const off = await a
        .create('switchable', { tag: 'off' })
        .schedule(new Date(Date.now() + 300))
        .save()
      off.disable()
      await off.save()
      await a
        .create('switchable', { tag: 'on' })
        .schedule(new Date(Date.now() + 300))
        .save()
      const repo = await repository()
      expect((await repo.queryJobs({ name: 'switchable' })).total).toBe(2)
      expect((await repo.queryJobs({ name: 'switchable', includeDisabled: false })).jobs.map((j) => (j.data as { tag: string }).tag)).toEqual(['on'])
      expect((await repo.queryJobs({ name: 'switchable', state: 'paused' })).jobs.map((j) => (j.data as { tag: string }).tag)).toEqual(['off'])
      expect((await repo.getJobsOverview()).find((o) => o.name === 'switchable')).toMatchObject({ total: 2, paused: 1 })
      await a.start()
      await until(() => ran.length >= 1, 5000, 'the enabled job')
      await sleep(400)
      expect(ran).toEqual(['on'])
      // enabled again through Agenda's own job handle, it runs
      expect((await a.queryJobs({ data: { tag: 'off' } })).jobs.map((j) => j.disabled)).toEqual([true])
      off.enable()
      await off.save()
      await until(() => ran.length >= 2, 5000, 'the re-enabled job')
      expect(ran).toEqual(['on', 'off'])
    })

    it('filters by data (partial object match), searches names only, and touches nothing when no filter is given', async () => {
      const repo = await repository()
      await repo.saveJob(job({ name: 'report', data: { tenant: 'a', kind: { daily: true }, tags: ['x', 'y'] } }), undefined)
      await repo.saveJob(job({ name: 'report', data: { tenant: 'b', kind: { daily: false } } }), undefined)
      await repo.saveJob(job({ name: 'cleanup', data: { tenant: 'a', note: 'report' } }), undefined)
      const tenants = async (options: Parameters<typeof repo.queryJobs>[0]) =>
        (await repo.queryJobs(options)).jobs.map((j) => `${j.name}:${(j.data as { tenant: string }).tenant}`).sort()
      expect(await tenants({ data: { tenant: 'a' } })).toEqual(['cleanup:a', 'report:a'])
      expect(await tenants({ data: { kind: { daily: true } } })).toEqual(['report:a'])
      expect(await tenants({ data: { tags: ['y'] } })).toEqual(['report:a'])
      expect(await tenants({ name: 'report', data: { tenant: 'b' } })).toEqual(['report:b'])
      expect(await tenants({ search: 'REPO' })).toEqual(['report:a', 'report:b'])
      expect(await repo.removeJobs({})).toBe(0)
      expect(await repo.disableJobs({})).toBe(0)
      expect(await repo.disableJobs({ data: { tenant: 'a' } })).toBe(2)
      expect(await tenants({ includeDisabled: false })).toEqual(['report:b'])
      expect(await repo.enableJobs({ names: ['cleanup'] })).toBe(1)
      expect(await repo.removeJobs({ notNames: ['cleanup'], data: { tenant: 'b' } })).toBe(1)
      expect(await tenants({})).toEqual(['cleanup:a', 'report:a'])
    })

    it('keeps one job per unique key, a number and its text counting as the same', async () => {
      const repo = await repository()
      const first = await repo.saveJob({ ...job({ name: 'sync', data: { account: 7 } }), unique: { 'data.account': 7 } }, undefined)
      const again = await repo.saveJob({ ...job({ name: 'sync', data: { account: 7, v: 2 } }), unique: { 'data.account': '7' } }, undefined)
      expect(String(again._id)).toBe(String(first._id))
      expect((await repo.queryJobs({ name: 'sync' })).jobs.map((j) => j.data)).toEqual([{ account: 7, v: 2 }])
    })

    it('fills concurrency on a burst through the in-process notification channel as by polling', async () => {
      for (const inProcessNotifications of [true, false]) {
        let running = 0
        let peak = 0
        const release: (() => void)[] = []
        // notifications alone: the store is not polled again within the test
        const a = await worker(`burst-${inProcessNotifications}`, {
          maxConcurrency: 100,
          processEvery: inProcessNotifications ? 60_000 : 100,
          inProcessNotifications,
        })
        for (let n = 0; n < 10; n++) {
          a.define(
            `burst${n}`,
            async () => {
              running++
              peak = Math.max(peak, running)
              await new Promise<void>((r) => release.push(r))
              running--
            },
            { concurrency: 10 },
          )
        }
        await a.start()
        await Promise.all(Array.from({ length: 250 }, (_, i) => a.now(`burst${i % 10}`, { i })))
        await until(() => running >= 100, 10_000, `100 jobs running (${inProcessNotifications ? 'notifications' : 'polling'}; ${running} are)`)
        await sleep(200)
        expect(peak).toBe(100)
        release.splice(0).forEach((r) => r())
        await a.stop()
        await reset()
      }
    })
  })
}
