// The pixel outbox as a queue shared by workers: two claimers (each with a connection of its own: on
// SQLite, a writer thread each, as two processes would have) taking
// batches at once never take the same pixel, and a pixel whose lock expired is taken again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/store/client.js'
import { sqliteFilePath } from '../src/store/sqlite/sqlitePath.js'
import type { PixelStore } from '../src/delivery/pixelStore.js'
import { SqlitePixelStore } from '../src/store/sqlite/pixelStore.js'
import { SqliteWriter } from '../src/store/sqlite/sqliteWriter.js'
import { sleep, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { postJson } from './helpers/postback.js'
import { createCampaign, createWebhook } from './fixtures.js'
import { PgPixelStore } from '../src/store/postgres/pixelStore.js'
import { openPool, type Pool } from '../src/store/postgres/pool.js'
import type { Db } from '../src/core/db.js'

describe(`pixel claims on ${testProvider}`, () => {
  let t: TestApp
  let otherDb: Db
  const stores: PixelStore[] = []
  const writers: SqliteWriter[] = []
  const pools: Pool[] = []
  beforeAll(async () => {
    // an API instance runs no worker: the pixels its call events write wait in the outbox
    t = await startTestApp({ env: { ROLE: 'api' } })
    otherDb = await openDatabase(t.databaseUrl)
    for (const db of [t.app.db, otherDb]) {
      if (testProvider !== 'sqlite') {
        const pool = openPool(t.databaseUrl)
        pools.push(pool)
        stores.push(new PgPixelStore(pool))
        continue
      }
      const writer = new SqliteWriter(sqliteFilePath(t.databaseUrl))
      await writer.ready()
      writers.push(writer)
      stores.push(new SqlitePixelStore(writer, db))
    }
  })
  afterAll(async () => {
    for (const s of stores) await s.close()
    for (const w of writers) await w.close()
    for (const p of pools) await p.end()
    await otherDb?.$disconnect()
    await t?.close()
  })

  it('two claimers taking batches at once never take the same pixel; an expired lock makes a pixel due again', async () => {
    const campaignId = await createCampaign(t)
    await createWebhook(t, { campaignId, name: 'q', url: 'http://127.0.0.1:9/q' })
    for (let i = 0; i < 30; i++) {
      const r = await postJson(
        t,
        '/call-events',
        { event: 'start', campaignId, uuid: `claim-${i}`, callerNumber: '+14155550108' },
        { authorization: `Bearer ${t.company.adminKey}` },
      )
      expect(r.body.pixels.map((p: { status: string }) => p.status)).toEqual(['PENDING'])
    }
    const taken: string[][] = [[], []]
    await Promise.all(
      stores.map(async (store, i) => {
        for (let round = 0; round < 50; round++) {
          const jobs = await store.claim(3, 60_000, true)
          // on PostgreSQL a claim that met the other's row locks answers nothing although pixels are left
          if (jobs.length === 0 && taken[0]!.length + taken[1]!.length >= 30) break
          taken[i]!.push(...jobs.map((j) => j.pixel.id))
          // what a delivery needs comes with the claim
          for (const j of jobs) expect([j.pixel.status, j.webhook.name, j.call.campaignId, typeof j.tags]).toEqual(['DELIVERING', 'q', campaignId, 'object'])
          // a pause between rounds, as a worker delivers between claims: on two threads, one claimer waiting
          // out a busy database could otherwise find the other had taken everything
          await sleep(3)
        }
      }),
    )
    const all = [...taken[0]!, ...taken[1]!]
    expect(all).toHaveLength(30)
    expect(new Set(all).size).toBe(30)
    expect(taken[0]!.length).toBeGreaterThan(0)
    expect(taken[1]!.length).toBeGreaterThan(0)
    // locked: nothing is due
    expect(await stores[0]!.claim(10, 200, true)).toHaveLength(0)

    // a short lock expires: the pixel is due again (its worker is taken to be dead)
    await t.app.db.pixel.updateMany({ where: { campaignId }, data: { lockedUntil: new Date(Date.now() + 150) } })
    expect(await stores[1]!.claim(100, 60_000, true)).toHaveLength(0)
    await sleep(250)
    // only a claim that looks for them takes them over
    expect(await stores[1]!.claim(100, 60_000, false)).toHaveLength(0)
    const again = await stores[1]!.claim(100, 60_000, true)
    expect(again.map((j) => j.pixel.id).sort()).toEqual([...all].sort())

    // the worker taken for dead answers late: its outcome is not written over the one that took over
    const job = again[0]!
    const outcome = { status: 'SUCCEEDED' as const, attemptCount: 1, nextAttemptAt: null, lockedUntil: null, completedAt: new Date() }
    const attempt = {
      number: 1,
      startedAt: new Date(),
      durationMs: 3,
      statusCode: 200,
      responseHeaders: {},
      responseBody: 'ok',
      responseTruncated: false,
      error: null,
    }
    const written = await stores[1]!.settle(job, outcome, attempt, [{ key: 'late', value: 'no' }])
    expect(written?.status).toBe('SUCCEEDED')
    expect(await stores[0]!.settle(job, { ...outcome, status: 'FAILED' }, { ...attempt, statusCode: 500 }, [{ key: 'late', value: 'yes' }])).toBeNull()
    const pixel = await t.app.db.pixel.findUniqueOrThrow({ where: { id: job.pixel.id }, include: { attempts: true } })
    expect([pixel.status, pixel.attempts.map((a) => a.statusCode)]).toEqual(['SUCCEEDED', [200]])
    expect((await t.app.db.tag.findFirstOrThrow({ where: { callId: job.call.id, key: 'late' } })).value).toBe('no')
  })
})
