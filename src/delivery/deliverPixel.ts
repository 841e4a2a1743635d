// One delivery attempt of a claimed pixel, as four stages: prepare (cancel a timer that no longer applies,
// hold a pixel whose webhook's circuit is open, render the request at the first attempt), send (the target
// check, the webhook's rate limits, the lock, the exchange), decide (SUCCEEDED, FAILED, or PENDING again
// with the next attempt scheduled: exponential backoff with jitter, Retry-After honoured) and settle
// (through the pixel store: the attempt, the response's tags, the state, the endpoint's health), after which
// the circuit breaker hears how the attempt went.
import { isIP } from 'node:net'
import type { Call, Pixel, Webhook } from '../generated/prisma/client.js'
import { jsonRow, type PubSub } from '../events/bus.js'
import { timerCancelNote } from '../webhooks/firingRules.js'
import type { DeliveryJob } from './handoff.js'
import { evaluateMatches } from '../webhooks/matchTags.js'
import type { AttemptResult, OutboundHttp, RenderedRequest } from './http/outboundHttp.js'
import { updatedPixel, type AttemptRecord, type PixelStore, type PixelUpdate } from './pixelStore.js'
import { renderFormBody, renderTemplate, type RenderedTemplate, type TokenContext } from '../webhooks/renderTokens.js'
import { tagsFromResponse } from '../webhooks/responseTags.js'
import { signWebhook } from './signWebhook.js'
import { storable } from '../core/text.js'
import type { HeaderInput, MatchGroups, ResponseMappingInput } from '../webhooks/webhookConfig.js'
import type { TagInput } from '../core/tags.js'
import { lockToHold, startBy } from './locks.js'
import type { CircuitBreaker } from './circuitBreaker.js'
import { circuitHolds, disabledNote, heldNote } from './circuitRules.js'
import type { DeliveryLimits, Wait } from './deliveryLimits.js'
import { attemptKind, type HealthSample } from './health.js'
import { timerDue } from './outbox.js'

const MAX_RETRY_DELAY_MS = 3_600_000

export interface DeliveryDeps {
  pixels: PixelStore
  pubsub: PubSub
  http: OutboundHttp
  circuit: CircuitBreaker
  limits: DeliveryLimits
  /** told each outcome written (deliveryMetrics.ts) */
  metrics?: { settled(job: DeliveryJob, update: PixelUpdate, attempt: AttemptRecord | null): void }
}

const CONTENT_TYPES: Record<string, string> = {
  JSON: 'application/json',
  FORM: 'application/x-www-form-urlencoded',
  TEXT: 'text/plain; charset=utf-8',
}

/** How the tokens of a template came out, for a note: `[host] found no value, [path] was "a b"`. */
function describeTokens(rendered: RenderedTemplate): string {
  const missing = rendered.tokens.filter((t) => t.value === null)
  const named = missing.length ? missing : rendered.tokens
  if (named.length === 0) return 'it has no tokens'
  return named
    .map((t) => (t.value === null ? `${t.token} found no value` : `${t.token} was ${JSON.stringify(t.value)}`) + (t.problem ? ` (${t.problem})` : ''))
    .join(', ')
}

