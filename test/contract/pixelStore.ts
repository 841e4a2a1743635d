// The PixelStore port's contract (src/delivery/pixelStore.ts), run by every backend
// (test/stores.contract.test.ts): claims never give one pixel to two workers, a pixel whose worker's lock
// expired is taken over, an outcome writes the attempt and the response's tags, and a late outcome from a
// worker taken for dead writes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PixelStore } from '../../src/delivery/pixelStore.js'
import type { HealthSample } from '../../src/delivery/health.js'
import { newId } from '../../src/core/ids.js'
import type { Backend } from './backends.js'

export function pixelStoreContract(open: () => Promise<Backend>): void {
  describe('pixel store contract', () => {
    let b: Backend
    let a: PixelStore
    let other: PixelStore
    let ids: { companyId: string; campaignId: string; webhookId: string; callId: string }
    beforeAll(async () => {
      b = await open()
      const company = await b.db.company.create({ data: { name: 'A' } })
      const campaign = await b.db.campaign.create({ data: { companyId: company.id, name: 'c' } })
      const webhook = await b.db.webhook.create({
        data: {
          companyId: company.id,
          campaignId: campaign.id,
          name: 'w',
          trigger: 'CALL_START',
          matches: [],
          method: 'POST',
          urlTemplate: 'http://127.0.0.1:9/x',
          headers: [],
        },
      })
      const call = await b.db.call.create({
        data: { companyId: company.id, campaignId: campaign.id, uuid: 'c1', callerNumber: '+14155550100', status: 'STARTED' },
      })
      await b.db.tag.create({ data: { callId: call.id, key: 'state', value: 'CA', source: 'API' } })
      ids = { companyId: company.id, campaignId: campaign.id, webhookId: webhook.id, callId: call.id }
      a = await b.pixels()
      other = await b.pixels()
    })
    afterAll(async () => b?.close())

    const pending = (n: number, fields: Record<string, unknown> = {}) =>
      b.db.pixel.createManyAndReturn({
        data: Array.from({ length: n }, () => ({
          ...ids,
          callerNumber: '+14155550100',
          trigger: 'CALL_START',
          status: 'PENDING',
          nextAttemptAt: new Date(Date.now() - 1000),
          id: newId(),
          ...fields,
        })),
      })
    const clear = () => b.db.pixel.deleteMany({})

    it('claims due pixels with what their deliveries need; two claimers at once never take the same one', async () => {
      await clear()
      const made = await pending(40)
      await pending(3, { nextAttemptAt: new Date(Date.now() + 3600_000) })
      const taken: string[][] = [[], []]
      await Promise.all(
        [a, other].map(async (store, i) => {
          for (let round = 0; round < 60; round++) {
            const jobs = await store.claim(4, 60_000, true)
            for (const j of jobs) {
              expect([j.pixel.status, j.webhook.id, j.call.id, j.tags]).toEqual(['DELIVERING', ids.webhookId, ids.callId, { state: 'CA' }])
              taken[i]!.push(j.pixel.id)
            }
            if (taken[0]!.length + taken[1]!.length >= made.length) break
            await new Promise((r) => setTimeout(r, 2))
          }
        }),
      )
      const all = [...taken[0]!, ...taken[1]!]
      expect(all.sort()).toEqual(made.map((p) => p.id).sort())
      // not yet due, and locked: nothing more to claim
      expect(await a.claim(10, 60_000, true)).toEqual([])
    })

    it('takes over a pixel whose lock expired (its worker died), but only when asked to look for such', async () => {
      await clear()
      const [p] = await pending(1)
      expect(await a.claim(1, 50, false)).toHaveLength(1)
      await new Promise((r) => setTimeout(r, 120))
      expect(await other.claim(1, 60_000, false)).toEqual([])
      const again = await other.claim(1, 60_000, true)
      expect(again.map((j) => j.pixel.id)).toEqual([p!.id])
    })

    it('writes an outcome with its attempt and the tags it gave; a late outcome of a worker taken for dead writes nothing', async () => {
      await clear()
      await pending(1)
      const [job] = await a.claim(1, 50, false)
      await new Promise((r) => setTimeout(r, 120))
      const [taken] = await other.claim(1, 60_000, true)
      const attempt = {
        number: 1,
        startedAt: new Date(),
        durationMs: 5,
        statusCode: 200,
        responseHeaders: { 'content-type': 'application/json' },
        responseBody: '{"bid":"2"}',
        responseTruncated: false,
        error: null,
      }
      const done = {
        status: 'SUCCEEDED' as const,
        attemptCount: 1,
        nextAttemptAt: null,
        lockedUntil: null,
        completedAt: new Date(),
        tagsApplied: { bid: '2' },
        request: { method: 'POST', url: 'http://x', headers: {}, body: null },
      }
      // the worker that was taken for dead answers late: it can neither keep the pixel nor write its outcome
      expect(await a.holdLock(job!, new Date(Date.now() + 60_000))).toBe(false)
      expect(await a.settle(job!, done, attempt, [{ key: 'bid', value: '1' }])).toBeNull()
      const written = await other.settle(taken!, done, attempt, [{ key: 'bid', value: '2' }])
      expect(written).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1 })
      const stored = await b.db.pixel.findUniqueOrThrow({ where: { id: taken!.pixel.id }, include: { attempts: true } })
      expect(stored).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1, tagsApplied: { bid: '2' }, lockedUntil: null })
      expect(stored.attempts.map((x) => [x.number, x.statusCode, x.responseBody])).toEqual([[1, 200, '{"bid":"2"}']])
      expect(await b.db.tag.findFirstOrThrow({ where: { callId: ids.callId, key: 'bid' } })).toMatchObject({
        value: '2',
        source: 'WEBHOOK',
        sourceId: taken!.pixel.id,
      })
      // a second outcome of the same attempt (it was written already) writes nothing either
      expect(await other.settle(taken!, done, attempt, [])).toBeNull()
    })

    it('adds every attempt to its health buckets with the outcomes, in the same batch, across batches and workers', async () => {
      await clear()
      await b.db.healthBucket.deleteMany({})
      const at = new Date('2026-12-01T12:34:56.000Z')
      const sample = (kind: HealthSample['kind'], durationMs: number, when = at): HealthSample => ({
        companyId: ids.companyId,
        webhookId: ids.webhookId,
        origin: 'http://127.0.0.1:9',
        at: when.getTime(),
        kind,
        durationMs,
      })
      const settleWith = async (store: PixelStore, health: HealthSample) => {
        await pending(1)
        const [job] = await store.claim(1, 60_000, false)
        const update = { status: 'SUCCEEDED' as const, attemptCount: 1, nextAttemptAt: null, lockedUntil: null, completedAt: new Date() }
        return store.settle(job!, update, null, [], health)
      }
      // one batch (settled in the same turn), then another from a second worker
      await Promise.all([settleWith(a, sample('success', 40)), settleWith(a, sample('http5xx', 120)), settleWith(a, sample('timeout', 1000))])
      await settleWith(other, sample('success', 3, new Date('2026-12-01T12:35:10.000Z')))
      const rows = await b.db.healthBucket.findMany({ orderBy: [{ period: 'asc' }, { bucketStart: 'asc' }] })
      expect(
        rows.map((r) => [r.period, r.bucketStart.toISOString(), r.attempts, r.successes, r.http5xx, r.timeouts, r.answered, r.le5, r.le50, r.le150]),
      ).toEqual([
        ['HOUR', '2026-12-01T12:00:00.000Z', 4, 2, 1, 1, 3, 1, 1, 1],
        ['MINUTE', '2026-12-01T12:34:00.000Z', 3, 1, 1, 1, 2, 0, 1, 1],
        ['MINUTE', '2026-12-01T12:35:00.000Z', 1, 1, 0, 0, 1, 1, 0, 0],
      ])
      expect(rows[0]).toMatchObject({ latencySumMs: 163, lastSuccessAt: new Date('2026-12-01T12:35:10.000Z'), lastFailureAt: at, companyId: ids.companyId })
    })

    it('loads one pixel with its webhook and call, and holds its lock until told', async () => {
      await clear()
      const [p] = await pending(1, { status: 'DELIVERING', lockedUntil: new Date(Date.now() + 1000) })
      const job = await a.load(p!.id)
      expect([job.pixel.id, job.webhook.id, job.call.id, job.tags?.state]).toEqual([p!.id, ids.webhookId, ids.callId, 'CA'])
      const until = new Date(Date.now() + 3600_000)
      expect(await a.holdLock(job, until)).toBe(true)
      expect(job.pixel.lockedUntil!.getTime()).toBe(until.getTime())
      expect((await b.db.pixel.findUniqueOrThrow({ where: { id: p!.id } })).lockedUntil!.getTime()).toBe(until.getTime())
    })
  })
}
