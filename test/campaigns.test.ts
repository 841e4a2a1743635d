import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { createCampaign } from './fixtures.js'

describe(`campaigns on ${testProvider}`, () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp()
  })
  afterAll(async () => t?.close())

  it('creates, renames, lists and archives campaigns; an archived campaign takes no calls', async () => {
    const a = await createCampaign(t, 'A')
    const b = await createCampaign(t, 'B')
    const renamed = ok(
      await t.gql<{ updateCampaign: { name: string } }>(`mutation($id:ID!){ updateCampaign(input:{id:$id, name:" A2 "}) { name } }`, { id: a }),
    )
    expect(renamed.updateCampaign.name).toBe('A2')
    const archived = ok(
      await t.gql<{ archiveCampaign: { archivedAt: string | null } }>(`mutation($id:ID!){ archiveCampaign(input:{id:$id}) { archivedAt } }`, { id: b }),
    )
    expect(archived.archiveCampaign.archivedAt).not.toBeNull()
    type List = { campaigns: { edges: { node: { id: string; name: string } }[] } }
    const active = ok(await t.gql<List>('{ campaigns { edges { node { id name } } } }')).campaigns.edges.map((e) => e.node.name)
    expect(active).toEqual(['A2'])
    const all = ok(await t.gql<List>('{ campaigns(includeArchived:true) { edges { node { id name } } } }')).campaigns.edges.map((e) => e.node.name)
    expect(all).toEqual(['B', 'A2'])
    const one = ok(await t.gql<{ campaign: { name: string } }>(`query($id:ID!){ campaign(id:$id) { name } }`, { id: b }))
    expect(one.campaign.name).toBe('B')
    const refused = await t.gql(`mutation($c:ID!){ startCall(input:{campaignId:$c, callerNumber:"4155550100"}) { uuid } }`, { c: b })
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'campaignId' })
    const empty = await t.gql(`mutation{ createCampaign(input:{name:"  "}) { id } }`)
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' })
    const missing = await t.gql(`query{ campaign(id:"nope") { id } }`)
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' })
  })
})