/** Why a rendered URL cannot be requested, or null when it can. */
function urlProblem(url: RenderedTemplate): string | null {
  let parsed: URL
  try {
    parsed = new URL(url.text)
  } catch {
    return `the URL "${url.text}" is not a valid URL once its tokens are filled in (${describeTokens(url)})`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `the URL "${url.text}" is not http or https once its tokens are filled in (${describeTokens(url)})`
  return null
}

/** Why a rendered JSON body must not be sent (it is not JSON), or null. */
function jsonBodyProblem(body: RenderedTemplate): string | null {
  const notJson = body.notJson ?? []
  if (notJson.length) {
    const which = notJson.map((t) => `${t.token} stands outside quotes and was ${JSON.stringify(t.value)}`).join(', ')
    return `the JSON body would not be JSON: ${which}, not a JSON value (a number, true, false, null, an object or array); quote the token or give it a default such as [name:0]`
  }
  try {
    JSON.parse(body.text)
    return null
  } catch (e) {
    return `the JSON body is not JSON once its tokens are filled in: ${(e as Error).message}`
  }
}

/**
 * The request a webhook sends for a call, tokens filled in, the tokens that found nothing, and why it
 * cannot be sent (`unsendable`: the URL or a JSON body is not valid once filled in), or null.
 */
export function renderRequest(webhook: Webhook, context: TokenContext): { request: RenderedRequest; unresolved: string[]; unsendable: string | null } {
  const unresolved = new Set<string>()
  const url = renderTemplate(webhook.urlTemplate, context, 'url')
  url.unresolved.forEach((t) => unresolved.add(t))
  let unsendable = urlProblem(url)
  const headers: Record<string, string> = {}
  for (const h of webhook.headers as unknown as HeaderInput[]) {
    const value = renderTemplate(h.value, context, 'header')
    value.unresolved.forEach((t) => unresolved.add(t))
    headers[h.name.toLowerCase()] = value.text
  }
  let body: string | null = null
  if (webhook.bodyTemplate && webhook.method !== 'GET') {
    const rendered =
      webhook.bodyType === 'FORM'
        ? renderFormBody(webhook.bodyTemplate, context)
        : renderTemplate(webhook.bodyTemplate, context, webhook.bodyType === 'JSON' ? 'json' : 'text')
    rendered.unresolved.forEach((t) => unresolved.add(t))
    body = rendered.text
    if (webhook.bodyType === 'JSON' && body.trim()) unsendable ??= jsonBodyProblem(rendered)
    headers['content-type'] ??= CONTENT_TYPES[webhook.bodyType] ?? 'text/plain'
  }
  headers['user-agent'] ??= 'Ringhook/0.1'
  return { request: { method: webhook.method, url: url.text, headers, body }, unresolved: [...unresolved], unsendable }
}

export function tokenContext(call: Call, tags: Record<string, string>): TokenContext {
  return {
    call: {
      uuid: call.uuid,
      callerNumber: call.callerNumber,
      calledNumber: call.calledNumber,
      campaignId: call.campaignId,
      durationSeconds: call.durationSeconds,
      startedAt: call.startedAt,
      answeredAt: call.answeredAt,
      endedAt: call.endedAt,
    },
    tags,
  }
}

/** The delay before attempt `attempt + 1`: base × 2^(attempt-1), ±20 % jitter, or what Retry-After asks. */
export function retryDelayMs(attempt: number, baseMs: number, retryAfter: string | null, now = Date.now()): number {
  if (retryAfter) {
    const seconds = Number(retryAfter)
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now
    if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, MAX_RETRY_DELAY_MS)
  }
  const exponential = baseMs * 2 ** (attempt - 1)
  return Math.min(Math.round(exponential * (0.8 + Math.random() * 0.4)), MAX_RETRY_DELAY_MS)
}

const isRetryable = (a: AttemptResult) =>
  !a.error?.startsWith('refused') && (a.error !== null || a.statusCode === 429 || (a.statusCode !== null && a.statusCode >= 500))

/** One attempt of a claimed pixel, read from the store (the claim loop, resend, test-fire). */
export interface DeliveryOptions {
  /** 1 (test-fire): never retried */
  maxAttempts?: number
  /** called once the request is over (answered, failed, or not sent), before the outcome is written */
  onSent?: () => void
  /**
   * test-fire: a person waits for it. Sent ahead of the deliveries waiting for a request slot, whatever the
   * circuit and the rate limits say; its answer counts in the endpoint's health but moves no circuit.
   */
  urgent?: boolean
  /** the circuit's probe: sent although the circuit is open; its answer closes or reopens the circuit */
  probe?: boolean
}

export async function deliverPixel(deps: DeliveryDeps, pixelId: string, options: DeliveryOptions = {}): Promise<Pixel> {
  return deliverJob(deps, await deps.pixels.load(pixelId), options)
}

