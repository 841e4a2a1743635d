// Call uuids belong to their company: another company may use the same uuid for a call of its own, and
// learns nothing of the first one's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { base, request } from './helpers/postback.js'
import { createCompany, type CreatedCompany } from '../src/tenancy/createCompany.js'
import { createCampaign } from './fixtures.js'

describe(`call uuids per company on ${testProvider}`, () => {
  let t: TestApp
  let other: CreatedCompany
  let mine: string
  let theirs: string
  beforeAll(async () => {
    t = await startTestApp()
    other = await createCompany(t.app.db, 'Other')
    mine = await createCampaign(t, 'Mine')
    theirs = await createCampaign(t, 'Theirs', other.adminKey)
  })
  afterAll(async () => t?.close())

  const event = (key: string, body: Record<string, unknown>) =>
    request(`${base(t.url)}/call-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const callOf = (companyId: string) => t.app.db.call.findFirstOrThrow({ where: { companyId, uuid: 'shared-1' }, include: { tags: true } })

  it('lets two companies start calls with the same uuid, and keeps every later event, postback and read inside its company', async () => {
    expect((await event(t.company.adminKey, { event: 'start', campaignId: mine, uuid: 'shared-1', callerNumber: '4155550101' })).status).toBe(200)
    const second = await event(other.adminKey, { event: 'start', campaignId: theirs, uuid: 'shared-1', callerNumber: '4155550202' })
    expect(second.status).toBe(200)
    expect(second.body.call.callerNumber).toBe('+14155550202')
    // within one company the uuid is still taken
    const again = await event(other.adminKey, { event: 'start', campaignId: theirs, uuid: 'shared-1', callerNumber: '4155550202' })
    expect(again.status).toBe(400)
    expect(again.body.error).toMatch(/a call with uuid "shared-1" exists/)

    expect((await event(t.company.adminKey, { event: 'answered', uuid: 'shared-1' })).status).toBe(200)
    expect((await event(other.adminKey, { event: 'end', uuid: 'shared-1' })).status).toBe(200)
    expect((await callOf(t.company.companyId)).status).toBe('ANSWERED')
    expect((await callOf(other.companyId)).status).toBe('ENDED')

    const mineTagged = await request(`${base(t.url)}/postback?key=${t.company.publisherKey}&call_uuid=shared-1&who=mine`)
    const theirsTagged = await request(`${base(t.url)}/postback?key=${other.publisherKey}&call_uuid=shared-1&who=theirs`)
    expect([mineTagged.body.callerNumber, theirsTagged.body.callerNumber]).toEqual(['+14155550101', '+14155550202'])
    expect((await callOf(t.company.companyId)).tags.map((x) => [x.key, x.value])).toEqual([['who', 'mine']])
    expect((await callOf(other.companyId)).tags.map((x) => [x.key, x.value])).toEqual([['who', 'theirs']])

    const read = async (key: string) =>
      ok(await t.gql<{ call: { callerNumber: string; status: string } }>('{ call(uuid:"shared-1") { callerNumber status } }', {}, key)).call
    expect(await read(t.company.adminKey)).toEqual({ callerNumber: '+14155550101', status: 'ANSWERED' })
    expect(await read(other.adminKey)).toEqual({ callerNumber: '+14155550202', status: 'ENDED' })
  })

  it('starts the same uuid in two companies at the same moment, both taken', async () => {
    const [a, b] = await Promise.all([
      event(t.company.adminKey, { event: 'start', campaignId: mine, uuid: 'shared-2', callerNumber: '4155550101' }),
      event(other.adminKey, { event: 'start', campaignId: theirs, uuid: 'shared-2', callerNumber: '4155550202' }),
    ])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(await t.app.db.call.count({ where: { uuid: 'shared-2' } })).toBe(2)
  })
})
