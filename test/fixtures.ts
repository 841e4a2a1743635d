import { ok, type TestApp } from './helpers/app.js'

export async function createCampaign(t: TestApp, name = 'Solar leads', key?: string): Promise<string> {
  const d = ok(await t.gql<{ createCampaign: { id: string } }>(`mutation($n:String!){ createCampaign(input:{name:$n}) { id } }`, { n: name }, key))
  return d.createCampaign.id
}

export async function startCall(
  t: TestApp,
  input: { campaignId: string; callerNumber?: string; uuid?: string; startedAt?: string; tags?: { key: string; value: string }[] },
  key?: string,
): Promise<{ uuid: string; id: string; callerNumber: string }> {
  const d = ok(
    await t.gql<{ startCall: { uuid: string; id: string; callerNumber: string } }>(
      `mutation($i:StartCallInput!){ startCall(input:$i) { id uuid callerNumber } }`,
      { i: { callerNumber: '+14155550100', ...input } },
      key,
    ),
  )
  return d.startCall
}

/** A webhook (CALL_START unless given) through the API; answers its id. */
export async function createWebhook(t: TestApp, input: { campaignId: string } & Record<string, unknown>): Promise<string> {
  const d = ok(
    await t.gql<{ createWebhook: { id: string } }>(`mutation($i:CreateWebhookInput!){ createWebhook(input:$i) { id } }`, {
      i: { name: `w${Math.random()}`, trigger: 'CALL_START', ...input },
    }),
  )
  return d.createWebhook.id
}