/** What a delivery does after prepare: nothing (a timer cancelled, a request that cannot be made), or send. */
type Prepared =
  | { send: false; update: PixelUpdate }
  | { send: true; request: RenderedRequest; target: URL; firstRender: Pick<PixelUpdate, 'request' | 'unresolvedTokens'> }

/**
 * Stage 1, prepare: a TIMER pixel is cancelled when its call ended before it or its conditions no longer
 * hold; a pixel whose webhook's circuit is open waits for it (PENDING, no due time, no attempt spent), one
 * whose webhook the breaker disabled is kept FAILED saying so (unless `circuitApplies` is false: a probe, a
 * test-fire); the request is rendered at the first attempt (kept for the next ones) with the webhook-id,
 * timestamp and signature headers. What cannot be prepared now never can be: it fails at once instead of
 * being retried for ever.
 */
export function prepare(job: DeliveryJob, now: Date, circuitApplies = true): Prepared {
  const { pixel, webhook, call } = job
  const tags = job.tags ?? {}
  if (pixel.trigger === 'TIMER' && pixel.attemptCount === 0) {
    // the timer's own moment, not the pixel's due time: a pixel held by the circuit loses that
    const due = timerDue(call, webhook, now)
    const reason =
      call.endedAt && call.endedAt < due
        ? timerCancelNote(call.endedAt, due)
        : !evaluateMatches(webhook.matches as unknown as MatchGroups, tags).matched
          ? 'conditions did not hold when the timer came due'
          : null
    if (reason) return { send: false, update: { status: 'CANCELLED', responseNote: reason, completedAt: now, lockedUntil: null, nextAttemptAt: null } }
  }
  if (circuitApplies && webhook.circuitState === 'DISABLED')
    return { send: false, update: { status: 'FAILED', responseNote: disabledNote(webhook), completedAt: now, lockedUntil: null, nextAttemptAt: null } }
  if (circuitApplies && circuitHolds(webhook))
    return { send: false, update: { status: 'PENDING', responseNote: heldNote(webhook), lockedUntil: null, nextAttemptAt: null } }
  let rendered = pixel.request as unknown as RenderedRequest | null
  // written with the attempt's outcome, in one statement
  const firstRender: Pick<PixelUpdate, 'request' | 'unresolvedTokens'> = {}
  let unsendable: string | null = null
  try {
    if (!rendered) {
      const r = renderRequest(webhook, tokenContext(call, tags))
      rendered = r.request
      unsendable = r.unsendable
      Object.assign(firstRender, { request: { ...rendered }, unresolvedTokens: r.unresolved })
    }
    if (!unsendable) {
      const target = new URL(rendered.url)
      // webhook-id (the pixel's id) always goes along, so receivers can dedupe a repeated delivery
      const headers = { ...rendered.headers, 'webhook-id': pixel.id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)) }
      if (webhook.signingSecret) Object.assign(headers, signWebhook(webhook.signingSecret, pixel.id, now, rendered.body ?? ''))
      return { send: true, request: { ...rendered, headers }, target, firstRender }
    }
  } catch (e) {
    unsendable ??= `the request could not be prepared: ${(e as Error).message}`
  }
  return {
    send: false,
    update: { ...firstRender, status: 'FAILED', responseNote: `not sent: ${unsendable}`, completedAt: now, lockedUntil: null, nextAttemptAt: null },
  }
}

/**
 * The target check for a URL whose host is an IP literal (host names are checked on the address actually
 * connected to): the attempt's result when it is refused, else null.
 */
export async function refusedTarget(http: OutboundHttp, target: URL): Promise<AttemptResult | null> {
  if (!isIP(target.hostname.replace(/^\[(.*)\]$/, '$1'))) return null
  const verdict = await http.check(target)
  return verdict.ok
    ? null
    : { statusCode: null, headers: {}, body: null, truncated: false, error: `refused: ${verdict.reason}`, retryAfter: null, durationMs: 0 }
}

