// Bulk replay: a dry run counts what a real replay re-delivers (to a real receiver), new pixels RESEND
// linked to their originals, one replay of a filter at a time, cancel, progress over graphql-ws, and a
// replay asked on a ROLE=api instance run by a separate ROLE=worker instance on the same database.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonRow } from '../src/events/bus.js'
import { runReplay } from '../src/delivery/runReplay.js'
import { createCompany } from '../src/tenancy/createCompany.js'
import type { Db } from '../src/core/db.js'
import { collect, ok, sleep, startTestApp, untilSubscribed, type TestApp } from './helpers/app.js'
import { redisUrl, testProvider } from './helpers/db.js'
import { startReceiver, type Receiver } from './helpers/receiver.js'

const OPERATOR_KEY = 'operator-key-for-the-tests-0123456789'
const agendashReplays = async (url: string, replayJobId: string) => {
  const res = await fetch(`${url}/agendash/api?job=replay-pixels`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { jobs: { job: { data: { replayJobId?: string } | null } }[] }
  return body.jobs.filter((j) => j.job.data?.replayJobId === replayJobId).length
}
const hoursAgo = (n: number) => new Date(Date.now() - n * 3_600_000)
const REPLAY = `mutation($i:ReplayPixelsInput!){ replayPixels(input:$i) { count dryRun job { id status total done failed filter { webhookId status createdAfter } } } }`
const JOB = `query($id:ID!){ replayJob(id:$id) { id status total done failed startedAt finishedAt error pixels { count succeeded failed pending } } }`

interface Fixture {
  campaignId: string
  webhook: (path: string) => Promise<string>
  pixels: (webhookId: string, status: string, createdAt: Date, n: number) => Promise<string[]>
}

async function fixture(db: Db, companyId: string, receiver: Receiver): Promise<Fixture> {
  const campaign = await db.campaign.create({ data: { companyId, name: 'Replays' } })
  const call = await db.call.create({
    data: { uuid: `replay-${Math.random()}`, companyId, campaignId: campaign.id, callerNumber: '+14155550100', status: 'ENDED' },
  })
  return {
    campaignId: campaign.id,
    webhook: async (path) =>
      (
        await db.webhook.create({
          data: {
            companyId,
            campaignId: campaign.id,
            name: path,
            trigger: 'CALL_END',
            matches: [],
            method: 'POST',
            urlTemplate: `${receiver.url}${path}`,
            headers: [],
            maxAttempts: 1,
          },
        })
      ).id,
    pixels: async (webhookId, status, createdAt, n) => {
      const ids: string[] = []
      for (let i = 0; i < n; i++) {
        const p = await db.pixel.create({
          data: {
            companyId,
            campaignId: campaign.id,
            webhookId,
            callId: call.id,
            callerNumber: call.callerNumber,
            trigger: 'CALL_END',
            status,
            createdAt,
            attemptCount: 1,
          },
        })
        ids.push(p.id)
      }
      return ids
    },
  }
}

async function untilStatus(t: TestApp, id: string, statuses: string[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const job = ok(await t.gql(JOB, { id })).replayJob
    if (statuses.includes(job.status)) return job
    if (Date.now() > deadline) throw new Error(`replay ${id} still ${job.status}`)
    await sleep(50)
  }
}

describe(`bulk replay on ${testProvider}`, () => {
  let receiver: Receiver
  beforeAll(async () => {
    receiver = await startReceiver()
  })
  afterAll(async () => receiver?.close())

  describe('one instance (ROLE=all)', () => {
    let t: TestApp
    let f: Fixture
    beforeAll(async () => {
      t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '50', REPLAY_BATCH_SIZE: '2', REPLAY_BATCH_PAUSE_MS: '300' } })
      f = await fixture(t.app.db, t.company.companyId, receiver)
    })
    afterAll(async () => t?.close())

    /** A replay of the webhook's pixels stored as replayPixels stores it, but no job asked for: the test runs it. */
    const storedReplay = (webhookId: string, total: number, name: string) =>
      t.app.db.replayJob.create({
        data: { companyId: t.company.companyId, filter: { webhookId }, status: 'QUEUED', total, upTo: new Date(), activeKey: `${t.company.companyId}|${name}` },
      })
    const deps = () => ({ db: t.app.db, pubsub: t.app.bus.pubsub, pixelQueue: t.app.services.pixelQueue })

    it('a dry run counts what the real replay re-delivers; originals kept, new pixels RESEND and linked, others untouched', async () => {
      const w1 = await f.webhook('/w1')
      const w2 = await f.webhook('/w2')
      const selected = await f.pixels(w1, 'FAILED', hoursAgo(2), 3)
      const outOfRange = await f.pixels(w1, 'FAILED', hoursAgo(72), 1)
      const succeeded = await f.pixels(w1, 'SUCCEEDED', hoursAgo(2), 1)
      const otherWebhook = await f.pixels(w2, 'FAILED', hoursAgo(2), 2)
      const filter = { webhookId: w1, status: 'FAILED', createdAfter: hoursAgo(24).toISOString(), createdBefore: new Date().toISOString() }

      const dry = ok(await t.gql(REPLAY, { i: { filter, dryRun: true } })).replayPixels
      expect(dry).toEqual({ count: 3, dryRun: true, job: null })
      expect(await t.app.db.replayJob.count()).toBe(0)
      expect(await t.app.db.pixel.count({ where: { trigger: 'RESEND' } })).toBe(0)

      const real = ok(await t.gql(REPLAY, { i: { filter } })).replayPixels
      expect(real).toMatchObject({
        count: 3,
        dryRun: false,
        job: { status: 'QUEUED', total: 3, done: 0, failed: 0, filter: { webhookId: w1, status: 'FAILED' } },
      })
      const done = await untilStatus(t, real.job.id, ['COMPLETED'])
      expect(done).toMatchObject({ total: 3, done: 3, failed: 0, error: null })
      expect(done.startedAt).not.toBeNull()
      expect(done.finishedAt).not.toBeNull()

      // delivered to the receiver: as many as the dry run counted, to w1 only
      const deadline = Date.now() + 10_000
      while (receiver.received('/w1').length < dry.count && Date.now() < deadline) await sleep(25)
      await sleep(200)
      expect(receiver.received('/w1')).toHaveLength(dry.count)
      expect(receiver.received('/w2')).toHaveLength(0)
      const made = await t.app.db.pixel.findMany({ where: { replayJobId: real.job.id } })
      expect(made.map((p) => p.replayOfId).sort()).toEqual([...selected].sort())
      expect(made.every((p) => p.trigger === 'RESEND' && p.webhookId === w1)).toBe(true)
      // originals as they were; the pixels the filter left out got no replay
      const originals = await t.app.db.pixel.findMany({ where: { id: { in: [...selected, ...outOfRange, ...succeeded, ...otherWebhook] } } })
      expect(originals.map((p) => p.status).sort()).toEqual(['FAILED', 'FAILED', 'FAILED', 'FAILED', 'FAILED', 'FAILED', 'SUCCEEDED'])
      expect(await t.app.db.pixel.count({ where: { replayOfId: { in: [...outOfRange, ...succeeded, ...otherWebhook] } } })).toBe(0)
      const summary = await untilSummary(t, real.job.id, 3)
      expect(summary).toEqual({ count: 3, succeeded: 3, failed: 0, pending: 0 })
      // the list, newest first
      const list = ok(await t.gql(`{ replayJobs(first: 5) { edges { node { id status } } pageInfo { hasNextPage } } }`)).replayJobs
      expect(list.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([real.job.id])
    })

    it('resendPixel names its original', async () => {
      const w = await f.webhook('/resend')
      const [original] = await f.pixels(w, 'FAILED', hoursAgo(1), 1)
      const d = ok(await t.gql(`mutation($i:ResendPixelInput!){ resendPixel(input:$i) { id trigger } }`, { i: { id: original } }))
      expect((await t.app.db.pixel.findUniqueOrThrow({ where: { id: d.resendPixel.id } })).replayOfId).toBe(original)
    })

    it('refuses the same replay while the first runs, cancels it (done < total), then takes the filter again', async () => {
      const w = await f.webhook('/slow')
      await f.pixels(w, 'FAILED', hoursAgo(3), 12)
      const filter = { webhookId: w, status: 'FAILED' }
      const first = ok(await t.gql(REPLAY, { i: { filter } })).replayPixels.job
      const again = await t.gql(REPLAY, { i: { filter } })
      expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter' })
      expect(again.errors?.[0]?.message).toContain(first.id)
      // a dry run is always answered
      expect(ok(await t.gql(REPLAY, { i: { filter, dryRun: true } })).replayPixels.count).toBe(12)

      // batches of 2 with a pause: cancel after the first batch
      const deadline = Date.now() + 20_000
      while (ok(await t.gql(JOB, { id: first.id })).replayJob.done < 2) {
        if (Date.now() > deadline) throw new Error('the replay made no batch')
        await sleep(20)
      }
      const cancelled = ok(
        await t.gql(`mutation($i:CancelReplayInput!){ cancelReplay(input:$i) { id status finishedAt } }`, { i: { id: first.id } }),
      ).cancelReplay
      expect(cancelled.status).toBe('CANCELLED')
      await sleep(900)
      const after = ok(await t.gql(JOB, { id: first.id })).replayJob
      expect(after.status).toBe('CANCELLED')
      expect(after.done).toBeLessThan(after.total)
      expect(await t.app.db.pixel.count({ where: { replayJobId: first.id } })).toBe(after.done)

      // the filter is free again
      const second = ok(await t.gql(REPLAY, { i: { filter } })).replayPixels.job
      expect(second.id).not.toBe(first.id)
      ok(await t.gql(`mutation($i:CancelReplayInput!){ cancelReplay(input:$i) { id } }`, { i: { id: second.id } }))
    })

    it('goes on from its cursor: a replay stopped between batches (a shutdown, a dead worker) resumes where it was', async () => {
      const w = await f.webhook('/resume')
      const originals = await f.pixels(w, 'FAILED', hoursAgo(1), 5)
      const db = t.app.db
      const row = await storedReplay(w, 5, 'resume')
      const stopped = new AbortController()
      stopped.abort()
      const first = await runReplay(deps(), row.id, { batchSize: 2, pauseMs: 0, signal: stopped.signal })
      expect(first).toMatchObject({ status: 'RUNNING', done: 2 })
      const rest = await runReplay(deps(), row.id, { batchSize: 2, pauseMs: 0 })
      expect(rest).toMatchObject({ status: 'COMPLETED', done: 5, failed: 0, activeKey: null })
      // each original replayed once, oldest first
      const made = await db.pixel.findMany({ where: { replayJobId: row.id } })
      expect(made.map((p) => p.replayOfId).sort()).toEqual([...originals].sort())
      // a finished replay is left as it is
      expect(await runReplay(deps(), row.id, { batchSize: 2, pauseMs: 0 })).toMatchObject({ status: 'COMPLETED', done: 5 })
      expect(await db.pixel.count({ where: { replayJobId: row.id } })).toBe(5)
    })

    it('two runners of one replay at once (a requeued or stalled job) replay each original exactly once', async () => {
      const w = await f.webhook('/twice')
      const originals = await f.pixels(w, 'FAILED', hoursAgo(1), 9)
      const db = t.app.db
      const row = await storedReplay(w, 9, 'twice')
      const ends = await Promise.all([1, 2, 3].map(() => runReplay(deps(), row.id, { batchSize: 2, pauseMs: 0 })))
      for (const end of ends) expect(end).toMatchObject({ status: 'COMPLETED' })
      const made = await db.pixel.findMany({ where: { replayJobId: row.id }, select: { replayOfId: true } })
      expect(made.map((p) => p.replayOfId).sort()).toEqual([...originals].sort())
      expect(await db.replayJob.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ status: 'COMPLETED', total: 9, done: 9, failed: 0 })
    })

    it('takes only a pixel trigger: a misspelt or long one is BAD_USER_INPUT naming filter.trigger, never a 500', async () => {
      const w = await f.webhook('/triggers')
      await f.pixels(w, 'FAILED', hoursAgo(1), 1)
      for (const trigger of ['call_start', 'CALL_START '.repeat(300), 'x'.repeat(3000)]) {
        for (const dryRun of [true, false]) {
          const r = await t.gql(REPLAY, { i: { filter: { webhookId: w, trigger }, dryRun } })
          expect(r.errors?.[0]?.extensions, trigger.slice(0, 20)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.trigger' })
        }
      }
      // a long id is looked up, not stored: NOT_FOUND
      const long = await t.gql(REPLAY, { i: { filter: { campaignId: 'c'.repeat(3000) } } })
      expect(long.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'filter.campaignId' })

      // every pixel trigger is taken, and answered as asked
      const q = `mutation($i:ReplayPixelsInput!){ replayPixels(input:$i) { count job { id filter { trigger } } } }`
      for (const trigger of ['CALL_START', 'ANSWERED', 'CONVERSION', 'TIMER', 'RESEND', 'TEST'])
        expect(ok(await t.gql(q, { i: { filter: { webhookId: w, trigger }, dryRun: true } })).replayPixels.count).toBe(0)
      const real = ok(await t.gql(q, { i: { filter: { webhookId: w, trigger: 'CALL_END', createdAfter: hoursAgo(2).toISOString() } } })).replayPixels
      expect(real.count).toBe(1)
      expect(real.job.filter).toEqual({ trigger: 'CALL_END' })
      await untilStatus(t, real.job.id, ['COMPLETED'])
    })

    it("counts pixels of a deleted webhook as failed; another company's ids are NOT_FOUND", async () => {
      const w = await f.webhook('/deleted')
      await f.pixels(w, 'FAILED', hoursAgo(1), 2)
      await t.app.db.webhook.update({ where: { id: w }, data: { deletedAt: new Date() } })
      const job = ok(await t.gql(REPLAY, { i: { filter: { webhookId: w } } })).replayPixels.job
      expect(await untilStatus(t, job.id, ['COMPLETED'])).toMatchObject({ total: 2, done: 0, failed: 2 })
      expect(await t.app.db.pixel.count({ where: { replayJobId: job.id } })).toBe(0)

      const other = await createCompany(t.app.db, 'Other')
      const g = await fixture(t.app.db, other.companyId, receiver)
      const foreign = await g.webhook('/foreign')
      for (const [filter, field] of [
        [{ webhookId: foreign }, 'filter.webhookId'],
        [{ campaignId: g.campaignId }, 'filter.campaignId'],
      ] as const) {
        const r = await t.gql(REPLAY, { i: { filter, dryRun: true } })
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field })
      }
      expect((await t.gql(JOB, { id: job.id }, other.adminKey)).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' })
    })
  })

  describe('across instances: asked on ROLE=api, run by a separate ROLE=worker', () => {
    let api: TestApp
    let worker: TestApp | null = null
    beforeAll(async () => {
      api = await startTestApp({ env: { ROLE: 'api', REDIS_URL: redisUrl, OPERATOR_KEY } })
    })
    afterAll(async () => {
      await worker?.close()
      await api?.close()
    })

    it('stays QUEUED where no worker runs, refuses the duplicate, and is run by the worker with progress over graphql-ws', async () => {
      const f = await fixture(api.app.db, api.company.companyId, receiver)
      const w = await f.webhook('/across')
      await f.pixels(w, 'FAILED', hoursAgo(1), 5)
      const filter = { webhookId: w }
      const job = ok(await api.gql(REPLAY, { i: { filter } })).replayPixels.job
      const duplicate = await api.gql(REPLAY, { i: { filter } })
      expect(duplicate.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter' })
      expect(duplicate.errors?.[0]?.message).toContain(job.id)
      // the company and the filter held as a fixed-length digest, whatever the filter's length
      const activeKey = (await api.app.db.replayJob.findUniqueOrThrow({ where: { id: job.id } })).activeKey
      expect(activeKey).toBe(
        createHash('sha256')
          .update(`${api.company.companyId}\n${JSON.stringify({ webhookId: w })}`)
          .digest('hex'),
      )

      const sub = collect(api.wsClient(), `subscription($id:ID!){ replayJobUpdated(id:$id) { id status done failed total } }`, { id: job.id })
      const row = await api.app.db.replayJob.findUniqueOrThrow({ where: { id: job.id } })
      await untilSubscribed(sub, async () => api.app.bus.pubsub.publish('replayJobUpdated', api.company.companyId, { replayJob: jsonRow(row) }))
      await sleep(300)
      expect(ok(await api.gql(JOB, { id: job.id })).replayJob.status).toBe('QUEUED')
      // the API instance stored the job in the job store, and its Agendash shows it
      expect(await agendashReplays(api.app.url, job.id)).toBe(1)

      worker = await startTestApp({
        env: {
          ROLE: 'worker',
          REDIS_URL: redisUrl,
          ALLOWED_TARGETS: '127.0.0.1',
          PIXEL_POLL_MS: '50',
          REPLAY_BATCH_SIZE: '2',
          REPLAY_BATCH_PAUSE_MS: '0',
          OPERATOR_KEY,
        },
        database: { url: api.databaseUrl },
      })
      const done = await untilStatus(api, job.id, ['COMPLETED'])
      expect(done).toMatchObject({ total: 5, done: 5, failed: 0 })
      const deadline = Date.now() + 10_000
      while (receiver.received('/across').length < 5 && Date.now() < deadline) await sleep(25)
      expect(receiver.received('/across')).toHaveLength(5)
      // the worker serves Agendash too, on the same job store
      expect(await agendashReplays(worker.app.url, job.id)).toBe(1)

      // RUNNING, a batch of 2, 2 and 1, COMPLETED: in order, each seen by the API instance's subscriber
      const events = (await sub.waitFor(5, 10_000)).map((e) => e.replayJobUpdated)
      expect(events.map((e) => [e.status, e.done])).toEqual([
        ['RUNNING', 0],
        ['RUNNING', 2],
        ['RUNNING', 4],
        ['RUNNING', 5],
        ['COMPLETED', 5],
      ])
      sub.dispose()
    })
  })
})

async function untilSummary(t: TestApp, id: string, succeeded: number) {
  const deadline = Date.now() + 10_000
  for (;;) {
    const s = ok(await t.gql(JOB, { id })).replayJob.pixels
    if (s.succeeded + s.failed >= succeeded || Date.now() > deadline) return s
    await sleep(50)
  }
}
