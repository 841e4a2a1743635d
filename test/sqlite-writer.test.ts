// The SQLite writer thread writes the batches that arrive in one of its turns in one transaction, a
// savepoint each: a batch that fails is undone and answered alone, the others in the turn commit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqliteFilePath } from '../src/store/sqlite/sqlitePath.js'
import { SqliteWriter } from '../src/store/sqlite/sqliteWriter.js'
import { checkCallEvent } from '../src/calls/callEvents.js'
import { startTestApp, type TestApp } from './helpers/app.js'
import { createTestDatabase, type TestDatabase } from './helpers/db.js'
import { postJson } from './helpers/postback.js'
import { createCampaign, createWebhook } from './fixtures.js'

// on SQLite in both test passes: the writer thread is the embedded database's
describe('the SQLite writer thread', () => {
  let database: TestDatabase
  let t: TestApp
  let writer: SqliteWriter
  beforeAll(async () => {
    database = await createTestDatabase('sqlite')
    t = await startTestApp({ env: { ROLE: 'api', JOBS_URL: database.url.replace(/ringhook\.db$/, 'ringhook-jobs.db') }, database })
    writer = new SqliteWriter(sqliteFilePath(t.databaseUrl))
    await writer.ready()
  })
  afterAll(async () => {
    await writer?.close()
    await t?.close()
    await database?.drop()
  })

  it('undoes a failing batch alone: the batches beside it in the same turn commit', async () => {
    const campaignId = await createCampaign(t)
    await createWebhook(t, { campaignId, name: 'answered', trigger: 'ANSWERED', url: 'http://127.0.0.1:9/a' })
    for (const uuid of ['turn-1', 'turn-2']) {
      const r = await postJson(
        t,
        '/call-events',
        { event: 'start', campaignId, uuid, callerNumber: '+14155550109' },
        { authorization: `Bearer ${t.company.adminKey}` },
      )
      expect(r.status).toBe(200)
    }
    const answer = (uuid: string) => [{ companyId: t.company.companyId, event: checkCallEvent({ event: 'ANSWER', uuid, answeredAt: null }) }]
    // sent in one go, so the thread takes them in one turn: the middle batch fails after writing (its call
    // updated, then a tag value SQLite cannot take), so its write must be undone with it
    const [ok] = answer('turn-2')
    const results = await Promise.allSettled([
      writer.call('callEvents', answer('turn-1')),
      writer.call('callEvents', [{ ...ok!, event: { ...ok!.event, tags: [{ key: 'k', value: {} as never }] } }]),
      writer.call('outcomes', []),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/parameter values/)
    const calls = await t.app.db.call.findMany({ where: { uuid: { in: ['turn-1', 'turn-2'] } }, orderBy: { uuid: 'asc' } })
    expect(calls.map((c) => c.status)).toEqual(['ANSWERED', 'STARTED'])
    // the failed batch's pixel was undone with it; the committed one's was written
    const pixels = await t.app.db.pixel.findMany({ where: { trigger: 'ANSWERED', call: { uuid: { in: ['turn-1', 'turn-2'] } } }, include: { call: true } })
    expect(pixels.map((p) => p.call.uuid)).toEqual(['turn-1'])
  })
})