/**
 * Stage 2, send: the target check for a literal address (host names are checked on the address connected
 * to), the webhook's rate limits (not for a test-fire or a probe), the lock held long enough for the
 * attempt (locks.ts), the exchange. Answers the attempt's result, or that it was not sent: over a rate
 * limit (when to try again), taken over meanwhile (this worker was taken for dead: nothing is written, the
 * other worker sends it), or it waited too long for a request slot.
 */
async function send(
  deps: DeliveryDeps,
  job: DeliveryJob,
  prepared: Extract<Prepared, { send: true }>,
  options: DeliveryOptions,
): Promise<AttemptResult | Wait | 'taken over'> {
  const { pixel, webhook } = job
  const refused = await refusedTarget(deps.http, prepared.target)
  if (refused) return refused
  // a pixel handed over at its call event was locked for all this; a claimed one may need longer
  let lockedUntil = pixel.lockedUntil?.getTime() ?? 0
  const longer = lockToHold(lockedUntil, webhook.timeoutMs)
  let permit = null
  if (!options.urgent && !options.probe) {
    // an in-flight permit lasts as long as the pixel's lock at most (its request ends within it)
    const answer = deps.limits.acquire(webhook, `${pixel.id}:${pixel.attemptCount}`, longer ?? lockedUntil)
    const settled = answer instanceof Promise ? await answer : answer
    if (!settled.ok) return settled
    permit = settled
  }
  try {
    if (longer !== null) {
      if (!(await deps.pixels.holdLock(job, new Date(longer)))) return 'taken over'
      lockedUntil = longer
    }
    const result = await deps.http.exchange(prepared.request, webhook.timeoutMs, { startBy: startBy(lockedUntil, webhook.timeoutMs), urgent: options.urgent })
    // the endpoint asked to slow down: every request of the webhook waits, not only this pixel's (before
    // the permit is given back, so no request of it goes out in between)
    if (!options.urgent && (result.statusCode === 429 || result.statusCode === 503)) deps.limits.slowDown(webhook.id, Date.now() + slowDownMs(result))
    return result
  } finally {
    permit?.release()
  }
}

/**
 * Stage 3, decide: the pixel's next state from the attempt's result. 2xx: SUCCEEDED, with the tags the
 * response maps to; a retryable failure (network error, 429, 5xx) with attempts left: PENDING again after
 * the backoff (or Retry-After); otherwise FAILED, saying why.
 */
export function decide(
  job: DeliveryJob,
  result: AttemptResult,
  firstRender: Pick<PixelUpdate, 'request' | 'unresolvedTokens'>,
  startedAt: Date,
  maxAttempts: number,
): { update: PixelUpdate; attempt: AttemptRecord; tags: TagInput[] } {
  const { pixel, webhook } = job
  const number = pixel.attemptCount + 1
  const attempt: AttemptRecord = {
    number,
    startedAt,
    durationMs: result.durationMs,
    statusCode: result.statusCode,
    responseHeaders: result.statusCode === null ? null : result.headers,
    // a body may hold NUL, which PostgreSQL text cannot
    responseBody: result.body === null ? null : storable(result.body),
    responseTruncated: result.truncated,
    error: result.error,
  }
  const settled = { ...firstRender, attemptCount: number, completedAt: new Date(), lockedUntil: null, nextAttemptAt: null }
  if (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) {
    const mapping = webhook.responseMapping as unknown as ResponseMappingInput | null
    const parsed =
      result.truncated && mapping
        ? { tags: {}, note: 'response cut at 64 KB; not parsed' }
        : tagsFromResponse(result.body ?? '', result.headers['content-type'] ?? null, mapping)
    const tags = Object.entries(parsed.tags).map(([key, value]) => ({ key, value }))
    const update: PixelUpdate = { ...settled, status: 'SUCCEEDED', tagsApplied: tags.length ? parsed.tags : undefined, responseNote: parsed.note ?? null }
    return { update, attempt, tags }
  }
  if (isRetryable(result) && number < maxAttempts) {
    const delay = retryDelayMs(number, webhook.retryBaseDelayMs, result.statusCode === 429 || result.statusCode === 503 ? result.retryAfter : null)
    return {
      update: { ...firstRender, status: 'PENDING', attemptCount: number, nextAttemptAt: new Date(Date.now() + delay), lockedUntil: null },
      attempt,
      tags: [],
    }
  }
  const why = result.error ?? `HTTP ${result.statusCode}`
  const note = isRetryable(result) ? `gave up after ${number} attempt(s): ${why}` : `not retried: ${why}`
  return { update: { ...settled, status: 'FAILED', responseNote: note }, attempt, tags: [] }
}

