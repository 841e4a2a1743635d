// The pure stages of a delivery (src/delivery/deliverPixel.ts): prepare (what is sent, or why nothing is)
// and decide (the pixel's next state from an attempt's result).
import { describe, expect, it } from 'vitest'
import { decide, prepare } from '../../src/delivery/deliverPixel.js'
import type { DeliveryJob } from '../../src/delivery/handoff.js'
import type { AttemptResult } from '../../src/delivery/http/outboundHttp.js'
import type { Call, Pixel, Webhook } from '../../src/generated/prisma/client.js'

const now = new Date('2026-12-01T12:00:00.000Z')

function job(webhook: Partial<Webhook> = {}, pixel: Partial<Pixel> = {}, call: Partial<Call> = {}, tags: Record<string, string> = {}): DeliveryJob {
  return {
    pixel: { id: 'px1', trigger: 'CALL_START', attemptCount: 0, request: null, nextAttemptAt: now, lockedUntil: now, ...pixel } as Pixel,
    webhook: {
      id: 'wh1',
      method: 'POST',
      urlTemplate: 'http://127.0.0.1:9/hook?c=[caller_number]',
      headers: [],
      bodyTemplate: '{"state":"[state]"}',
      bodyType: 'JSON',
      matches: [],
      timeoutMs: 1000,
      maxAttempts: 3,
      retryBaseDelayMs: 1000,
      responseMapping: null,
      signingSecret: null,
      ...webhook,
    } as Webhook,
    call: { id: 'c1', uuid: 'u1', callerNumber: '+14155550100', startedAt: now, answeredAt: null, endedAt: null, ...call } as Call,
    tags,
  }
}

const result = (r: Partial<AttemptResult>): AttemptResult => ({
  statusCode: 200,
  headers: {},
  body: '',
  truncated: false,
  error: null,
  retryAfter: null,
  durationMs: 12,
  ...r,
})

describe('prepare', () => {
  it('renders the first request with the webhook-id and timestamp headers, keeping what it rendered', () => {
    const p = prepare(job({}, {}, {}, { state: 'CA' }), now)
    if (!p.send) throw new Error('expected a request')
    expect(p.request).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:9/hook?c=%2B14155550100', body: '{"state":"CA"}' })
    expect(p.request.headers).toMatchObject({ 'webhook-id': 'px1', 'webhook-timestamp': String(now.getTime() / 1000), 'content-type': 'application/json' })
    expect(p.firstRender).toMatchObject({ request: { url: 'http://127.0.0.1:9/hook?c=%2B14155550100' }, unresolvedTokens: [] })
  })

  it('sends a later attempt as first rendered, rendering nothing again', () => {
    const request = { method: 'GET', url: 'http://127.0.0.1:9/first', headers: { a: 'b' }, body: null }
    const p = prepare(job({}, { attemptCount: 1, request: request as never }), now)
    if (!p.send) throw new Error('expected a request')
    expect(p.request).toMatchObject({ url: 'http://127.0.0.1:9/first', headers: { a: 'b', 'webhook-id': 'px1' } })
    expect(p.firstRender).toEqual({})
  })

  it('cancels a timer whose call ended before it came due, or whose conditions no longer hold', () => {
    // the timer's moment is its seconds after the answer, whatever the pixel's due time (a held pixel has none)
    const timer = { trigger: 'TIMER', timerSeconds: 30 }
    const ended = prepare(job(timer, { trigger: 'TIMER', nextAttemptAt: null }, { answeredAt: now, endedAt: new Date(now.getTime() + 29_000) }), now)
    expect(ended).toMatchObject({ send: false, update: { status: 'CANCELLED', completedAt: now } })
    const matches = [{ conditions: [{ key: 'state', operator: 'EQUALS', value: 'CA' }] }]
    const changed = prepare(job({ ...timer, matches: matches as never }, { trigger: 'TIMER' }, { answeredAt: now }, { state: 'NY' }), now)
    expect(changed).toEqual({
      send: false,
      update: {
        status: 'CANCELLED',
        responseNote: 'conditions did not hold when the timer came due',
        completedAt: now,
        lockedUntil: null,
        nextAttemptAt: null,
      },
    })
  })

  it("holds a pixel while its webhook's circuit is open (no attempt spent), fails it when the breaker disabled the webhook; a probe or a test-fire goes anyway", () => {
    const open = { circuitState: 'OPEN', circuitReason: '10 of 10 attempts failed', circuitChangedAt: now, circuitProbeAt: new Date(now.getTime() + 30_000) }
    const held = prepare(job(open), now)
    expect(held).toMatchObject({ send: false, update: { status: 'PENDING', nextAttemptAt: null, lockedUntil: null } })
    if (held.send) return
    expect(held.update.attemptCount).toBeUndefined()
    expect(held.update.responseNote).toContain("waiting: the webhook's circuit is open since 2026-12-01T12:00:00.000Z (10 of 10 attempts failed)")
    expect(held.update.responseNote).toContain('one probe goes at 2026-12-01T12:00:30.000Z')
    expect(prepare(job({ ...open, circuitState: 'HALF_OPEN' }), now)).toMatchObject({ send: false, update: { status: 'PENDING', nextAttemptAt: null } })
    const disabled = prepare(job({ circuitState: 'DISABLED', circuitReason: 'the endpoint answered 410 Gone' }), now)
    expect(disabled).toMatchObject({ send: false, update: { status: 'FAILED', completedAt: now } })
    if (!disabled.send) expect(disabled.update.responseNote).toContain('disabled by its circuit breaker')
    expect(prepare(job(open), now, false).send).toBe(true)
    expect(prepare(job({ circuitState: 'CLOSED' }), now).send).toBe(true)
  })

  it('fails at once what cannot be sent, naming why, and keeps the rendered request for the log', () => {
    const p = prepare(job({ urlTemplate: '[site]' }, {}, {}, { site: 'not a url' }), now)
    expect(p.send).toBe(false)
    if (p.send) return
    expect(p.update).toMatchObject({ status: 'FAILED', completedAt: now, lockedUntil: null, request: { url: 'not%20a%20url' } })
    expect(p.update.responseNote).toMatch(/^not sent: .*\[site\]/)
  })

  it('sends a request whose function would give too long a text, that token found no value and saying why', () => {
    const body = `{"r":"[replace(replace(replace(a,'x',a),'x',a),'x',a)]"}`
    const p = prepare(job({ bodyTemplate: body }, {}, {}, { a: 'x'.repeat(2000) }), now)
    if (!p.send) throw new Error(`expected a request: ${p.update.responseNote}`)
    expect(p.request.body).toBe('{"r":""}')
    expect(p.firstRender.unresolvedTokens).toEqual([
      `[replace(replace(replace(a,'x',a),'x',a),'x',a)] (replace: the result would be 4000000 characters, more than 65536)`,
    ])
  })

  it('fails a pixel whose request throws while it is rendered, naming why, instead of letting the delivery reject', () => {
    const tags = new Proxy({} as Record<string, string>, {
      getOwnPropertyDescriptor() {
        throw new RangeError('Invalid string length')
      },
    })
    const p = prepare(job({}, {}, {}, tags), now)
    expect(p).toEqual({
      send: false,
      update: {
        status: 'FAILED',
        responseNote: 'not sent: the request could not be prepared: Invalid string length',
        completedAt: now,
        lockedUntil: null,
        nextAttemptAt: null,
      },
    })
  })
})

