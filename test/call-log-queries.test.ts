import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { createCampaign } from './fixtures.js'

const PAGE = `query($n:Int!){ calls(first:$n) { edges { node { uuid callerNumber status campaign { id name } tags { key value source } state: tag(key:"state") { value } } } } }`

describe(`call log SQL statements on ${testProvider}`, () => {
  let t: TestApp
  let statements: string[] = []
  beforeAll(async () => {
    // no delivery worker (ROLE=api): its background reads (circuit probes) would be counted with the page's
    t = await startTestApp({ env: { ROLE: 'api' }, onQuery: (sql) => statements.push(sql) })
    const campaigns = [await createCampaign(t, 'A'), await createCampaign(t, 'B'), await createCampaign(t, 'C')]
    for (let i = 0; i < 60; i++) {
      await t.app.db.call.create({
        data: {
          uuid: `n1-${i}`,
          companyId: t.company.companyId,
          campaignId: campaigns[i % 3]!,
          callerNumber: `+1415555${String(1000 + i)}`,
          status: 'STARTED',
          startedAt: new Date(Date.UTC(2026, 10, 30, 0, i)),
          tags: {
            create: [
              { key: 'state', value: 'CA', source: 'API' },
              { key: 'age', value: String(20 + i), source: 'API' },
              { key: 'lead', value: `L${i}`, source: 'API' },
            ],
          },
        },
      })
    }
  })
  afterAll(async () => t?.close())

  async function countFor(n: number): Promise<number> {
    statements = []
    const data = ok(await t.gql<{ calls: { edges: { node: { tags: unknown[]; campaign: { name: string }; state: { value: string } } }[] } }>(PAGE, { n }))
    expect(data.calls.edges).toHaveLength(n)
    for (const e of data.calls.edges) {
      expect(e.node.tags).toHaveLength(3)
      expect(e.node.state.value).toBe('CA')
      expect(['A', 'B', 'C']).toContain(e.node.campaign.name)
    }
    return statements.filter((s) => /^\s*(SELECT|WITH)/i.test(s)).length
  }

  it('loads a page of 50 calls with campaign and tags in a small constant number of statements (no N+1)', async () => {
    const for50 = await countFor(50)
    const for5 = await countFor(5)
    // auth key lookup + calls + campaigns + tags + the batched tag(key:) loader
    expect(for50).toBeGreaterThanOrEqual(4) // the statements are really counted
    expect(for50).toBeLessThanOrEqual(6)
    expect(for50).toBe(for5)
  })

  it("loads the dashboard's call log page (Pixels Fired: summary, pixels and their webhooks) in a constant number of statements", async () => {
    const campaignId = (await t.app.db.campaign.findFirstOrThrow({ where: { companyId: t.company.companyId } })).id
    const webhook = await t.app.db.webhook.create({
      data: {
        companyId: t.company.companyId,
        campaignId,
        name: 'hook',
        trigger: 'CALL_END',
        matches: [],
        method: 'POST',
        urlTemplate: 'http://x.test/',
        headers: [],
      },
    })
    const calls = await t.app.db.call.findMany({ where: { companyId: t.company.companyId } })
    await t.app.db.pixel.createMany({
      data: calls.flatMap((c, i) =>
        ['SUCCEEDED', 'FAILED'].slice(0, 1 + (i % 2)).map((status) => ({
          companyId: t.company.companyId,
          campaignId: c.campaignId,
          webhookId: webhook.id,
          callId: c.id,
          callerNumber: c.callerNumber,
          trigger: 'CALL_END',
          status,
        })),
      ),
    })
    // the query web/src/pages/CallLog.tsx sends
    const DASHBOARD = `query($first:Int){ calls(first:$first) { edges { node { id uuid callerNumber status startedAt campaign { id name }
      pixelSummary { count succeeded failed pending cancelled } pixels { id status trigger webhook { id name } } } }
      pageInfo { hasNextPage endCursor } } }`
    const count = async (first: number) => {
      statements = []
      const d = ok(
        await t.gql<{ calls: { edges: { node: { pixelSummary: { count: number }; pixels: { webhook: { name: string } }[] } }[] } }>(DASHBOARD, { first }),
      )
      expect(d.calls.edges).toHaveLength(first)
      for (const e of d.calls.edges) expect(e.node.pixels.map((p) => p.webhook.name)).toHaveLength(e.node.pixelSummary.count)
      return statements.filter((s) => /^\s*(SELECT|WITH)/i.test(s)).length
    }
    const for50 = await count(50)
    expect(for50).toBeGreaterThanOrEqual(4)
    expect(for50).toBe(await count(5))
  })
})
