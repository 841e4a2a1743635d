import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashApiKeySecret } from '../src/tenancy/apiKeySecret.js'
import { gql, ok, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'

describe(`auth on ${testProvider}`, () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp()
  })
  afterAll(async () => t?.close())

  it('refuses a request without a key, with a wrong key and with a malformed header: 401 UNAUTHENTICATED', async () => {
    for (const key of [null, 'rh_adm_not-a-key']) {
      const r = await gql(t.url, '{ company { id } }', {}, key)
      expect(r.status).toBe(401)
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
      expect(r.data ?? null).toBeNull()
    }
  })

  it('answers the company of an admin key', async () => {
    const d = ok(await t.gql<{ company: { id: string; name: string } }>('{ company { id name } }'))
    expect(d.company).toEqual({ id: t.company.companyId, name: 'Acme' })
  })

  it('shows a new key once, stores only its hash, and a revoked key stops working', async () => {
    const created = ok(
      await t.gql<{ createApiKey: { secret: string; apiKey: { id: string; prefix: string; role: string } } }>(
        `mutation { createApiKey(input:{name:"ci", role:ADMIN}) { secret apiKey { id prefix role } } }`,
      ),
    ).createApiKey
    expect(created.secret).toMatch(/^rh_adm_/)
    expect(created.secret.startsWith(created.apiKey.prefix)).toBe(true)
    const row = await t.app.db.apiKey.findUniqueOrThrow({ where: { id: created.apiKey.id } })
    expect(row.hash).toBe(hashApiKeySecret(created.secret))
    expect(JSON.stringify(row)).not.toContain(created.secret)
    const listed = ok(await t.gql<{ apiKeys: Record<string, unknown>[] }>('{ apiKeys { id name prefix role revokedAt } }'))
    expect(JSON.stringify(listed)).not.toContain(created.secret)

    expect(ok(await t.gql<{ company: { id: string } }>('{ company { id } }', {}, created.secret)).company.id).toBe(t.company.companyId)
    ok(await t.gql(`mutation($id:ID!){ revokeApiKey(input:{id:$id}) { revokedAt } }`, { id: created.apiKey.id }))
    const after = await t.gql('{ company { id } }', {}, created.secret)
    expect(after.status).toBe(401)
    expect(after.errors?.[0]?.message).toMatch(/revoked/)
  })

  it('lets a publisher key do nothing but postbacks: FORBIDDEN on queries and mutations', async () => {
    for (const q of ['{ campaigns { edges { node { id } } } }', 'mutation { createCampaign(input:{name:"x"}) { id } }', '{ company { id } }']) {
      const r = await t.gql(q, {}, t.company.publisherKey)
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
      expect(r.errors?.[0]?.message).toMatch(/publisher key/)
    }
    expect(await t.app.db.campaign.count({ where: { name: 'x' } })).toBe(0)
  })

  it('publisher keys may pin a campaign and a tag prefix; admin keys may not', async () => {
    const r = await t.gql(`mutation { createApiKey(input:{name:"a", role:ADMIN, tagPrefix:"pub"}) { secret } }`)
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tagPrefix' })
    const p = ok(
      await t.gql<{ createApiKey: { apiKey: { tagPrefix: string; pendingTtlSeconds: number; role: string } } }>(
        `mutation { createApiKey(input:{name:"p", role:PUBLISHER, tagPrefix:"pub", pendingTtlSeconds:3600}) { apiKey { role tagPrefix pendingTtlSeconds } } }`,
      ),
    )
    expect(p.createApiKey.apiKey).toEqual({ role: 'PUBLISHER', tagPrefix: 'pub', pendingTtlSeconds: 3600 })
  })
})
