import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { createCampaign } from './fixtures.js'

const FIELDS = `id name trigger timerSeconds method url body bodyType timeoutMs maxAttempts retryBaseDelayMs enabled hasSigningSecret dedupeWindowSeconds
  headers { name value } matches { conditions { key operator value values } } responseMapping { mode prefix paths { path tag } }`
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`

describe(`webhook configuration on ${testProvider}`, () => {
  let t: TestApp
  let campaignId: string
  beforeAll(async () => {
    t = await startTestApp()
    campaignId = await createCampaign(t)
  })
  afterAll(async () => t?.close())

  const create = (input: Record<string, unknown>) =>
    t.gql<{ createWebhook: Record<string, any> }>(`mutation($i:CreateWebhookInput!){ createWebhook(input:$i) { ${FIELDS} } }`, {
      i: { campaignId, name: 'Buyer ping', trigger: 'CALL_START', url: 'https://buyer.example/ping?n=[caller_number]', ...input },
    })

  it('creates a webhook with defaults, then updates and deletes it', async () => {
    const created = ok(
      await create({
        headers: [{ name: 'X-Api-Key', value: 'k-[campaign_id]' }],
        body: '{"caller":"[caller_number]","duration":[call_duration],"state":"[caller_state|geo_state:unknown]"}',
        matches: [
          {
            conditions: [
              { key: 'Caller State', operator: 'IN', values: ['CA', 'NV'] },
              { key: 'age', operator: 'GREATER_THAN', value: '30' },
            ],
          },
        ],
        responseMapping: { mode: 'PATHS', prefix: 'buyer', paths: [{ path: 'bid.price', tag: 'bid_price' }] },
        signingSecret: SECRET,
      }),
    ).createWebhook
    expect(created).toMatchObject({
      trigger: 'CALL_START',
      method: 'POST',
      bodyType: 'JSON',
      timeoutMs: 5000,
      maxAttempts: 5,
      enabled: true,
      hasSigningSecret: true,
      timerSeconds: null,
      matches: [
        {
          conditions: [
            { key: 'caller_state', operator: 'IN', values: ['CA', 'NV'], value: null },
            { key: 'age', operator: 'GREATER_THAN', value: '30', values: null },
          ],
        },
      ],
      responseMapping: { mode: 'PATHS', prefix: 'buyer', paths: [{ path: 'bid.price', tag: 'bid_price' }] },
    })
    expect(JSON.stringify(created)).not.toContain(SECRET)

    const updated = ok(
      await t.gql<{ updateWebhook: Record<string, any> }>(`mutation($i:UpdateWebhookInput!){ updateWebhook(input:$i) { ${FIELDS} } }`, {
        i: { id: created.id, trigger: 'TIMER', timerSeconds: 90, method: 'GET', enabled: false, signingSecret: null, responseMapping: null },
      }),
    ).updateWebhook
    expect(updated).toMatchObject({
      trigger: 'TIMER',
      timerSeconds: 90,
      method: 'GET',
      enabled: false,
      hasSigningSecret: false,
      name: 'Buyer ping',
      responseMapping: null,
    })

    const listed = ok(await t.gql<{ campaign: { webhooks: { id: string }[] } }>(`query($c:ID!){ campaign(id:$c) { webhooks { id } } }`, { c: campaignId }))
    expect(listed.campaign.webhooks.map((w) => w.id)).toContain(created.id)
    ok(await t.gql(`mutation($id:ID!){ deleteWebhook(input:{id:$id}) { id } }`, { id: created.id }))
    const gone = await t.gql(`query($id:ID!){ webhook(id:$id) { id } }`, { id: created.id })
    expect(gone.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' })
    const after = ok(await t.gql<{ campaign: { webhooks: { id: string }[] } }>(`query($c:ID!){ campaign(id:$c) { webhooks { id } } }`, { c: campaignId }))
    expect(after.campaign.webhooks.map((w) => w.id)).not.toContain(created.id)
  })

  it('refuses invalid configuration with a message naming the field, and stores nothing', async () => {
    const before = await t.app.db.webhook.count()
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'not a url' }, 'url'],
      [{ url: 'ftp://buyer.example/x' }, 'url'],
      [{ url: 'https://buyer.example/[caller_number' }, 'url'],
      [{ trigger: 'ON_HOLD' }, 'trigger'],
      [{ trigger: 'TIMER' }, 'timerSeconds'],
      [{ timerSeconds: 30 }, 'timerSeconds'],
      [{ timeoutMs: 60_000 }, 'timeoutMs'],
      [{ maxAttempts: 0 }, 'maxAttempts'],
      [{ method: 'FETCH' }, 'method'],
      [{ body: '{"a": [caller_number' }, 'body'],
      [{ headers: [{ name: 'Bad Header', value: 'x' }] }, 'headers[0].name'],
      [{ matches: [{ conditions: [{ key: 'age', operator: 'GREATER_THAN', value: 'old' }] }] }, 'matches[0].conditions[0].value'],
      [{ matches: [{ conditions: [{ key: 'state', operator: 'EQUALS' }] }] }, 'matches[0].conditions[0].value'],
      [{ matches: [{ conditions: [] }] }, 'matches[0].conditions'],
      [{ responseMapping: { mode: 'PATHS' } }, 'responseMapping.paths'],
      [{ signingSecret: 'secret' }, 'signingSecret'],
      [{ name: ' ' }, 'name'],
      [{ campaignId: 'nope' }, 'campaignId'],
    ]
    for (const [input, field] of cases) {
      const r = await create(input)
      expect(r.errors?.[0]?.extensions?.field, JSON.stringify(input)).toBe(field)
      expect(['BAD_USER_INPUT', 'NOT_FOUND']).toContain(r.errors?.[0]?.extensions?.code)
      expect(r.errors?.[0]?.message).toContain(
        field
          .split('.')
          .pop()!
          .replace(/\[\d+\]$/, ''),
      )
    }
    expect(await t.app.db.webhook.count()).toBe(before)
  })

  it('refuses token functions it cannot run, naming the field and the function, and stores nothing', async () => {
    const before = await t.app.db.webhook.count()
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ body: '{"em":"[shaa256(email)]"}' }, 'body', /^body: unknown function "shaa256" in \[shaa256\(email\)\]; functions: sha256, sha1, md5, /],
      [{ url: 'https://buyer.example/p?d=[date()]' }, 'url', /^url: date takes 1 to 3 arguments, \[date\(\)\] gives 0$/],
      [
        {
          headers: [
            { name: 'X-A', value: 'a' },
            { name: 'X-Hash', value: '[sha256(lower(email)]' },
          ],
        },
        'headers[1].value',
        /^headers\[1\]\.value: \[sha256\(lower\(email\)\] is not a valid token: expected "," or "\)" in the arguments of sha256/,
      ],
      [{ bodyType: 'TEXT', body: 'at [date(call_start, "%Y", "America/Nowhere")]' }, 'body', /^body: date: "America\/Nowhere" is not a time zone/],
    ]
    for (const [input, field, message] of cases) {
      const r = await create(input)
      expect(r.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field })
      expect(r.errors?.[0]?.message).toMatch(message)
    }
    const id = ok(await create({ body: '{"em":"[sha256(lower(trim(email)))]","ids":[1,2]}' })).createWebhook.id
    const update = await t.gql(`mutation($i:UpdateWebhookInput!){ updateWebhook(input:$i) { id } }`, {
      i: { id, url: 'https://buyer.example/p?n=[digits(caller_number, 2)]' },
    })
    expect(update.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' })
    expect(update.errors?.[0]?.message).toBe('url: digits takes 1 argument, [digits(caller_number, 2)] gives 2')
    expect(await t.app.db.webhook.count()).toBe(before + 1)
    expect((await t.app.db.webhook.findUniqueOrThrow({ where: { id } })).urlTemplate).toBe('https://buyer.example/ping?n=[caller_number]')
  })

  it('never exposes the signing secret: the Webhook type has no field for it', async () => {
    const r = ok(await t.gql<{ __type: { fields: { name: string }[] } }>(`{ __type(name:"Webhook") { fields { name } } }`))
    const names = r.__type.fields.map((f) => f.name)
    expect(names).toContain('hasSigningSecret')
    expect(names.filter((n) => /secret/i.test(n))).toEqual(['hasSigningSecret'])
  })
})
