// The PostbackStore port's contract (src/postbacks/postbackWriter.ts), run by every backend
// (test/stores.contract.test.ts) through the postback writer as the server uses it: matching by call_uuid
// within the company, by number to the newest call inside the key's window (and campaign), pending tags
// otherwise; every postback of a batch written, one bad row failing alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/core/ids.js'
import { type PostbackRecord, PostbackWriter } from '../../src/postbacks/postbackWriter.js'
import type { Backend } from './backends.js'

export function postbackStoreContract(open: () => Promise<Backend>): void {
  describe('postback store contract', () => {
    let b: Backend
    let writer: PostbackWriter
    let companyId: string
    let otherCompanyId: string
    let campaignId: string
    let otherCampaignId: string
    let apiKeyId: string
    let otherKeyId: string
    beforeAll(async () => {
      b = await open()
      companyId = (await b.db.company.create({ data: { name: 'A' } })).id
      otherCompanyId = (await b.db.company.create({ data: { name: 'B' } })).id
      campaignId = (await b.db.campaign.create({ data: { companyId, name: 'c' } })).id
      otherCampaignId = (await b.db.campaign.create({ data: { companyId: otherCompanyId, name: 'o' } })).id
      apiKeyId = (await b.db.apiKey.create({ data: { companyId, name: 'p', role: 'PUBLISHER', prefix: 'p', hash: 'h1' } })).id
      otherKeyId = (await b.db.apiKey.create({ data: { companyId: otherCompanyId, name: 'p', role: 'PUBLISHER', prefix: 'p', hash: 'h2' } })).id
      writer = new PostbackWriter(b.postbacks())
    })
    afterAll(async () => {
      await writer?.close()
      await b?.close()
    })

    const record = (fields: Partial<PostbackRecord>): PostbackRecord => ({
      id: newId(),
      companyId,
      apiKeyId,
      pinnedCampaignId: null,
      pendingTtlSeconds: 3600,
      channel: 'REST_GET',
      contentType: null,
      rawBody: 'raw',
      tags: { age: '30' },
      problems: [],
      callUuid: null,
      callerNumber: null,
      idempotencyKey: null,
      sourceIp: null,
      userAgent: null,
      receivedAt: new Date(),
      rejection: null,
      ...fields,
    })
    const call = (company: string, campaign: string, uuid: string, callerNumber: string, startedAt = new Date()) =>
      b.db.call.create({ data: { companyId: company, campaignId: campaign, uuid, callerNumber, status: 'STARTED', startedAt } })

    it('matches call_uuid within the company only', async () => {
      const mine = await call(companyId, campaignId, 'same', '+14155550201')
      await call(otherCompanyId, otherCampaignId, 'same', '+14155550202')
      const [a, missing] = await Promise.all([writer.write(record({ callUuid: 'same' })), writer.write(record({ callUuid: 'nope' }))])
      expect(a).toMatchObject({ callId: mine.id, answer: { outcome: 'CALL_FOUND', callUuid: 'same', callerNumber: '+14155550201' } })
      expect(missing.answer).toMatchObject({ httpStatus: 404, outcome: 'REJECTED' })
      const theirs = await writer.write(record({ companyId: otherCompanyId, apiKeyId: otherKeyId, callUuid: 'same', tags: { who: 'b' } }))
      expect(theirs.answer.callerNumber).toBe('+14155550202')
      expect((await b.db.tag.findMany({ where: { callId: mine.id } })).map((t) => [t.key, t.value, t.source])).toEqual([['age', '30', 'POSTBACK']])
    })

    it('matches a number to its newest call inside the window (and the pinned campaign), else stores the tags as pending', async () => {
      const number = '+14155550203'
      const second = await b.db.campaign.create({ data: { companyId, name: 'second' } })
      await call(companyId, campaignId, 'old', number, new Date(Date.now() - 7200_000))
      const newest = await call(companyId, campaignId, 'new', number, new Date(Date.now() - 60_000))
      await call(companyId, second.id, 'other-campaign', number, new Date(Date.now() - 30_000))
      const pinned = await writer.write(record({ callerNumber: number, pinnedCampaignId: campaignId }))
      expect(pinned).toMatchObject({ callId: newest.id, answer: { outcome: 'CALL_FOUND' } })
      const stored = await writer.write(record({ callerNumber: '+14155550299', tags: { zip: '94103' } }))
      expect(stored.answer.outcome).toBe('TAGS_STORED')
      const pending = await b.db.pendingTag.findMany({ where: { postbackId: stored.record.id } })
      expect(pending.map((p) => [p.key, p.value, p.callerNumber])).toEqual([['zip', '94103', '+14155550299']])
      expect(pending[0]!.expiresAt.getTime()).toBe(stored.record.receivedAt.getTime() + 3600_000)
      // outside the window: stored, not matched
      const late = await writer.write(record({ callerNumber: number, pendingTtlSeconds: 10, pinnedCampaignId: campaignId }))
      expect(late.answer.outcome).toBe('TAGS_STORED')
    })

    it('writes every postback of a batch, refused ones too; a repeated Idempotency-Key fails alone', async () => {
      const before = await b.db.postback.count()
      const results = await Promise.allSettled([
        writer.write(record({ callerNumber: '+14155550204', idempotencyKey: 'k1' })),
        writer.write(record({ rejection: { httpStatus: 400, error: 'bad' }, problems: [{ code: 'INVALID_BODY', message: 'bad' }] })),
        writer.write(record({ callerNumber: '+14155550204', idempotencyKey: 'k1' })),
        writer.write(record({ callerNumber: '+14155550205' })),
      ])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
      expect(await b.db.postback.count()).toBe(before + 3)
      const refused = await b.db.postback.findFirstOrThrow({ where: { outcome: 'REJECTED', httpStatus: 400 } })
      expect(refused.problems).toEqual([{ code: 'INVALID_BODY', message: 'bad' }])
    })
  })
}
