// The circuit breaker against a real receiver that fails on purpose: it trips, holds new pixels (PENDING,
// the reason noted, nothing sent), probes after its cool-down (a failed probe waits longer), closes on a
// good answer and releases what waited; 410 Gone disables, keeping what waited FAILED; enableWebhook
// re-enables. Every change is a webhookHealthChanged event over graphql-ws and a WebhookHealthEvent row.
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, ok, startTestApp, until, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook, startCall } from './fixtures.js'

describe(`circuit breaker on ${testProvider}`, () => {
  let t: TestApp
  let sink: Receiver
  beforeAll(async () => {
    t = await startTestApp({ env: { ALLOWED_TARGETS: '127.0.0.1', PIXEL_POLL_MS: '50' } })
    sink = await startReceiver()
  })
  afterAll(async () => {
    await t?.close()
    await sink?.close()
  })

  const circuit = async (id: string) =>
    ok(
      await t.gql<{ webhook: { circuitState: string; circuitReason: string | null; circuitTrips: number; enabled: boolean } }>(
        `query($id:ID!){ webhook(id:$id) { circuitState circuitReason circuitTrips enabled } }`,
        { id },
      ),
    ).webhook
  const pixelsOf = (webhookId: string) => t.app.db.pixel.findMany({ where: { webhookId }, orderBy: { createdAt: 'asc' }, include: { attempts: true } })
  const calls = async (campaignId: string, n: number, prefix: string) => {
    for (let i = 0; i < n; i++) await startCall(t, { campaignId, uuid: `${prefix}-${i}-${Math.random().toString(36).slice(2)}` })
  }

  it('trips on failures, holds new pixels, probes after the cool-down, and closes and releases them when the endpoint recovers', async () => {
    sink.on('/flaky', { status: 503, body: '{"error":"down"}' })
    const campaignId = await createCampaign(t, 'breaker')
    const webhookId = await createWebhook(t, {
      campaignId,
      url: `${sink.url}/flaky`,
      maxAttempts: 1,
      circuitBreaker: { minAttempts: 4, failureRatePercent: 70, cooldownSeconds: 1, maxCooldownSeconds: 2 },
    })
    const changes = collect<{ webhookHealthChanged: { from: string; to: string; reason: string; webhookId: string } }>(
      t.wsClient(),
      `subscription($w:ID){ webhookHealthChanged(webhookId:$w) { from to reason webhookId } }`,
      { w: webhookId },
    )
    // the subscription is registered before the first change can happen
    await until(() => t.app.services.pubsub.listens('webhookHealthChanged', t.company.companyId))
    await calls(campaignId, 4, 'fail')
    await until(() => changes.events.length >= 1, 10_000)
    expect(changes.events[0]!.webhookHealthChanged).toMatchObject({ from: 'CLOSED', to: 'OPEN', webhookId })
    expect(changes.events[0]!.webhookHealthChanged.reason).toBe('4 of 4 attempts failed in the last 5 minute(s) (trips at 70 % of at least 4)')
    expect(await circuit(webhookId)).toMatchObject({ circuitState: 'OPEN', circuitTrips: 1 })
    const sentBefore = sink.received('/flaky').length
    expect(sentBefore).toBe(4)

    // while OPEN, new pixels wait: PENDING, no due time, the reason on the pixel, nothing sent
    await calls(campaignId, 3, 'held')
    const held = (await pixelsOf(webhookId)).slice(4)
    expect(held.map((p) => [p.status, p.nextAttemptAt, p.attemptCount])).toEqual([
      ['PENDING', null, 0],
      ['PENDING', null, 0],
      ['PENDING', null, 0],
    ])
    expect(held[0]!.responseNote).toMatch(/^waiting: the webhook's circuit is open since .* \(4 of 4 attempts failed .*\); one probe goes at /)

    // one probe after the cool-down; it fails, so the circuit opens again, for longer
    await until(() => changes.events.length >= 3, 10_000)
    expect(changes.events.slice(1, 3).map((e) => [e.webhookHealthChanged.from, e.webhookHealthChanged.to])).toEqual([
      ['OPEN', 'HALF_OPEN'],
      ['HALF_OPEN', 'OPEN'],
    ])
    expect(changes.events[2]!.webhookHealthChanged.reason).toMatch(/^the probe failed \(HTTP 503\); next probe at /)
    expect(sink.received('/flaky').length).toBe(sentBefore + 1)
    expect(await circuit(webhookId)).toMatchObject({ circuitState: 'OPEN', circuitTrips: 2 })

    // a probe never uses up its pixel (maxAttempts is 1): the failed probe's pixel waits again
    const probed = (await pixelsOf(webhookId)).slice(4).find((p) => p.attemptCount === 1)!
    expect(probed).toMatchObject({ status: 'PENDING', nextAttemptAt: null })
    expect(probed.responseNote).toBe("waiting: it went as the circuit's probe and failed (HTTP 503); it waits for the circuit to close")

    // the endpoint recovers: the next probe closes the circuit and the waiting pixels go out
    sink.on('/flaky', { status: 200 })
    await until(() => changes.events.length >= 5, 15_000)
    expect(changes.events.slice(3, 5).map((e) => [e.webhookHealthChanged.from, e.webhookHealthChanged.to])).toEqual([
      ['OPEN', 'HALF_OPEN'],
      ['HALF_OPEN', 'CLOSED'],
    ])
    await until(async () => (await pixelsOf(webhookId)).every((p) => p.status === 'SUCCEEDED' || p.status === 'FAILED'), 10_000)
    // the two probes (the same, oldest pixel) and the two that waited
    expect(sink.received('/flaky')).toHaveLength(sentBefore + 4)
    const after = await pixelsOf(webhookId)
    expect(after.slice(4).map((p) => [p.status, p.attempts.map((a) => a.statusCode)])).toEqual([
      ['SUCCEEDED', [503, 200]],
      ['SUCCEEDED', [200]],
      ['SUCCEEDED', [200]],
    ])
    expect(await circuit(webhookId)).toMatchObject({ circuitState: 'CLOSED', circuitTrips: 0 })

    // the changes are kept, newest first, and health counted every request made
    const d = ok(
      await t.gql<{
        webhook: { healthEvents: { from: string; to: string }[]; health: { attempts: number; successes: number; failures: { http5xx: number } } }
      }>(`query($id:ID!){ webhook(id:$id) { healthEvents { from to } health(window: HOUR) { attempts successes failures { http5xx } } } }`, { id: webhookId }),
    )
    expect(d.webhook.healthEvents.map((e) => `${e.from}>${e.to}`)).toEqual([
      'HALF_OPEN>CLOSED',
      'OPEN>HALF_OPEN',
      'HALF_OPEN>OPEN',
      'OPEN>HALF_OPEN',
      'CLOSED>OPEN',
    ])
    expect(d.webhook.health).toEqual({ attempts: 8, successes: 3, failures: { http5xx: 5 } })
    changes.dispose()
  })

  it('disables on 410 Gone, keeps what then fires FAILED saying why, and enableWebhook re-enables', async () => {
    sink.on('/gone', { status: 410 })
    const campaignId = await createCampaign(t, 'gone')
    const webhookId = await createWebhook(t, { campaignId, url: `${sink.url}/gone`, maxAttempts: 3 })
    await calls(campaignId, 1, 'gone')
    await until(async () => (await circuit(webhookId)).circuitState === 'DISABLED', 10_000).catch(async () => {
      throw new Error(`not disabled: ${JSON.stringify(await circuit(webhookId))}`)
    })
    expect((await circuit(webhookId)).circuitReason).toBe('the endpoint answered 410 Gone (Standard Webhooks: it asks to be disabled)')
    // a 4xx is not retried: one request
    expect(sink.received('/gone')).toHaveLength(1)

    await calls(campaignId, 1, 'while-disabled')
    const [, kept] = await pixelsOf(webhookId)
    expect(kept).toMatchObject({ status: 'FAILED', attemptCount: 0 })
    expect(kept!.responseNote).toMatch(/^not sent: the webhook was disabled by its circuit breaker at .* \(the endpoint answered 410 Gone/)
    expect(sink.received('/gone')).toHaveLength(1)

    sink.on('/gone', { status: 200 })
    const enabled = ok(
      await t.gql<{ enableWebhook: { circuitState: string; enabled: boolean } }>(
        `mutation($id:ID!){ enableWebhook(input:{id:$id}) { circuitState enabled } }`,
        {
          id: webhookId,
        },
      ),
    )
    expect(enabled.enableWebhook).toEqual({ circuitState: 'CLOSED', enabled: true })
    await calls(campaignId, 1, 'after')
    await until(() => sink.received('/gone').length === 2, 10_000)
    const events = await t.app.db.webhookHealthEvent.findMany({ where: { webhookId }, orderBy: { createdAt: 'asc' } })
    expect(events.map((e) => [e.from, e.to])).toEqual([
      ['CLOSED', 'DISABLED'],
      ['DISABLED', 'CLOSED'],
    ])
    expect(events[1]!.reason).toBe('re-enabled through the API')
  })

  it("sends each change to the company's operator URL, signed (Standard Webhooks); a failing URL is noted and tried again later", async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
    ok(
      await t.gql(`mutation($i:UpdateCompanyInput!){ updateCompany(input:$i) { id } }`, {
        i: { operatorUrl: `${sink.url}/operator`, operatorSigningSecret: secret },
      }),
    )
    sink.on('/gone-too', { status: 410 })
    const campaignId = await createCampaign(t, 'operator')
    const webhookId = await createWebhook(t, { campaignId, name: 'to be gone', url: `${sink.url}/gone-too` })
    await calls(campaignId, 1, 'op')
    await until(() => sink.received('/operator').length === 1, 15_000)
    const [sent] = sink.received('/operator')
    // verifies with the company's secret, as any receiver of ours would
    const event = new StandardWebhook(secret).verify(sent!.body, sent!.headers as Record<string, string>) as {
      type: string
      data: { webhookId: string; webhookName: string; from: string; to: string; reason: string; eventId: string }
    }
    expect(event.type).toBe('webhook.health_changed')
    expect(event.data).toMatchObject({ webhookId, webhookName: 'to be gone', campaignId, from: 'CLOSED', to: 'DISABLED' })
    expect(sent!.headers['webhook-id']).toBe(event.data.eventId)
    await until(async () => (await t.app.db.webhookHealthEvent.findUniqueOrThrow({ where: { id: event.data.eventId } })).notifiedAt !== null, 5000)
    expect(await t.app.db.webhookHealthEvent.findUniqueOrThrow({ where: { id: event.data.eventId } })).toMatchObject({ notifyAttempts: 1, notifyError: null })

    // the operator URL fails: the event says so, and the job is kept to try again
    sink.on('/operator', { status: 500 })
    ok(await t.gql(`mutation($id:ID!){ enableWebhook(input:{id:$id}) { id } }`, { id: webhookId }))
    const reEnabled = await t.app.db.webhookHealthEvent.findFirstOrThrow({ where: { webhookId, to: 'CLOSED' } })
    await until(async () => (await t.app.db.webhookHealthEvent.findUniqueOrThrow({ where: { id: reEnabled.id } })).notifyAttempts === 1, 15_000)
    expect(await t.app.db.webhookHealthEvent.findUniqueOrThrow({ where: { id: reEnabled.id } })).toMatchObject({ notifiedAt: null, notifyError: 'HTTP 500' })
    ok(await t.gql(`mutation{ updateCompany(input:{operatorUrl: null}) { id } }`))
  })

  it('a pixel left waiting for a circuit that is no longer open goes on: released when CLOSED, FAILED when DISABLED, CANCELLED when deleted', async () => {
    sink.on('/stranded', { status: 200 })
    const campaignId = await createCampaign(t, 'stranded')
    const closed = await createWebhook(t, { campaignId, url: `${sink.url}/stranded` })
    const disabled = await createWebhook(t, { campaignId, url: `${sink.url}/stranded` })
    const deleted = await createWebhook(t, { campaignId, url: `${sink.url}/stranded` })
    await startCall(t, { campaignId, uuid: 'stranded-call' })
    await until(async () => (await t.app.db.pixel.count({ where: { campaignId, status: 'SUCCEEDED' } })) === 3, 10_000)
    // as a claim on a stale copy of its webhook would leave it: waiting (no due time) while the circuit is not open
    await t.app.db.pixel.updateMany({ where: { campaignId }, data: { status: 'PENDING', nextAttemptAt: null, responseNote: 'waiting: …' } })
    await t.app.db.webhook.update({ where: { id: disabled }, data: { circuitState: 'DISABLED', circuitReason: 'the endpoint answered 410 Gone' } })
    ok(await t.gql(`mutation($id:ID!){ deleteWebhook(input:{id:$id}) { id } }`, { id: deleted }))
    await until(async () => (await t.app.db.pixel.count({ where: { campaignId, status: 'PENDING' } })) === 0, 15_000)
    const byWebhook = async (webhookId: string) => t.app.db.pixel.findFirstOrThrow({ where: { webhookId } })
    await until(async () => (await byWebhook(closed)).status === 'SUCCEEDED', 10_000)
    expect(await byWebhook(closed)).toMatchObject({ status: 'SUCCEEDED', attemptCount: 2 })
    expect(await byWebhook(disabled)).toMatchObject({ status: 'FAILED' })
    expect((await byWebhook(disabled)).responseNote).toMatch(/^not sent: the webhook was disabled by its circuit breaker/)
    expect(await byWebhook(deleted)).toMatchObject({
      status: 'CANCELLED',
      responseNote: 'cancelled: its webhook was deleted while the pixel waited for the circuit to close',
    })
  })

  it('open circuits with nothing waiting, however many, do not keep the probe of one that has a pixel waiting', async () => {
    sink.on('/starved', { status: 200 })
    const idleCampaign = await createCampaign(t, 'idle circuits')
    const idle: string[] = []
    // more idle circuits due a probe than a round of probes takes (8), all due before the one with work
    for (let i = 0; i < 10; i++) idle.push(await createWebhook(t, { campaignId: idleCampaign, url: `${sink.url}/starved` }))
    await t.app.db.webhook.updateMany({ where: { id: { in: idle } }, data: { circuitState: 'OPEN', circuitProbeAt: new Date(Date.now() - 3600_000) } })
    const campaignId = await createCampaign(t, 'starved')
    const webhookId = await createWebhook(t, { campaignId, url: `${sink.url}/starved` })
    await t.app.db.webhook.update({ where: { id: webhookId }, data: { circuitState: 'OPEN', circuitProbeAt: new Date(Date.now() + 3600_000) } })
    await calls(campaignId, 1, 'starved')
    await until(async () => (await pixelsOf(webhookId)).length === 1)
    expect(await pixelsOf(webhookId)).toMatchObject([{ status: 'PENDING', nextAttemptAt: null }])
    await t.app.db.webhook.update({ where: { id: webhookId }, data: { circuitProbeAt: new Date(Date.now() - 1000) } })
    await until(async () => (await circuit(webhookId)).circuitState === 'CLOSED', 10_000)
    expect(await pixelsOf(webhookId)).toMatchObject([{ status: 'SUCCEEDED' }])
    expect(sink.received('/starved')).toHaveLength(1)
  })

  it("releases and ends a webhook's waiting pixels only while the webhook is still in the state that asks for it", async () => {
    const campaignId = await createCampaign(t, 'guarded')
    const webhookId = await createWebhook(t, { campaignId, url: `${sink.url}/guarded` })
    await t.app.db.webhook.update({ where: { id: webhookId }, data: { circuitState: 'OPEN', circuitProbeAt: new Date(Date.now() + 3600_000) } })
    await calls(campaignId, 1, 'guarded')
    await until(async () => (await pixelsOf(webhookId)).length === 1)
    // as a sweep that read the webhook CLOSED, DISABLED or deleted a moment before the circuit opened would ask
    const store = t.app.services.pixelStore
    const now = new Date()
    expect(await store.releasePixels(webhookId, now, 100)).toBe(0)
    expect(await store.endPixels(webhookId, { status: 'FAILED', note: 'disabled', now, heldOnly: true }, 100)).toBe(0)
    expect(await store.endPixels(webhookId, { status: 'CANCELLED', note: 'deleted', now, heldOnly: true }, 100)).toBe(0)
    expect(await pixelsOf(webhookId)).toMatchObject([{ status: 'PENDING', nextAttemptAt: null }])
    // in the state asked for, they go
    await t.app.db.webhook.update({ where: { id: webhookId }, data: { circuitState: 'DISABLED' } })
    expect(await store.releasePixels(webhookId, now, 100)).toBe(0)
    expect(await store.endPixels(webhookId, { status: 'FAILED', note: 'disabled', now, heldOnly: true }, 100)).toBe(1)
    expect(await pixelsOf(webhookId)).toMatchObject([{ status: 'FAILED', responseNote: 'disabled' }])
  })

  it('a circuit closed a moment ago does not trip again on the failures that opened it', async () => {
    // the close and the failures after it fall in one minute: the window counts from the minute after the close
    while (new Date().getSeconds() > 40) await new Promise((r) => setTimeout(r, 500))
    sink.on('/relapse', { status: 503 })
    const campaignId = await createCampaign(t, 'relapse')
    const webhookId = await createWebhook(t, {
      campaignId,
      url: `${sink.url}/relapse`,
      maxAttempts: 1,
      circuitBreaker: { minAttempts: 4, failureRatePercent: 70, cooldownSeconds: 600 },
    })
    await calls(campaignId, 4, 'relapse')
    await until(async () => (await circuit(webhookId)).circuitState === 'OPEN', 10_000)
    ok(await t.gql(`mutation($id:ID!){ enableWebhook(input:{id:$id}) { id } }`, { id: webhookId }))
    await calls(campaignId, 2, 'relapse-after')
    await until(async () => (await t.app.db.pixel.count({ where: { webhookId, status: 'FAILED' } })) === 6, 10_000)
    // a trip check runs at most once a second; give it the time to run
    await new Promise((r) => setTimeout(r, 1500))
    expect(await circuit(webhookId)).toMatchObject({ circuitState: 'CLOSED' })
    // counted over the whole window, the six failures would trip it
    expect(await t.app.services.circuit.window(webhookId, 300)).toEqual({ attempts: 6, failures: 6 })
  })

  it('a breaker turned off neither trips nor disables after long failing; a start waits for no pixel held by a circuit', async () => {
    sink.on('/down', { status: 503 })
    const campaignId = await createCampaign(t, 'off')
    const off = await createWebhook(t, {
      campaignId,
      url: `${sink.url}/down`,
      maxAttempts: 1,
      circuitBreaker: { enabled: false, minAttempts: 1, disableAfterFailingSeconds: 60 },
    })
    // failing for two minutes already: with the breaker on, the next failure would disable it
    await t.app.db.webhook.update({ where: { id: off }, data: { failingSince: new Date(Date.now() - 120_000) } })
    await calls(campaignId, 3, 'off')
    await until(async () => (await t.app.db.pixel.count({ where: { webhookId: off, status: 'FAILED' } })) === 3, 10_000)
    expect(await circuit(off)).toMatchObject({ circuitState: 'CLOSED' })

    // a start that waits for its webhooks' answers does not wait for one whose circuit holds its pixel
    const heldCampaign = await createCampaign(t, 'held start')
    const held = await createWebhook(t, { campaignId: heldCampaign, url: `${sink.url}/down` })
    await t.app.db.webhook.update({ where: { id: held }, data: { circuitState: 'OPEN', circuitProbeAt: new Date(Date.now() + 3600_000) } })
    const started = Date.now()
    ok(
      await t.gql(`mutation($i:StartCallInput!){ startCall(input:$i) { uuid } }`, {
        i: { campaignId: heldCampaign, callerNumber: '+14155550100', uuid: 'held-start', waitForWebhooksMs: 20_000 },
      }),
    )
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(await t.app.db.pixel.findFirstOrThrow({ where: { webhookId: held } })).toMatchObject({ status: 'PENDING', nextAttemptAt: null })
  })

  it('refuses breaker settings that make no sense, naming the field, and answers the settings in force', async () => {
    const campaignId = await createCampaign(t, 'settings')
    const bad = await t.gql(`mutation($i:CreateWebhookInput!){ createWebhook(input:$i) { id } }`, {
      i: { campaignId, name: 'w', trigger: 'CALL_START', url: `${sink.url}/x`, circuitBreaker: { windowSeconds: 90 } },
    })
    expect(bad.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'circuitBreaker.windowSeconds' } })
    const webhookId = await createWebhook(t, { campaignId, url: `${sink.url}/x`, circuitBreaker: { failureRatePercent: 50, disableAfterTrips: 10 } })
    const d = ok(
      await t.gql<{ webhook: { circuitBreaker: Record<string, unknown> } }>(
        `query($id:ID!){ webhook(id:$id) { circuitBreaker { enabled failureRatePercent minAttempts windowSeconds cooldownSeconds maxCooldownSeconds disableAfterFailingSeconds disableAfterTrips disableOnGone } } }`,
        { id: webhookId },
      ),
    )
    expect(d.webhook.circuitBreaker).toEqual({
      enabled: true,
      failureRatePercent: 50,
      minAttempts: 10,
      windowSeconds: 300,
      cooldownSeconds: 30,
      maxCooldownSeconds: 900,
      disableAfterFailingSeconds: 432000,
      disableAfterTrips: 10,
      disableOnGone: true,
    })
  })
})
