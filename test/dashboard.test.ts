// The dashboard in a real browser (Debian's chromium through playwright-core) against the real server: a day
// of calls, postbacks and webhooks driven through the pages, with screenshots of each page under
// .test-results/screenshots/<database>/ to look at. Also what the server answers for the dashboard's paths.
import fs from 'node:fs'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, startTestApp, type TestApp } from './helpers/app.js'
import { launchChromium } from './helpers/chromium.js'
import { testProvider } from './helpers/db.js'
import { base, postJson, request } from './helpers/postback.js'
import { type Receiver, settledPixels, startReceiver } from './helpers/receiver.js'
import { createCampaign, createWebhook } from './fixtures.js'

const shots = path.resolve(import.meta.dirname, '../.test-results/screenshots', testProvider)
const WAIT = { timeout: 15_000 }

describe(`the dashboard in a browser (${testProvider} pass)`, () => {
  let t: TestApp
  let receiver: Receiver
  let browser: Browser
  let root: string

  beforeAll(async () => {
    t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '50' } })
    root = base(t.url)
    receiver = await startReceiver()
    browser = await launchChromium()
    fs.mkdirSync(shots, { recursive: true })
  })
  afterAll(async () => {
    await browser?.close()
    await receiver?.close()
    await t?.close()
  })

  /** A browser tab that records every console error and page error, to assert there were none. */
  async function openTab(width = 1280, height = 900): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width, height } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`)
    })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    return { context, page, problems }
  }

  async function signIn(page: Page, key: string) {
    await page.goto(`${root}/`)
    await page.getByLabel('API key').fill(key)
    await page.getByRole('button', { name: 'Sign in' }).click()
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true })

  it('serves the dashboard at / without shadowing the API, and GraphiQL with local assets', async () => {
    const page = await fetch(`${root}/calls/some-call`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
    const html = await page.text()
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    expect(asset).toBeDefined()
    const js = await fetch(`${root}${asset}`, { headers: { 'accept-encoding': 'identity' } })
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(js.headers.get('cache-control')).toContain('immutable')
    const plain = await js.text()
    // a browser that accepts gzip gets the build's gzip copy (fetch decodes it)
    const zipped = await fetch(`${root}${asset}`, { headers: { 'accept-encoding': 'gzip' } })
    expect(zipped.headers.get('content-encoding')).toBe('gzip')
    expect(Number(zipped.headers.get('content-length'))).toBeLessThan(plain.length / 2)
    expect(await zipped.text()).toBe(plain)

    const missing = await request(`${root}/assets/nothing-here.js`)
    expect(missing.status).toBe(404)
    expect(missing.body.error).toMatch(/no file/)
    for (const sneaky of ['/assets/../../package.json', '/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json']) {
      const res = await fetch(`${root}${sneaky}`)
      expect(res.status, sneaky).toBe(404)
      expect(await res.text()).not.toContain('"name": "ringhook"')
    }
    // the API's paths keep their own answers
    const wrongMethod = await request(`${root}/call-events`)
    expect(wrongMethod.status).toBe(404)
    expect(wrongMethod.body.error).toMatch(/no route for GET \/call-events/)
    expect((await request(`${root}/postback/anything`)).status).toBe(404)
    expect((await request(`${root}/healthz`)).body).toEqual({ status: 'ok' })
    const openapi = await fetch(`${root}/openapi.json`)
    expect(openapi.headers.get('content-type')).toMatch(/json/)
    await openapi.arrayBuffer()

    const graphiql = await fetch(`${root}/graphql`, { headers: { accept: 'text/html' } })
    expect(graphiql.status).toBe(200)
    const graphiqlHtml = await graphiql.text()
    expect(graphiqlHtml).toContain('YogaGraphiQL')
    // every asset is inlined: nothing is loaded from another host
    expect(graphiqlHtml).not.toMatch(/<script[^>]+src="https?:/)
    expect(graphiqlHtml).not.toMatch(/<link[^>]+href="https?:/)
  })

  it('tells a wrong key and a publisher key why they cannot sign in', async () => {
    const { context, page } = await openTab()
    try {
      await signIn(page, 'rh_adm_not-a-real-key')
      await page.getByText('This API key is not valid').waitFor(WAIT)
      await signIn(page, t.company.publisherKey)
      await page.getByText('This is a publisher key').waitFor(WAIT)
      await shot(page, 'sign-in-publisher-key')
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
      expect(page.url()).not.toContain(t.company.publisherKey)
    } finally {
      await context.close()
    }
  })

  it('drives a day through the pages: call log, call, pixels, postbacks, webhook form, test fire, health, replay, live tail', async () => {
    // the day's set-up, through the API: a campaign, its webhooks, a publisher key
    receiver.on('/enrich', { status: 200, body: JSON.stringify({ buyer: { name: 'Acme Insurance', bid: 12.5 }, accepted: true }) })
    receiver.on('/crm', { status: 500, headers: { 'content-type': 'text/plain' }, body: 'upstream exploded' })
    const campaignId = await createCampaign(t, 'Auto insurance')
    await createWebhook(t, {
      campaignId,
      name: 'Buyer enrich',
      trigger: 'CALL_START',
      // a long unbroken value, as tracking URLs have: the pages must wrap it at phone width
      url: `${receiver.url}/enrich?caller=[caller_number]&ref=${'r'.repeat(150)}`,
      body: '{"caller":"[caller_number]","state":"[caller_state]"}',
      responseMapping: { mode: 'ALL', prefix: 'buyer_' },
    })
    const crmId = await createWebhook(t, {
      campaignId,
      name: 'CRM on end',
      trigger: 'CALL_END',
      url: `${receiver.url}/crm`,
      maxAttempts: 2,
      retryBaseDelayMs: 100,
    })
    const publisher = ok(
      await t.gql<{ createApiKey: { secret: string } }>(`mutation { createApiKey(input: { name: "Lead partner", role: PUBLISHER }) { secret } }`),
    ).createApiKey.secret

    const { context, page, problems } = await openTab()
    try {
      await signIn(page, t.company.adminKey)
      await page.getByRole('heading', { name: 'Calls' }).waitFor(WAIT)
      expect(await page.evaluate(() => sessionStorage.getItem('ringhook.apiKey'))).toBe(t.company.adminKey)

      // a webhook made in the form: the API's error is shown at the field it names, then fixed
      await page.goto(`${root}/campaigns/${campaignId}/webhooks/new`)
      await page.getByLabel('Name', { exact: true }).fill('California only')
      await page.getByLabel('Trigger').selectOption('CALL_END')
      await page.getByRole('button', { name: 'Add condition' }).click()
      await page.getByLabel('Tag key').fill('caller_state')
      await page.getByLabel('Value', { exact: true }).fill('CA')
      await page.getByLabel('URL').fill(`${receiver.url}/ca`)
      await page.getByRole('button', { name: 'Add header' }).click()
      await page.getByLabel('Header name').fill('bad name')
      await page.getByLabel('Header value').fill('1')
      await page.getByLabel('Window (seconds, whole minutes)').fill('7')
      await page.getByRole('button', { name: 'Create webhook' }).click()
      const headerName = page.getByLabel('Header name')
      await page.locator('#wh-headers-0-name-error').waitFor(WAIT)
      expect(await headerName.getAttribute('aria-invalid')).toBe('true')
      expect(await page.locator('#wh-headers-0-name-error').textContent()).toContain('"bad name" is not a valid header name')
      await shot(page, 'webhook-form-error')
      await headerName.fill('x-source')
      await page.getByRole('button', { name: 'Create webhook' }).click()
      await page.locator('#wh-circuitBreaker-windowSeconds-error').waitFor(WAIT)
      expect(await page.locator('#wh-circuitBreaker-windowSeconds-error').textContent()).toContain('must be an integer from 60 to 86400')
      await page.getByLabel('Window (seconds, whole minutes)').fill('')
      await page.getByRole('button', { name: 'Create webhook' }).click()
      await page.getByRole('link', { name: 'Health and circuit' }).waitFor(WAIT)
      expect(page.url()).toMatch(/\/webhooks\/[^/]+\?tab=settings$/)
      // and edited: saved, the form reads back what the API stored
      await page.getByLabel('Timeout (ms)').fill('3000')
      await page.getByRole('button', { name: 'Save changes' }).click()
      await page.getByText(/^Saved at/).waitFor(WAIT)
      expect(await page.getByLabel('Timeout (ms)').inputValue()).toBe('3000')

      // a postback before the call, a refused one, then the call with its start and end webhooks
      const early = await postJson(t, '/postback', { caller_number: '+14155550100', caller_state: 'TX', age: 39 }, { 'x-ringhook-key': publisher })
      expect(early.body.status).toBe('call not found, tags stored')
      const refused = await postJson(t, '/postback', '{"caller_number": "+14155550100", broken', { 'x-ringhook-key': publisher })
      const longTag = await postJson(
        t,
        '/postback',
        { caller_number: `+1415555${'0'.repeat(120)}`, click_id: 'c'.repeat(150) },
        { 'x-ringhook-key': publisher },
      )
      expect(longTag.status).toBe(400)
      expect(refused.status).toBe(400)
      const headers = { authorization: `Bearer ${t.company.adminKey}` }
      expect((await postJson(t, '/call-events', { event: 'start', campaignId, uuid: 'CA-DAY-1', callerNumber: '+14155550100' }, headers)).status).toBe(200)
      expect((await postJson(t, '/call-events', { event: 'answered', uuid: 'CA-DAY-1' }, headers)).status).toBe(200)
      expect((await postJson(t, '/call-events', { event: 'end', uuid: 'CA-DAY-1' }, headers)).status).toBe(200)
      const pixels = await settledPixels(t, 'CA-DAY-1', 2)
      expect(pixels.map((p) => p.status).sort()).toEqual(['FAILED', 'SUCCEEDED'])

      // the call log: Pixels Fired at a glance, and at phone width
      await page.goto(`${root}/calls`)
      const row = page.locator('tr', { hasText: '+14155550100' })
      await row.waitFor(WAIT)
      expect(await row.locator('td[data-label="Pixels Fired"]').textContent()).toContain('1 succeeded, 1 failed')
      await shot(page, 'call-log')
      await page.setViewportSize({ width: 390, height: 844 })
      await shot(page, 'call-log-phone')
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
      await page.setViewportSize({ width: 1280, height: 900 })

      // the call: why a webhook did not fire, the early postback in the timeline, tags with their source
      await row.getByRole('link', { name: '+14155550100' }).click()
      await page.getByRole('heading', { name: /Call from/ }).waitFor(WAIT)
      const notFired = page.locator('.eval.not-fired', { hasText: 'California only' })
      await notFired.waitFor(WAIT)
      expect(await notFired.textContent()).toMatch(/caller_state equals CA — the call has TX/)
      expect(await page.locator('ol.timeline').textContent()).toContain('Postback received: call not found, tags stored')
      expect(await page.locator('tr', { hasText: 'buyer__buyer_name' }).textContent()).toContain('webhook response')
      await shot(page, 'call-overview')

      // the failing pixel: the request as sent and the 500 with its body
      await page.locator('.panel', { hasText: 'Pixels fired' }).getByRole('link', { name: 'CRM on end' }).click()
      await page.getByRole('heading', { name: /CRM on end/ }).waitFor(WAIT)
      // two attempts (a 500 is retried); the last one is open
      await page.locator('pre[data-label="response body 2"]', { hasText: 'upstream exploded' }).waitFor(WAIT)
      expect(await page.locator('.panel', { hasText: 'Request' }).first().textContent()).toContain(`POST ${receiver.url}/crm`)
      expect(await page.locator('details.attempt summary').first().textContent()).toContain('HTTP 500')
      await shot(page, 'pixel-failed')
      // the answering pixel: its JSON answer pretty-printed, the tags it wrote
      await page.goBack()
      await page.locator('.panel', { hasText: 'Pixels fired' }).getByRole('link', { name: 'Buyer enrich' }).click()
      await page.getByRole('heading', { name: /Buyer enrich/ }).waitFor(WAIT)
      await page.locator('pre[data-label="response body 1"]').waitFor(WAIT)
      expect(await page.locator('pre[data-label="response body 1"]').textContent()).toContain('"name": "Acme Insurance"')
      expect(await page.locator('.panel', { hasText: 'Tags applied' }).textContent()).toContain('buyer__buyer_bid')
      // the early postback's tag reached the start webhook's request
      expect(await page.locator('pre[data-label="request body"]').textContent()).toContain('"state": "TX"')
      // the headers each attempt adds are named; the API keeps no per-attempt values of them
      const pixelId = new URL(page.url()).pathname.split('/').at(-1)
      expect(await page.locator('.panel', { hasText: 'Request' }).first().textContent()).toContain(
        `Each attempt also sent webhook-id: ${pixelId} and webhook-timestamp`,
      )
      await shot(page, 'pixel-succeeded')
      await page.setViewportSize({ width: 390, height: 844 })
      await shot(page, 'pixel-succeeded-phone')
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
      await page.setViewportSize({ width: 1280, height: 900 })

      // the postback log: the refused postback's raw body and why
      await page.getByRole('link', { name: 'Postbacks', exact: true }).click()
      const refusedCard = page.locator('article.postback.rejected', { hasText: 'broken' })
      await refusedCard.waitFor(WAIT)
      expect(await refusedCard.locator('pre[data-label="raw payload"]').textContent()).toBe('{"caller_number": "+14155550100", broken')
      expect(await refusedCard.locator('.problems').textContent()).toMatch(/invalid body/)
      await page.getByLabel('Outcome').selectOption('REJECTED')
      await page.getByRole('button', { name: 'Apply' }).click()
      await page.waitForURL(/outcome=REJECTED/)
      await page.locator('article.postback', { hasText: 'c'.repeat(150) }).waitFor(WAIT)
      await shot(page, 'postback-log')
      await page.setViewportSize({ width: 390, height: 844 })
      await shot(page, 'postback-log-phone')
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
      await page.setViewportSize({ width: 1280, height: 900 })

      // the webhooks of the campaign, a test fire with its request and response, the health page
      await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
      await page.getByRole('link', { name: 'Auto insurance' }).click()
      await page.getByRole('link', { name: 'Buyer enrich' }).click()
      await page.getByRole('heading', { name: 'Circuit' }).waitFor(WAIT)
      await page.locator('.chart canvas').first().waitFor(WAIT)
      await shot(page, 'webhook-health')
      await page.getByRole('link', { name: 'Test fire' }).click()
      await page.getByLabel('Tag key').fill('caller_state')
      await page.getByLabel('Tag value').fill('NV')
      const enrichBefore = receiver.received('/enrich').length
      await page.getByRole('button', { name: 'Test fire', exact: true }).click()
      const result = page.getByRole('region', { name: 'Test fire result' })
      await result.waitFor(WAIT)
      expect(await result.textContent()).toContain('HTTP 200')
      expect(await result.locator('pre[data-label="test request body"]').textContent()).toContain('"state": "NV"')
      expect(receiver.received('/enrich').length).toBe(enrichBefore + 1)
      await shot(page, 'webhook-test-fire')

      // replay the failing webhook's failed pixels: a dry-run count, then the run and its progress
      await page.goto(`${root}/webhooks/${crmId}?tab=replay`)
      await page.getByRole('button', { name: 'Count pixels (dry run)' }).click()
      await page.getByText('1 pixel match.').waitFor(WAIT)
      await page.getByRole('button', { name: 'Replay 1 pixel' }).click()
      await page.locator('section[aria-label="Replay progress"]', { hasText: '1 of 1 replayed' }).waitFor(WAIT)
      await shot(page, 'webhook-replay')

      // the live tail hears a postback as it happens (a connected stream is subscribed a moment later: send
      // until one arrives, bounded)
      await page.getByRole('link', { name: 'Live tail' }).click()
      await page.getByText('Waiting for events').waitFor(WAIT)
      for (let i = 0; i < 50 && (await page.locator('ol.tail li').count()) === 0; i++) {
        await postJson(t, '/postback', { caller_number: '+14155550177', lead_source: `tail-${i}` }, { 'x-ringhook-key': publisher })
        await page.waitForTimeout(200)
      }
      await page.locator('ol.tail li', { hasText: '+14155550177' }).first().waitFor(WAIT)
      await shot(page, 'live-tail')
      // what a screen reader is told: pausing and resuming, never each event or count
      const announced = () => page.locator('[aria-live], [role="status"], [role="log"], [role="alert"]').allTextContents()
      expect(await announced()).toEqual(['Listening.'])
      await page.getByRole('button', { name: 'Pause' }).click()
      await postJson(t, '/postback', { caller_number: '+14155550177', lead_source: 'while paused' }, { 'x-ringhook-key': publisher })
      await page.getByText(/1 new event waiting/).waitFor(WAIT)
      expect(await announced()).toEqual(['Paused.'])
      await page.getByRole('button', { name: 'Resume' }).click()

      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByLabel('API key').waitFor(WAIT)
      expect(await page.evaluate(() => sessionStorage.getItem('ringhook.apiKey'))).toBeNull()
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  }, 120_000)

  it('says when a call has more postbacks than it lists, with the postback log by its caller number', async () => {
    const campaignId = await createCampaign(t, 'Busy line')
    const headers = { authorization: `Bearer ${t.company.adminKey}` }
    expect((await postJson(t, '/call-events', { event: 'start', campaignId, uuid: 'CA-BUSY', callerNumber: '+14155550188' }, headers)).status).toBe(200)
    for (let n = 0; n < 52; n++) await postJson(t, '/postback', { caller_number: '+14155550188', n }, { 'x-ringhook-key': t.company.publisherKey })
    const { context, page, problems } = await openTab()
    try {
      await signIn(page, t.company.adminKey)
      await page.goto(`${root}/calls/CA-BUSY`)
      const more = page.getByText('The first 50 of 52 postbacks are listed')
      await more.waitFor(WAIT)
      expect(await page.locator('.panel', { hasText: 'Postbacks that reached it' }).locator('ul.plain li').count()).toBe(50)
      await page.getByRole('link', { name: 'The postback log for +14155550188' }).click()
      await page.waitForURL(/\/postbacks\?caller=%2B14155550188$/)
      await page.locator('article.postback').first().waitFor(WAIT)
      expect(await page.locator('article.postback').count()).toBe(50)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('pages the campaigns, and the campaign filters say when they list only some and show a campaign they did not list', async () => {
    const ids: string[] = []
    // more than the filters list (200), created oldest first: the first one made is on no filter's list
    for (let i = 0; i < 205; i++) ids.push(await createCampaign(t, `Bulk ${String(i).padStart(3, '0')}`))
    const oldest = ids[0]!
    const { context, page, problems } = await openTab()
    try {
      await signIn(page, t.company.adminKey)
      await page.getByRole('heading', { name: 'Calls' }).waitFor(WAIT)
      await page.goto(`${root}/webhooks`)
      await page.getByRole('link', { name: 'Bulk 204' }).waitFor(WAIT)
      expect(await page.locator('table.log tbody tr').count()).toBe(50)
      await page.getByRole('button', { name: 'Older →' }).click()
      await page.getByRole('link', { name: 'Bulk 154' }).waitFor(WAIT)
      expect(page.url()).toMatch(/\?after=/)
      expect(await page.getByRole('link', { name: 'Bulk 204' }).count()).toBe(0)

      for (const [url, select] of [
        [`/calls?campaign=${oldest}`, '#filter-campaign'],
        [`/postbacks?campaign=${oldest}`, '#filter-campaign'],
        [`/live?campaign=${oldest}`, '#tail-campaign'],
      ] as const) {
        await page.goto(`${root}${url}`)
        await page.getByText('The newest 200 campaigns are listed; there are more.').waitFor(WAIT)
        expect(await page.locator(select).inputValue(), url).toBe(oldest)
        expect(await page.locator(`${select} option:checked`).textContent(), url).toBe(`campaign ${oldest}`)
      }
      await shot(page, 'live-tail-unlisted-campaign')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('says in the page which filters of the address it cannot apply, and asks the API nothing refused', async () => {
    const { context, page, problems } = await openTab()
    const asked: string[] = []
    const refused: string[] = []
    try {
      await signIn(page, t.company.adminKey)
      await page.locator('table.log, .empty').first().waitFor(WAIT)
      page.on('request', (r) => {
        const operation = /query (CallLog|PostbackLog)\b/.exec(r.postData() ?? '')?.[1]
        if (operation) asked.push(operation)
      })
      page.on('response', (r) => {
        if (r.status() >= 400) refused.push(`${r.status()} ${r.url()}`)
      })
      await page.goto(`${root}/calls?from=garbage&status=RINGING`)
      const alert = page.getByRole('alert')
      await alert.waitFor(WAIT)
      expect(await alert.textContent()).toContain('Started from: “garbage” is not a time.')
      expect(await alert.textContent()).toContain('Status: “RINGING” is not among its choices.')
      await page.goto(`${root}/postbacks?to=2024-01-01&outcome=LOST`)
      await page.getByRole('alert').waitFor(WAIT)
      expect(await page.getByRole('alert').textContent()).toContain('Received before: “2024-01-01” is not a time.')
      expect(await page.getByRole('alert').textContent()).toContain('Outcome: “LOST” is not among its choices.')
      await shot(page, 'postback-log-unreadable-filter')
      expect(asked).toEqual([])
      // Clear drops them: the log reads again
      await page.getByRole('button', { name: 'Clear' }).click()
      await page.waitForURL(/\/postbacks$/)
      await page.locator('article.postback, .empty').first().waitFor(WAIT)
      expect(asked).toEqual(['PostbackLog'])
      expect(refused).toEqual([])
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('follows a pixel under way by its stream, not by reading it every second', async () => {
    receiver.on('/retry', { status: 500, body: 'not yet' }, { status: 200, body: 'ok' })
    const campaignId = await createCampaign(t, 'Retried')
    const webhookId = await createWebhook(t, {
      campaignId,
      name: 'Retry once',
      trigger: 'CALL_START',
      url: `${receiver.url}/retry`,
      maxAttempts: 2,
      retryBaseDelayMs: 6000,
    })
    const headers = { authorization: `Bearer ${t.company.adminKey}` }
    expect((await postJson(t, '/call-events', { event: 'start', campaignId, uuid: 'CA-RETRY', callerNumber: '+14155550166' }, headers)).status).toBe(200)
    let pixel = null as { id: string; attemptCount: number } | null
    for (let i = 0; i < 100 && pixel?.attemptCount !== 1; i++) {
      pixel = await t.app.db.pixel.findFirst({ where: { webhookId }, select: { id: true, attemptCount: true } })
      await new Promise((r) => setTimeout(r, 30))
    }
    expect(pixel?.attemptCount).toBe(1)
    const { context, page, problems } = await openTab()
    let reads = 0
    page.on('request', (r) => {
      if ((r.postData() ?? '').includes('query PixelOverview')) reads++
    })
    try {
      await signIn(page, t.company.adminKey)
      await page.getByRole('heading', { name: 'Calls' }).waitFor(WAIT)
      await page.goto(`${root}/pixels/${pixel!.id}`)
      await page.getByRole('heading', { name: /Retry once/ }).waitFor(WAIT)
      expect(await page.locator('h1 .badge').textContent()).toContain('pending')
      // while it waits for its retry (about 6 s), the page asks nothing
      await page.waitForTimeout(3000)
      expect(reads).toBe(1)
      // the retry streams in well before the slow read (15 s)
      await page.locator('h1 .badge', { hasText: 'succeeded' }).waitFor({ timeout: 10_000 })
      await page.locator('pre[data-label="response body 2"]', { hasText: 'ok' }).waitFor(WAIT)
      await shot(page, 'pixel-retried')
      expect(reads).toBeLessThanOrEqual(3)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  it("shows the times in the server's notes in the viewer's zone, UTC on hover", async () => {
    const campaignId = await createCampaign(t, 'Timed')
    await createWebhook(t, { campaignId, name: 'After an hour', trigger: 'TIMER', timerSeconds: 3600, url: `${receiver.url}/timer` })
    const headers = { authorization: `Bearer ${t.company.adminKey}` }
    expect((await postJson(t, '/call-events', { event: 'start', campaignId, uuid: 'CA-TIMER', callerNumber: '+14155550155' }, headers)).status).toBe(200)
    expect((await postJson(t, '/call-events', { event: 'answered', uuid: 'CA-TIMER' }, headers)).status).toBe(200)
    const { context, page, problems } = await openTab()
    try {
      await signIn(page, t.company.adminKey)
      await page.getByRole('heading', { name: 'Calls' }).waitFor(WAIT)
      await page.goto(`${root}/calls/CA-TIMER`)
      const why = page.locator('.eval.not-fired', { hasText: 'After an hour' }).locator('.why')
      await why.waitFor(WAIT)
      const due = why.locator('time')
      const iso = await due.getAttribute('datetime')
      expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
      expect(await due.getAttribute('title')).toBe(`${iso!.replace('T', ' ').replace(/\.\d+Z$/, '')} UTC`)
      expect(await why.textContent()).not.toContain(iso!)
      expect(await why.textContent()).toMatch(/^Why: timer comes due at .+ \(3600 s after the answer\); not sent yet \(its pixel\)$/)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('adds the fields the pages read: a call lists the postbacks that reached it, a tag names what wrote it', async () => {
    const campaignId = await createCampaign(t, 'Fields')
    const early = await postJson(t, '/postback', { caller_number: '+14155550199', caller_state: 'NV' }, { 'x-ringhook-key': t.company.publisherKey })
    expect(early.body.status).toBe('call not found, tags stored')
    const headers = { authorization: `Bearer ${t.company.adminKey}` }
    expect((await postJson(t, '/call-events', { event: 'start', campaignId, uuid: 'CA-FIELDS', callerNumber: '+14155550199' }, headers)).status).toBe(200)
    const later = await postJson(t, '/postback', { call_uuid: 'CA-FIELDS', age: 41 }, { 'x-ringhook-key': t.company.publisherKey })
    expect(later.body.status).toBe('call found, tags applied')
    const d = ok(
      await t.gql<{ call: { postbacks: { id: string; outcome: string }[]; state: { source: string; sourceId: string }; age: { sourceId: string } } }>(
        `{ call(uuid: "CA-FIELDS") { postbacks { id outcome } state: tag(key: "caller_state") { source sourceId } age: tag(key: "age") { sourceId } } }`,
      ),
    )
    // oldest first: the one stored before the call, then the one that found it
    expect(d.call.postbacks.map((p) => p.outcome)).toEqual(['TAGS_STORED', 'CALL_FOUND'])
    expect(d.call.state).toEqual({ source: 'POSTBACK', sourceId: d.call.postbacks[0]!.id })
    expect(d.call.age.sourceId).toBe(d.call.postbacks[1]!.id)
  })
})