/**
 * One attempt of a claimed pixel (status DELIVERING) whose webhook and call are in memory, in four stages:
 * prepare, send, decide, settle. `maxAttempts` 1 (test-fire) never retries.
 */
export async function deliverJob(deps: DeliveryDeps, job: DeliveryJob, options: DeliveryOptions = {}): Promise<Pixel> {
  const now = new Date()
  const prepared = prepare(job, now, !options.urgent && !options.probe)
  if (!prepared.send) {
    options.onSent?.()
    return settle(deps, job, prepared.update, null, [])
  }
  const result = await send(deps, job, prepared, options)
  options.onSent?.()
  if (result === 'taken over') return updatedPixel(job.pixel, { status: 'PENDING', nextAttemptAt: job.pixel.nextAttemptAt, lockedUntil: job.pixel.lockedUntil })
  // over a rate limit: due when it has room, no attempt spent (it was not sent)
  if ('until' in result)
    return settle(
      deps,
      job,
      { ...prepared.firstRender, status: 'PENDING', nextAttemptAt: new Date(result.until), lockedUntil: null, responseNote: `waiting: ${result.reason}` },
      null,
      [],
    )
  // it waited too long for a request slot: due again at once, no attempt spent (it was not sent)
  if (result.notSent) return settle(deps, job, { ...prepared.firstRender, status: 'PENDING', nextAttemptAt: new Date(), lockedUntil: null }, null, [])
  // a probe never uses up its pixel: a failed probe's pixel goes back to waiting for the circuit
  const decided = decide(job, result, prepared.firstRender, now, options.probe ? Number.POSITIVE_INFINITY : (options.maxAttempts ?? job.webhook.maxAttempts))
  if (options.probe && decided.update.status === 'PENDING')
    decided.update = {
      ...decided.update,
      nextAttemptAt: null,
      responseNote: `waiting: it went as the circuit's probe and failed (${result.error ?? `HTTP ${result.statusCode}`}); it waits for the circuit to close`,
    }
  const kind = attemptKind(result)
  const health: HealthSample = {
    companyId: job.pixel.companyId,
    webhookId: job.webhook.id,
    origin: prepared.target.origin,
    at: now.getTime(),
    kind,
    durationMs: result.durationMs,
  }
  const settled = await settle(deps, job, decided.update, decided.attempt, decided.tags, health)
  if (!options.urgent) await deps.circuit.afterAttempt(job, kind, result.statusCode, options.probe === true)
  return settled
}

/** How long an endpoint that answered 429 or 503 is left alone: what its Retry-After asks, else a second. */
function slowDownMs(result: AttemptResult): number {
  return result.retryAfter ? retryDelayMs(1, 1000, result.retryAfter) : 1000
}

/** Stage 4, settle: records the outcome and publishes it; a worker taken for dead (its pixel taken over) records nothing. */
async function settle(
  deps: DeliveryDeps,
  job: DeliveryJob,
  update: PixelUpdate,
  attempt: AttemptRecord | null,
  tags: TagInput[],
  health: HealthSample | null = null,
): Promise<Pixel> {
  const updated = await deps.pixels.settle(job, update, attempt, tags, health)
  if (!updated) return updatedPixel(job.pixel, update)
  deps.metrics?.settled(job, update, attempt)
  if (deps.pubsub.listens('pixelFired', updated.companyId)) deps.pubsub.publish('pixelFired', updated.companyId, { pixel: jsonRow(updated) })
  return updated
}
