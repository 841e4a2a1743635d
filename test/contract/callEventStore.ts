// The CallEventStore port's contract (src/calls/callEvents.ts), run by every backend
// (test/stores.contract.test.ts): the lifecycle, refusals that write nothing, batches, pending tags, the
// dedupe window, timers and the handover of pixels to the worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CallEventInput, type CallEventStore, checkCallEvent, type RecordedCallEvent } from '../../src/calls/callEvents.js'
import { SharedSlots } from '../../src/delivery/sharedSlots.js'
import type { Backend } from './backends.js'

export function callEventStoreContract(open: () => Promise<Backend>): void {
  describe('call-event store contract', () => {
    let b: Backend
    let store: CallEventStore
    let companyId: string
    let otherCompanyId: string
    let campaignId: string
    let seq = 0
    beforeAll(async () => {
      b = await open()
      const company = await b.db.company.create({ data: { name: 'A' } })
      const other = await b.db.company.create({ data: { name: 'B' } })
      companyId = company.id
      otherCompanyId = other.id
      campaignId = (await b.db.campaign.create({ data: { companyId, name: 'c' } })).id
      store = await b.callEvents()
    })
    afterAll(async () => b?.close())

    const record = (input: CallEventInput, company = companyId) => store.record(company, checkCallEvent(input))
    const uuid = () => `u-${++seq}`
    const webhook = (campaign: string, data: Record<string, unknown>) =>
      b.db.webhook.create({
        data: {
          companyId,
          campaignId: campaign,
          name: `w${++seq}`,
          trigger: 'CALL_START',
          matches: [],
          method: 'POST',
          urlTemplate: 'http://127.0.0.1:9/x',
          headers: [],
          ...data,
        },
      })
    const newCampaign = async () => (await b.db.campaign.create({ data: { companyId, name: `c${++seq}` } })).id

    it('records a lifecycle: start, answered, end (duration from the answer), conversion; states as stored', async () => {
      const id = uuid()
      const t0 = new Date(Date.now() - 120_000)
      const started = await record({ event: 'START', campaignId, callerNumber: '+14155550101', uuid: id, startedAt: t0, tags: [{ key: 'state', value: 'CA' }] })
      expect(started).toMatchObject({ published: 'STARTED', call: { uuid: id, status: 'STARTED', callerNumber: '+14155550101' }, pixels: [] })
      await record({ event: 'ANSWER', uuid: id, answeredAt: new Date(t0.getTime() + 10_000) })
      const ended = await record({ event: 'END', uuid: id, endedAt: new Date(t0.getTime() + 70_000) })
      expect(ended.call).toMatchObject({ status: 'ENDED', durationSeconds: 60 })
      const converted = await record({ event: 'CONVERSION', uuid: id, tags: [{ key: 'sale', value: '10' }] })
      expect(converted).toMatchObject({ published: 'CONVERTED', call: { converted: true } })
      const stored = await b.db.call.findFirstOrThrow({ where: { companyId, uuid: id }, include: { tags: { orderBy: { key: 'asc' } } } })
      expect(stored).toMatchObject({ status: 'ENDED', durationSeconds: 60, converted: true })
      expect(stored.tags.map((t) => [t.key, t.value, t.source])).toEqual([
        ['sale', '10', 'CALL_EVENT'],
        ['state', 'CA', 'CALL_EVENT'],
      ])
    })

    it('stores tag values as sent, whatever quotes, backslashes, SQL or characters they hold', async () => {
      const id = uuid()
      const values = [`O'Brien`, `a\\'b\\\\c`, `'); DROP TABLE "Call"; --`, `$1 $$x$$ E'\\n'`, `"quoted"`, `日本語 🚀 \u00e9`, ``, `line\nbreak\ttab`]
      const tags = values.map((value, i) => ({ key: `k${i}`, value }))
      await record({ event: 'START', campaignId, callerNumber: '+14155550109', uuid: id, tags })
      await record({ event: 'CONVERSION', uuid: id, tags: [{ key: 'k0', value: `it's "done" \\` }] })
      const stored = await b.db.tag.findMany({ where: { call: { companyId, uuid: id } } })
      const byKey = Object.fromEntries(stored.map((t) => [t.key, t.value]))
      expect(byKey).toEqual({ ...Object.fromEntries(tags.map((t) => [t.key, t.value])), k0: `it's "done" \\` })
    })

    it('refuses what the state does not allow, writing nothing: unknown campaign or call, a uuid taken, a second end', async () => {
      const id = uuid()
      await record({ event: 'START', campaignId, callerNumber: '+14155550102', uuid: id })
      const refusals: [CallEventInput, string, RegExp][] = [
        [{ event: 'START', campaignId: 'nope', callerNumber: '+14155550102' }, 'campaignId', /campaign not found/],
        [{ event: 'START', campaignId, callerNumber: '+14155550102', uuid: id }, 'uuid', /exists/],
        [{ event: 'ANSWER', uuid: 'missing' }, 'uuid', /call not found/],
        [{ event: 'END', uuid: id, endedAt: new Date(0 + Date.now() - 3600_000 * 24 * 365) }, 'endedAt', /before the call started/],
      ]
      const calls = await b.db.call.count()
      for (const [input, field, message] of refusals) await expect(record(input)).rejects.toMatchObject({ field, message: expect.stringMatching(message) })
      await record({ event: 'END', uuid: id })
      await expect(record({ event: 'END', uuid: id })).rejects.toMatchObject({ field: 'uuid', message: expect.stringMatching(/already ended/) })
      expect(await b.db.call.count()).toBe(calls)
    })

    it('decides the events of one batch in order, each on the state the ones before left, a refused one alone', async () => {
      const id = uuid()
      const results = await Promise.allSettled([
        record({ event: 'START', campaignId, callerNumber: '+14155550103', uuid: id }),
        record({ event: 'ANSWER', uuid: id }),
        record({ event: 'ANSWER', uuid: id }),
        record({ event: 'END', uuid: id }),
      ])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
      expect((results[3] as PromiseFulfilledResult<RecordedCallEvent>).value.call.status).toBe('ENDED')
      expect((await b.db.call.findFirstOrThrow({ where: { companyId, uuid: id } })).status).toBe('ENDED')
    })

    it('lets another company use the same uuid', async () => {
      const id = uuid()
      const otherCampaign = (await b.db.campaign.create({ data: { companyId: otherCompanyId, name: 'o' } })).id
      await record({ event: 'START', campaignId, callerNumber: '+14155550104', uuid: id })
      await expect(record({ event: 'START', campaignId: otherCampaign, callerNumber: '+14155550105', uuid: id }, otherCompanyId)).resolves.toBeTruthy()
      await expect(record({ event: 'ANSWER', uuid: id }, otherCompanyId)).resolves.toMatchObject({ call: { callerNumber: '+14155550105' } })
      expect((await b.db.call.findFirstOrThrow({ where: { companyId, uuid: id } })).status).toBe('STARTED')
    })

    it('applies the pending tags of a number that calls in, oldest first, used up, the event tags winning; not expired ones only', async () => {
      const number = '+14155550106'
      const key = await b.db.apiKey.create({ data: { companyId, name: 'p', role: 'PUBLISHER', prefix: 'p', hash: `h${++seq}` } })
      const postback = (id: string) =>
        b.db.postback.create({
          data: { id, companyId, apiKeyId: key.id, channel: 'REST_GET', rawBody: '', outcome: 'TAGS_STORED', httpStatus: 200, callerNumber: number },
        })
      await postback('pb1')
      await postback('pb2')
      const soon = new Date(Date.now() + 3600_000)
      await b.db.pendingTag.createMany({
        data: [
          { companyId, callerNumber: number, postbackId: 'pb1', key: 'age', value: '30', expiresAt: soon, createdAt: new Date(Date.now() - 3000) },
          { companyId, callerNumber: number, postbackId: 'pb2', key: 'age', value: '31', expiresAt: soon, createdAt: new Date(Date.now() - 2000) },
          { companyId, callerNumber: number, postbackId: 'pb2', key: 'state', value: 'NV', expiresAt: soon, createdAt: new Date(Date.now() - 1000) },
          { companyId, callerNumber: number, postbackId: 'pb1', key: 'old', value: 'x', expiresAt: new Date(Date.now() - 1000) },
        ],
      })
      const id = uuid()
      await record({ event: 'START', campaignId, callerNumber: number, uuid: id, tags: [{ key: 'state', value: 'CA' }] })
      const call = await b.db.call.findFirstOrThrow({ where: { companyId, uuid: id }, include: { tags: { orderBy: { key: 'asc' } } } })
      expect(call.tags.map((t) => [t.key, t.value, t.source, t.sourceId])).toEqual([
        ['age', '31', 'POSTBACK', 'pb2'],
        ['state', 'CA', 'CALL_EVENT', null],
      ])
      expect((await b.db.pendingTag.findMany({ where: { callerNumber: number } })).map((p) => p.key)).toEqual(['old'])
      expect((await b.db.postback.findMany({ where: { id: { in: ['pb1', 'pb2'] } }, orderBy: { id: 'asc' } })).map((p) => p.callId)).toEqual([call.id, call.id])
      // a second call of the number finds them used up
      const again = uuid()
      await record({ event: 'START', campaignId, callerNumber: number, uuid: again })
      expect(await b.db.tag.count({ where: { call: { uuid: again } } })).toBe(0)
    })

    it('fires a webhook with a dedupe window once per caller inside it', async () => {
      const campaign = await newCampaign()
      const w = await webhook(campaign, { dedupeWindowSeconds: 600 })
      const fire = async (callerNumber: string) => (await record({ event: 'START', campaignId: campaign, callerNumber, uuid: uuid() })).pixels.length
      expect(await fire('+14155550107')).toBe(1)
      expect(await fire('+14155550107')).toBe(0)
      expect(await fire('+14155550108')).toBe(1)
      // two of one caller in one batch: the second sees the first
      const both = await Promise.all([fire('+14155550109'), fire('+14155550109')])
      expect(both).toEqual([1, 0])
      expect(await b.db.pixel.count({ where: { webhookId: w.id } })).toBe(3)
    })

    it('writes a timer at the answer, due timerSeconds later, and cancels it when the call ends before it', async () => {
      const campaign = await newCampaign()
      const timer = await webhook(campaign, { trigger: 'TIMER', timerSeconds: 60 })
      const id = uuid()
      await record({ event: 'START', campaignId: campaign, callerNumber: '+14155550110', uuid: id })
      const answered = await record({ event: 'ANSWER', uuid: id })
      expect(answered.pixels).toMatchObject([{ webhookId: timer.id, status: 'PENDING', trigger: 'TIMER' }])
      expect(answered.pixels[0]!.nextAttemptAt!.getTime()).toBe(answered.call.answeredAt!.getTime() + 60_000)
      const ended = await record({ event: 'END', uuid: id })
      expect(ended.cancelled).toMatchObject([{ id: answered.pixels[0]!.id, status: 'CANCELLED' }])
      expect(await b.db.pixel.findUniqueOrThrow({ where: { id: answered.pixels[0]!.id } })).toMatchObject({ status: 'CANCELLED', nextAttemptAt: null })
      // answered and ended in one batch: the timer is written cancelled
      const quick = uuid()
      await record({ event: 'START', campaignId: campaign, callerNumber: '+14155550110', uuid: quick })
      const [, end] = await Promise.all([record({ event: 'ANSWER', uuid: quick }), record({ event: 'END', uuid: quick })])
      expect(end.cancelled).toHaveLength(1)
      expect((await b.db.pixel.findFirstOrThrow({ where: { call: { uuid: quick } } })).status).toBe('CANCELLED')
    })

    it('hands pixels over while the worker has room (written DELIVERING, locked), the rest PENDING', async () => {
      const campaign = await newCampaign()
      await webhook(campaign, {})
      await webhook(campaign, {})
      const slots = SharedSlots.create(3)
      const handing = await b.callEvents(slots)
      const start = () => handing.record(companyId, checkCallEvent({ event: 'START', campaignId: campaign, callerNumber: '+14155550111', uuid: uuid() }))
      const first = await start()
      expect(first.handoff).toHaveLength(2)
      expect(first.pixels.map((p) => [p.status, p.lockedUntil !== null])).toEqual([
        ['DELIVERING', true],
        ['DELIVERING', true],
      ])
      const second = await start()
      expect(second.handoff).toHaveLength(1)
      expect(second.pixels.map((p) => p.status).sort()).toEqual(['DELIVERING', 'PENDING'])
      expect(slots.free).toBe(0)
      const stored = await b.db.pixel.findMany({ where: { campaignId: campaign } })
      expect(stored.filter((p) => p.status === 'DELIVERING')).toHaveLength(3)
    })
  })
}
