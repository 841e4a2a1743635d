// Retention: backdated rows inserted through Prisma, purged by the job's function (in batches) and once
// through Agenda in the running app; exactly the old rows go, the young ones and the 0-days company's stay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { purgeRetention } from '../src/jobs/purgeRetention.js'
import { JOB_NAMES } from '../src/core/jobScheduler.js'
import { createCompany } from '../src/tenancy/createCompany.js'
import { ok, sleep, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'

const DAY = 86_400_000
const daysAgo = (n: number) => new Date(Date.now() - n * DAY)
const hoursAgo = (n: number) => new Date(Date.now() - n * 3_600_000)
const POSTBACK_DELETE = /DELETE FROM [^ ]*[`"]Postback[`"]/

/** One company's backdated data: what must go and what must stay, by id. */
interface Seeded {
  companyId: string
  gone: { postbacks: string[]; pixels: string[]; calls: string[] }
  kept: { postbacks: string[]; pixels: string[]; calls: string[] }
  /** a young postback that reached an old call: kept, its callId set null */
  linkedPostback: string
  /** attempts of pixels that go (directly or with their call) */
  goneAttempts: number
  goneTags: number
  gonePendingTags: number
}

/** A postback stored as the REST door stores one, backdated. */
function storedPostback(t: TestApp, companyId: string, apiKeyId: string, createdAt: Date, callId: string | null = null) {
  return t.app.db.postback.create({
    data: { companyId, apiKeyId, channel: 'REST_POST', rawBody: '{}', outcome: 'TAGS_STORED', httpStatus: 200, createdAt, callId },
  })
}

async function seed(t: TestApp, companyId: string): Promise<Seeded> {
  const db = t.app.db
  const apiKey = await db.apiKey.findFirstOrThrow({ where: { companyId } })
  const campaign = await db.campaign.create({ data: { companyId, name: 'Retention' } })
  const webhook = await db.webhook.create({
    data: { companyId, campaignId: campaign.id, name: 'w', trigger: 'CALL_END', matches: [], method: 'POST', urlTemplate: 'http://127.0.0.1:9/x', headers: [] },
  })
  let n = 0
  const call = (startedAt: Date, updatedAt: Date) =>
    db.call.create({
      data: { uuid: `c-${companyId}-${n++}`, companyId, campaignId: campaign.id, callerNumber: '+14155550100', status: 'ENDED', startedAt, updatedAt },
    })
  const pixel = async (callId: string, status: string, createdAt: Date, attempts = 0) => {
    const p = await db.pixel.create({
      data: { companyId, campaignId: campaign.id, webhookId: webhook.id, callId, callerNumber: '+14155550100', trigger: 'CALL_END', status, createdAt },
    })
    for (let i = 1; i <= attempts; i++)
      await db.pixelAttempt.create({ data: { pixelId: p.id, number: i, startedAt: createdAt, durationMs: 5, statusCode: 500 } })
    return p.id
  }
  const postback = async (createdAt: Date, callId: string | null = null, pending = 0) => {
    const p = await storedPostback(t, companyId, apiKey.id, createdAt, callId)
    for (let i = 0; i < pending; i++)
      await db.pendingTag.create({
        data: { companyId, callerNumber: '+14155550199', postbackId: p.id, key: `k${i}`, value: 'v', expiresAt: daysAgo(-1), createdAt },
      })
    return p.id
  }

  const youngCall = await call(daysAgo(1), daysAgo(1))
  // started long ago but changed lately: kept
  const changedCall = await call(daysAgo(40), hoursAgo(1))
  const oldCalls = [await call(daysAgo(40), daysAgo(40)), await call(daysAgo(45), daysAgo(39))]
  for (const c of oldCalls) await db.tag.create({ data: { callId: c.id, key: 'state', value: 'CA', source: 'API' } })
  const oldCallPixels = [await pixel(oldCalls[0]!.id, 'SUCCEEDED', daysAgo(1), 2), await pixel(oldCalls[1]!.id, 'PENDING', daysAgo(40), 1)]
  const oldPixels = [
    await pixel(youngCall.id, 'SUCCEEDED', daysAgo(25), 1),
    await pixel(youngCall.id, 'FAILED', daysAgo(26), 3),
    await pixel(youngCall.id, 'CANCELLED', daysAgo(30)),
  ]
  const keptPixels = [
    await pixel(youngCall.id, 'PENDING', daysAgo(25)),
    await pixel(youngCall.id, 'SUCCEEDED', daysAgo(2), 1),
    await pixel(changedCall.id, 'FAILED', daysAgo(5)),
  ]
  const oldPostbacks = [await postback(daysAgo(40), null, 2)]
  for (let i = 0; i < 4; i++) oldPostbacks.push(await postback(daysAgo(31 + i)))
  const linkedPostback = await postback(daysAgo(1), oldCalls[0]!.id)
  const keptPostbacks = [linkedPostback, await postback(daysAgo(2)), await postback(daysAgo(29))]
  return {
    companyId,
    gone: { postbacks: oldPostbacks, pixels: [...oldPixels, ...oldCallPixels], calls: oldCalls.map((c) => c.id) },
    kept: { postbacks: keptPostbacks, pixels: keptPixels, calls: [youngCall.id, changedCall.id] },
    linkedPostback,
    goneAttempts: 1 + 3 + 2 + 1,
    goneTags: 2,
    gonePendingTags: 2,
  }
}

/** Waits until the repeating purge that every start runs at once has finished (so it cannot race the test). */
async function firstPurgeDone(t: TestApp) {
  const deadline = Date.now() + 20_000
  for (;;) {
    const { jobs } = await t.app.jobs.agenda.queryJobs({ name: JOB_NAMES.purgeRetention })
    if (jobs.some((j) => j.lastFinishedAt)) return
    if (Date.now() > deadline) throw new Error('the first purge did not run')
    await sleep(50)
  }
}

describe(`retention on ${testProvider}`, () => {
  let t: TestApp
  const statements: string[] = []
  let counting = false
  beforeAll(async () => {
    t = await startTestApp({ env: { RETENTION_DAYS: '30' }, onQuery: (sql) => counting && statements.push(sql) })
    await firstPurgeDone(t)
  })
  afterAll(async () => t?.close())

  it('updateCompany sets the days (null: the server default, 0: for ever) and the operator settings, checked', async () => {
    const q = `mutation($i:UpdateCompanyInput!){ updateCompany(input:$i) { retention { postbackDays postbackDaysIsDefault pixelDays pixelDaysIsDefault callDays callDaysIsDefault defaultDays } operatorUrl hasOperatorSigningSecret } }`
    const d = ok(
      await t.gql(q, {
        i: {
          pixelRetentionDays: 20,
          callRetentionDays: 30,
          operatorUrl: 'https://ops.example.com/hook',
          operatorSigningSecret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        },
      }),
    )
    expect(d.updateCompany).toEqual({
      retention: {
        postbackDays: 30,
        postbackDaysIsDefault: true,
        pixelDays: 20,
        pixelDaysIsDefault: false,
        callDays: 30,
        callDaysIsDefault: false,
        defaultDays: 30,
      },
      operatorUrl: 'https://ops.example.com/hook',
      hasOperatorSigningSecret: true,
    })
    for (const [input, field] of [
      [{ pixelRetentionDays: -1 }, 'pixelRetentionDays'],
      [{ callRetentionDays: 36501 }, 'callRetentionDays'],
      [{ operatorUrl: 'ftp://ops.example.com' }, 'operatorUrl'],
      [{ operatorUrl: 'not a url' }, 'operatorUrl'],
      [{ operatorSigningSecret: 'secret' }, 'operatorSigningSecret'],
    ] as const) {
      const r = await t.gql(q, { i: input })
      expect(r.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field })
    }
    // the secret is never answered
    const r = await t.gql(`{ company { operatorSigningSecret } }`)
    expect(r.errors?.[0]?.message).toMatch(/operatorSigningSecret/)
    // null: back to none
    const cleared = ok(await t.gql(q, { i: { operatorUrl: null, operatorSigningSecret: null } }))
    expect(cleared.updateCompany).toMatchObject({ operatorUrl: null, hasOperatorSigningSecret: false })
  })

  it('deletes exactly the old rows in batches, keeps the young ones and the 0-days company, records each run', async () => {
    const db = t.app.db
    const forever = await createCompany(db, 'Keeps for ever')
    await db.company.update({ where: { id: forever.companyId }, data: { postbackRetentionDays: 0, pixelRetentionDays: 0, callRetentionDays: 0 } })
    const a = await seed(t, t.company.companyId)
    const b = await seed(t, forever.companyId)
    // operational rows
    const bucket = (period: string, bucketStart: Date, webhookId = 'w1') =>
      db.healthBucket.create({ data: { companyId: a.companyId, webhookId, origin: 'http://127.0.0.1:9', period, bucketStart } })
    await bucket('MINUTE', hoursAgo(72))
    await bucket('MINUTE', hoursAgo(72), 'w2')
    await bucket('MINUTE', hoursAgo(1))
    await bucket('HOUR', daysAgo(40))
    await bucket('HOUR', daysAgo(10))
    const event = (companyId: string, createdAt: Date) =>
      db.webhookHealthEvent.create({ data: { companyId, webhookId: 'w1', from: 'CLOSED', to: 'OPEN', reason: 'failing', createdAt } })
    const oldEvent = await event(a.companyId, daysAgo(25))
    const youngEvent = await event(a.companyId, daysAgo(1))
    const foreverEvent = await event(b.companyId, daysAgo(300))
    const replay = (companyId: string, status: string, createdAt: Date, activeKey: string | null = null) =>
      db.replayJob.create({ data: { companyId, filter: {}, status, total: 0, upTo: createdAt, createdAt, activeKey } })
    const oldReplay = await replay(a.companyId, 'COMPLETED', daysAgo(25))
    const runningReplay = await replay(a.companyId, 'RUNNING', daysAgo(25), `${a.companyId}|old`)
    const foreverReplay = await replay(b.companyId, 'COMPLETED', daysAgo(300))
    const oldRun = await db.retentionRun.create({ data: { companyId: a.companyId, startedAt: daysAgo(100), finishedAt: daysAgo(100) } })
    const youngRun = await db.retentionRun.create({ data: { companyId: a.companyId, startedAt: daysAgo(10), finishedAt: daysAgo(10) } })
    // backdating holds (updatedAt is set by Prisma unless given)
    expect((await db.call.findUniqueOrThrow({ where: { id: a.gone.calls[0]! } })).updatedAt.getTime()).toBeLessThan(daysAgo(35).getTime())

    counting = true
    const result = await purgeRetention(db, { defaultDays: 30, batchSize: 2, pauseMs: 0 })
    counting = false

    // 5 old postbacks of one company in batches of 2: 3 statements (the 0-days company's none)
    expect(statements.filter((s) => POSTBACK_DELETE.test(s))).toHaveLength(3)
    const ids = async () => ({
      postbacks: (await db.postback.findMany({ select: { id: true } })).map((r) => r.id),
      pixels: (await db.pixel.findMany({ select: { id: true } })).map((r) => r.id),
      calls: (await db.call.findMany({ select: { id: true } })).map((r) => r.id),
    })
    const left = await ids()
    for (const kind of ['postbacks', 'pixels', 'calls'] as const) {
      for (const id of a.gone[kind]) expect(left[kind], `${kind} ${id} should be gone`).not.toContain(id)
      for (const id of [...a.kept[kind], ...b.gone[kind], ...b.kept[kind]]) expect(left[kind], `${kind} ${id} should stay`).toContain(id)
    }
    expect(await db.pixelAttempt.count({ where: { pixel: { companyId: a.companyId } } })).toBe(1)
    expect(await db.pixelAttempt.count({ where: { pixel: { companyId: b.companyId } } })).toBe(b.goneAttempts + 1)
    expect(await db.pixelAttempt.count()).toBe(1 + b.goneAttempts + 1)
    expect(await db.tag.count({ where: { call: { companyId: b.companyId } } })).toBe(b.goneTags)
    expect(await db.tag.count()).toBe(b.goneTags)
    expect(await db.pendingTag.count({ where: { companyId: a.companyId } })).toBe(0)
    expect(await db.pendingTag.count({ where: { companyId: b.companyId } })).toBe(b.gonePendingTags)
    expect((await db.postback.findUniqueOrThrow({ where: { id: a.linkedPostback } })).callId).toBeNull()
    expect((await db.postback.findUniqueOrThrow({ where: { id: b.linkedPostback } })).callId).not.toBeNull()

    // operational rows
    expect((await db.healthBucket.findMany({ orderBy: { bucketStart: 'asc' } })).map((r) => r.period)).toEqual(['HOUR', 'MINUTE'])
    expect((await db.webhookHealthEvent.findMany()).map((r) => r.id).sort()).toEqual([youngEvent.id, foreverEvent.id].sort())
    expect(await db.webhookHealthEvent.findUnique({ where: { id: oldEvent.id } })).toBeNull()
    expect((await db.replayJob.findMany()).map((r) => r.id).sort()).toEqual([runningReplay.id, foreverReplay.id].sort())
    expect(await db.replayJob.findUnique({ where: { id: oldReplay.id } })).toBeNull()
    expect(await db.retentionRun.findUnique({ where: { id: oldRun.id } })).toBeNull()
    expect(await db.retentionRun.findUnique({ where: { id: youngRun.id } })).not.toBeNull()
    expect(result.operational).toEqual({ healthBuckets: 3, healthEvents: 1, replayJobs: 1, retentionRuns: 1 })

    // each company's run is recorded; the API reads the latest
    const counts = { postbacks: 5, pixels: 5, calls: 2 }
    expect(result.companies.find((c) => c.companyId === a.companyId)).toEqual({ companyId: a.companyId, counts, error: null })
    expect(result.companies.find((c) => c.companyId === b.companyId)?.counts).toEqual({ postbacks: 0, pixels: 0, calls: 0 })
    const d = ok(await t.gql(`{ company { retention { lastRun { startedAt finishedAt postbacks pixels calls error } } } }`))
    expect(d.company.retention.lastRun).toMatchObject({ ...counts, error: null })
    expect(d.company.retention.lastRun.finishedAt).not.toBeNull()
  })

  it('deletes health buckets at most a batch a statement, many webhooks sharing a bucket start', async () => {
    const db = t.app.db
    const companyId = t.company.companyId
    const bucket = (webhookId: string, period: string, bucketStart: Date) =>
      db.healthBucket.create({ data: { companyId, webhookId, origin: 'http://127.0.0.1:9', period, bucketStart } })
    const shared = hoursAgo(60)
    for (let i = 0; i < 5; i++) await bucket(`share-${i}`, 'MINUTE', shared)
    await bucket('share-0', 'MINUTE', hoursAgo(70))
    for (let i = 0; i < 3; i++) await bucket(`share-${i}`, 'HOUR', daysAgo(50))
    const young = [await bucket('share-0', 'MINUTE', hoursAgo(2)), await bucket('share-1', 'HOUR', daysAgo(2))]
    const before = await db.healthBucket.count()

    // each batch is one statement: the rows gone between two batches are what one statement deleted
    const left = [before]
    const result = await purgeRetention(db, { defaultDays: 30, batchSize: 2, pauseMs: 0, onBatch: async () => void left.push(await db.healthBucket.count()) })
    left.push(await db.healthBucket.count())
    const perStatement = left.slice(1).map((n, i) => left[i]! - n)
    expect(Math.max(...perStatement), JSON.stringify(left)).toBeLessThanOrEqual(2)
    expect(result.operational.healthBuckets).toBe(9)
    expect(before - left.at(-1)!).toBe(9)
    const kept = await db.healthBucket.findMany({ where: { webhookId: { startsWith: 'share-' } } })
    expect(kept.map((b) => `${b.webhookId} ${b.period}`).sort()).toEqual(young.map((b) => `${b.webhookId} ${b.period}`).sort())
  })

  it('runs as the Agenda job purge-retention in the running app', async () => {
    const db = t.app.db
    const apiKey = await db.apiKey.findFirstOrThrow({ where: { companyId: t.company.companyId } })
    const old = await storedPostback(t, t.company.companyId, apiKey.id, daysAgo(50))
    const young = await storedPostback(t, t.company.companyId, apiKey.id, daysAgo(3))
    const runsBefore = await db.retentionRun.count({ where: { companyId: t.company.companyId } })
    await t.app.jobs.scheduler.now(JOB_NAMES.purgeRetention, {})
    const deadline = Date.now() + 20_000
    while ((await db.retentionRun.count({ where: { companyId: t.company.companyId, finishedAt: { not: null } } })) <= runsBefore) {
      if (Date.now() > deadline) throw new Error('the purge job did not run')
      await sleep(50)
    }
    expect(await db.postback.findUnique({ where: { id: old.id } })).toBeNull()
    expect(await db.postback.findUnique({ where: { id: young.id } })).not.toBeNull()
    const d = ok(await t.gql(`{ company { retention { lastRun { postbacks pixels calls error } } } }`))
    expect(d.company.retention.lastRun).toEqual({ postbacks: 1, pixels: 0, calls: 0, error: null })
  })
})