describe('decide', () => {
  it('2xx: SUCCEEDED with the attempt recorded and the tags the response maps to', () => {
    const j = job({ responseMapping: { mode: 'ALL' } as never })
    const d = decide(j, result({ statusCode: 201, headers: { 'content-type': 'application/json' }, body: '{"lead":"ok"}' }), {}, now, 3)
    expect(d.update).toMatchObject({
      status: 'SUCCEEDED',
      attemptCount: 1,
      tagsApplied: { lead: 'ok' },
      responseNote: null,
      lockedUntil: null,
      nextAttemptAt: null,
    })
    expect(d.tags).toEqual([{ key: 'lead', value: 'ok' }])
    expect(d.attempt).toMatchObject({ number: 1, startedAt: now, statusCode: 201, durationMs: 12, error: null })
  })

  it('a cut response is not parsed for tags, and says so', () => {
    const d = decide(job({ responseMapping: { mode: 'ALL' } as never }), result({ body: '{"a":', truncated: true }), {}, now, 3)
    expect(d.update).toMatchObject({ status: 'SUCCEEDED', responseNote: 'response cut at 64 KB; not parsed' })
    expect(d.tags).toEqual([])
  })

  it('5xx and network errors with attempts left: PENDING again after the backoff; Retry-After honoured on 429 and 503', () => {
    const before = Date.now()
    const d = decide(job(), result({ statusCode: 500 }), {}, now, 3)
    expect(d.update).toMatchObject({ status: 'PENDING', attemptCount: 1, lockedUntil: null })
    const delay = d.update.nextAttemptAt!.getTime() - before
    expect(delay).toBeGreaterThanOrEqual(800 - 50)
    expect(delay).toBeLessThanOrEqual(1200 + 50)
    const later = decide(job(), result({ statusCode: 503, retryAfter: '30' }), {}, now, 3)
    expect(later.update.nextAttemptAt!.getTime() - Date.now()).toBeGreaterThan(29_000)
    expect(decide(job(), result({ statusCode: null, error: 'ECONNRESET' }), {}, now, 3).update.status).toBe('PENDING')
  })

  it('gives up on the last attempt, and never retries other 4xx or a refused target', () => {
    const last = decide(job({}, { attemptCount: 2 }), result({ statusCode: 502 }), {}, now, 3)
    expect(last.update).toMatchObject({ status: 'FAILED', attemptCount: 3, responseNote: 'gave up after 3 attempt(s): HTTP 502' })
    expect(decide(job(), result({ statusCode: 404 }), {}, now, 3).update).toMatchObject({ status: 'FAILED', responseNote: 'not retried: HTTP 404' })
    const refused = decide(job(), result({ statusCode: null, error: 'refused: 10.0.0.1 is a private address' }), {}, now, 3)
    expect(refused.update.responseNote).toBe('not retried: refused: 10.0.0.1 is a private address')
  })

  it('writes what the first attempt rendered along with its outcome', () => {
    const firstRender = { request: { method: 'POST', url: 'http://127.0.0.1:9/x', headers: {}, body: null }, unresolvedTokens: ['[zip]'] }
    const d = decide(job(), result({ statusCode: 200 }), firstRender as never, now, 3)
    expect(d.update).toMatchObject(firstRender)
  })
})
