import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompany, type CreatedCompany } from '../src/tenancy/createCompany.js'
import { collect, ok, sleep, startTestApp, untilSubscribed, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { createCampaign, startCall } from './fixtures.js'

describe(`tenant isolation on ${testProvider}`, () => {
  let t: TestApp
  let other: CreatedCompany
  let campaignId: string
  let webhookId: string
  let uuid: string
  beforeAll(async () => {
    t = await startTestApp()
    other = await createCompany(t.app.db, 'Rival')
    campaignId = await createCampaign(t, 'Mine')
    uuid = (await startCall(t, { campaignId, uuid: 'mine-1' })).uuid
    webhookId = ok(
      await t.gql<{ createWebhook: { id: string } }>(
        `mutation($c:ID!){ createWebhook(input:{campaignId:$c, name:"w", trigger:CALL_END, url:"https://b.example/x"}) { id } }`,
        { c: campaignId },
      ),
    ).createWebhook.id
  })
  afterAll(async () => t?.close())

  it("answers NOT_FOUND for another company's ids, reading or writing, and changes nothing", async () => {
    const as = (q: string, v: Record<string, unknown> = {}) => t.gql(q, { c: campaignId, w: webhookId, u: uuid, ...v }, other.adminKey)
    const attempts = [
      `query($c:ID!){ campaign(id:$c) { id } }`,
      `query($u:String!){ call(uuid:$u) { id } }`,
      `query($w:ID!){ webhook(id:$w) { id } }`,
      `mutation($c:ID!){ updateCampaign(input:{id:$c, name:"stolen"}) { id } }`,
      `mutation($c:ID!){ archiveCampaign(input:{id:$c}) { id } }`,
      `mutation($c:ID!){ startCall(input:{campaignId:$c, callerNumber:"4155550100"}) { id } }`,
      `mutation($u:String!){ answerCall(input:{uuid:$u}) { id } }`,
      `mutation($u:String!){ endCall(input:{uuid:$u}) { id } }`,
      `mutation($u:String!){ convertCall(input:{uuid:$u}) { id } }`,
      `mutation($u:String!){ addCallTags(input:{uuid:$u, tags:[{key:"x", value:"y"}]}) { id } }`,
      `mutation($w:ID!){ updateWebhook(input:{id:$w, name:"stolen"}) { id } }`,
      `mutation($w:ID!){ deleteWebhook(input:{id:$w}) { id } }`,
      `mutation($c:ID!){ createWebhook(input:{campaignId:$c, name:"w", trigger:CALL_END, url:"https://b.example/x"}) { id } }`,
      `mutation($c:ID!){ createApiKey(input:{name:"p", role:PUBLISHER, campaignId:$c}) { secret } }`,
    ]
    for (const q of attempts) {
      const r = await as(q)
      expect(r.errors?.[0]?.extensions?.code, q).toBe('NOT_FOUND')
    }
    const mine = await t.app.db.call.findFirstOrThrow({ where: { uuid, companyId: t.company.companyId }, include: { tags: true, campaign: true } })
    expect(mine.status).toBe('STARTED')
    expect(mine.tags).toEqual([])
    expect(mine.campaign.name).toBe('Mine')
    expect(mine.campaign.archivedAt).toBeNull()
    expect((await t.app.db.webhook.findUniqueOrThrow({ where: { id: webhookId } })).deletedAt).toBeNull()
    const myKeys = await t.app.db.apiKey.findMany({ where: { companyId: t.company.companyId } })
    const myKeyId = myKeys[0]!.id
    const revoke = await as(`mutation($k:ID!){ revokeApiKey(input:{id:$k}) { id } }`, { k: myKeyId })
    expect(revoke.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    expect((await t.app.db.apiKey.findUniqueOrThrow({ where: { id: myKeyId } })).revokedAt).toBeNull()
  })

  it("lists none of another company's rows", async () => {
    const r = ok(
      await t.gql<Record<string, { edges: unknown[] } | unknown[]>>(
        `{ campaigns { edges { node { id } } } calls { edges { node { id } } } postbacks { edges { node { id } } } pixels { edges { node { id } } } apiKeys { id } }`,
        {},
        other.adminKey,
      ),
    )
    expect(r.campaigns).toEqual({ edges: [] })
    expect(r.calls).toEqual({ edges: [] })
    expect(r.postbacks).toEqual({ edges: [] })
    expect(r.pixels).toEqual({ edges: [] })
    expect((r.apiKeys as unknown[]).length).toBe(2)
  })

  it("never delivers one company's call events to another company's subscriber", async () => {
    const mineSub = collect(t.wsClient(), `subscription { callUpdated { event call { uuid } } }`)
    const theirSub = collect(t.wsClient(other.adminKey), `subscription { callUpdated { event call { uuid } } }`)
    const theirCampaign = await createCampaign(t, 'Theirs', other.adminKey)
    const theirProbe = await startCall(t, { campaignId: theirCampaign, uuid: 'their-probe' }, other.adminKey)
    await untilSubscribed(mineSub, () => t.gql(`mutation{ addCallTags(input:{uuid:"mine-1", tags:[{key:"probe", value:"1"}]}) { id } }`))
    await untilSubscribed(theirSub, () =>
      t.gql(`mutation($u:String!){ addCallTags(input:{uuid:$u, tags:[{key:"probe", value:"1"}]}) { id } }`, { u: theirProbe.uuid }, other.adminKey),
    )

    ok(await t.gql(`mutation{ answerCall(input:{uuid:"mine-1"}) { id } }`))
    await mineSub.waitFor(1)
    await sleep(200)
    expect(mineSub.events).toEqual([{ callUpdated: { event: 'ANSWERED', call: { uuid: 'mine-1' } } }])
    expect(theirSub.events).toEqual([])
    // and their subscription cannot name my campaign
    const sneaky = collect(t.wsClient(other.adminKey), `subscription($c:ID!){ callUpdated(campaignId:$c) { event } }`, { c: campaignId })
    await expect(sneaky.waitFor(1, 3000)).rejects.toThrow(/campaign not found/)
  })
})
