// Agendash at /agendash/: the operator key opens it (Basic or Bearer), its page and assets come from the
// package, its API lists Ringhook's jobs (the repeating ones and a bulk replay asked for).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, sleep, startBareServer, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'

const OPERATOR_KEY = 'operator-key-for-the-tests-0123456789'
const basic = (password: string, user = 'ops') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

interface AgendashJobs {
  overview: { displayName: string; total: number }[]
  jobs: { job: { _id: string; name: string; data: Record<string, unknown> | null; repeatInterval?: string } }[]
  total: number
}

describe(`Agendash on ${testProvider}`, () => {
  let t: TestApp
  let base: string
  beforeAll(async () => {
    t = await startTestApp({ env: { OPERATOR_KEY } })
    base = t.app.url
  })
  afterAll(async () => t?.close())

  it('asks for the operator key: 401 with a Basic challenge without it or with another key', async () => {
    for (const authorization of [undefined, basic('wrong-key'), `Bearer ${t.company.adminKey}`, 'Basic !!!']) {
      const res = await fetch(`${base}/agendash/`, { headers: authorization ? { authorization } : {} })
      expect(res.status, authorization).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Ringhook jobs", charset="UTF-8"')
      expect(((await res.json()) as { error: string }).error).toMatch(/operator key/)
    }
    const api = await fetch(`${base}/agendash/api`)
    expect(api.status).toBe(401)
  })

  it('serves its page and every asset it names, locally, with its CSP', async () => {
    const redirect = await fetch(`${base}/agendash`, { headers: { authorization: basic(OPERATOR_KEY) }, redirect: 'manual' })
    expect(redirect.status).toBe(301)
    expect(redirect.headers.get('location')).toBe('/agendash/')
    const page = await fetch(`${base}/agendash/`, { headers: { authorization: basic(OPERATOR_KEY, '') } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
    const html = await page.text()
    const assets = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1]!)
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true)
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true)
    // nothing from another origin
    expect(html).not.toMatch(/(?:src|href)="https?:/)
    for (const asset of assets) {
      const res = await fetch(`${base}/agendash/${asset}`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })
      expect(res.status, asset).toBe(200)
      expect(res.headers.get('content-type'), asset).toMatch(asset.endsWith('.js') ? /javascript/ : /text\/css/)
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100)
    }
    const missing = await fetch(`${base}/agendash/assets/%2e%2e/%2e%2e/package.json`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })
    expect(missing.status).toBe(404)
  })

  it('lists the jobs: the repeating ones and a bulk replay asked for', async () => {
    const list = async (query = '') => {
      const res = await fetch(`${base}/agendash/api${query}`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })
      expect(res.status).toBe(200)
      return (await res.json()) as AgendashJobs
    }
    const all = await list()
    const names = all.jobs.map((j) => j.job.name)
    expect(names).toContain('expire-pending-tags')
    expect(names).toContain('purge-retention')
    expect(all.overview.map((o) => o.displayName)).toEqual(expect.arrayContaining(['All Jobs', 'expire-pending-tags', 'purge-retention']))

    // a replay of nothing still is a job: asked for, it appears
    const campaign = await t.app.db.campaign.create({ data: { companyId: t.company.companyId, name: 'Agendash' } })
    const replay = ok(await t.gql(`mutation($i:ReplayPixelsInput!){ replayPixels(input:$i) { job { id } } }`, { i: { filter: { campaignId: campaign.id } } }))
      .replayPixels.job
    const deadline = Date.now() + 10_000
    let replays: AgendashJobs['jobs'] = []
    while (replays.length === 0 && Date.now() < deadline) {
      replays = (await list('?job=replay-pixels')).jobs.filter((j) => j.job.data?.replayJobId === replay.id)
      if (!replays.length) await sleep(50)
    }
    expect(replays).toHaveLength(1)
    expect(replays[0]!.job.name).toBe('replay-pixels')

    const stats = await fetch(`${base}/agendash/api/stats`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })
    expect(stats.status).toBe(200)
    const unknown = await fetch(`${base}/agendash/api/nothing`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })
    expect(unknown.status).toBe(404)
  })

  it('changes jobs only on JSON from its own page: other content types 415, other sites 403 in words', async () => {
    const auth = { authorization: basic(OPERATOR_KEY) }
    // what the dashboard's page sends: JSON, from its own origin
    const own = { ...auth, 'content-type': 'application/json', origin: base, 'sec-fetch-site': 'same-origin' }
    const post = (route: string, body: unknown, headers: Record<string, string>) =>
      fetch(`${base}/agendash/api/jobs/${route}`, { method: 'POST', headers, body: JSON.stringify(body) })
    const probes = async () => {
      const res = await fetch(`${base}/agendash/api?job=csrf-probe`, { headers: auth })
      return ((await res.json()) as AgendashJobs).jobs.map((j) => j.job._id)
    }
    const created = await post('create', { jobName: 'csrf-probe', jobSchedule: 'in 1 day' }, own)
    expect(created.status).toBe(200)
    expect(await created.json()).toEqual({ created: true })
    const [id] = await probes()
    expect(id).toBeTruthy()

    const host = new URL(base).host
    for (const [headers, status, words] of [
      // a cross-site form (enctype="text/plain") as a browser sends it, with the cached Basic credentials
      [{ ...auth, 'content-type': 'text/plain', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, 403, /another/],
      [{ ...auth, 'content-type': 'text/plain' }, 415, /application\/json/],
      [{ ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 415, /application\/json/],
      [{ ...auth }, 415, /application\/json/],
      [{ ...auth, 'content-type': 'application/json', origin: 'http://evil.example' }, 403, /evil\.example/],
      [{ ...auth, 'content-type': 'application/json', origin: `https://${host}.evil.example` }, 403, /another origin/],
      [{ ...auth, 'content-type': 'application/json', origin: 'null' }, 403, /another origin/],
      [{ ...auth, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, 403, /another site/],
    ] as const) {
      for (const route of ['delete', 'requeue', 'create']) {
        const res = await post(route, route === 'create' ? { jobName: 'csrf-probe' } : { jobIds: [id] }, headers)
        expect(res.status, `${route} ${JSON.stringify(headers)}`).toBe(status)
        expect(((await res.json()) as { error: string }).error).toMatch(words)
      }
    }
    expect(await probes()).toEqual([id])

    // JSON from its own page (or a tool that sends no Origin, or a proxy's public host) still works
    const proxied = { ...auth, 'content-type': 'application/json; charset=utf-8', origin: 'https://jobs.example.com', 'x-forwarded-host': 'jobs.example.com' }
    expect((await post('pause', { jobIds: [id] }, proxied)).status).toBe(200)
    expect((await post('resume', { jobIds: [id] }, { ...auth, 'content-type': 'application/json' })).status).toBe(200)
    const deleted = await post('delete', { jobIds: [id] }, own)
    expect(deleted.status).toBe(200)
    expect(await deleted.json()).toEqual({ deleted: true, deletedCount: 1 })
    expect(await probes()).toEqual([])
  })

  it('is not served without an operator key configured: 404 in words', async () => {
    const bare = await startBareServer(t.databaseUrl)
    try {
      const res = await fetch(`${bare.url}/agendash/`, { headers: { authorization: basic(OPERATOR_KEY) } })
      expect(res.status).toBe(404)
      expect(((await res.json()) as { error: string }).error).toMatch(/OPERATOR_KEY/)
    } finally {
      await bare.close()
    }
  })
})
