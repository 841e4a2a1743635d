// The circuit breaker of each webhook, shared by every worker through the webhook's row: CLOSED (pixels go
// out), OPEN (they wait, PENDING with no due time and the reason noted, until one probe after a cool-down),
// HALF_OPEN (the probe is out: its success closes the circuit and releases the waiting pixels, its failure
// opens it again for longer), DISABLED (given up: waiting pixels are kept FAILED for a replay, enableWebhook
// re-enables). Every transition is a conditional update of the row, so two workers never make the same one;
// each is kept as a WebhookHealthEvent and published (webhookHealthChanged). The rules are circuitRules.ts.
import type { Pixel, Webhook, WebhookHealthEvent } from '../generated/prisma/client.js'
import type { Db } from '../core/db.js'
import type { Logger } from '../core/logger.js'
import { jsonRow, type PubSub } from '../events/bus.js'
import {
  breakerSettings,
  cooldownMs,
  disableReason,
  disabledNote,
  heldNote,
  shouldTrip,
  tripReason,
  type CircuitState,
  type WindowCounts,
} from './circuitRules.js'
import { BREAKER_FAILURES, bucketStart, type AttemptKind } from './health.js'
import type { DeliveryJob } from './handoff.js'
import type { PixelStore } from './pixelStore.js'
import { LOCK_MARGIN_MS } from './locks.js'

/** Kinds of a probe's answer that close the circuit: the endpoint is up (a 4xx refuses one request, not the endpoint). */
const PROBE_SENT = 'cool-down over: one probe sent'
/** A webhook's trip check runs at most this often. */
const CHECK_EVERY_MS = 1000
/** Pixels held, released or ended per statement (a long outage may have held very many). */
const PIXEL_BATCH = 5000

/** Runs a batched pixel operation until it answers fewer than a batch; answers the total. */
async function inBatches(step: (limit: number) => Promise<number>): Promise<number> {
  let total = 0
  for (;;) {
    const n = await step(PIXEL_BATCH)
    total += n
    if (n < PIXEL_BATCH) return total
  }
}

const PROBE_CLOSES: ReadonlySet<AttemptKind> = new Set(['success', 'http4xx', 'httpOther'])

/** What a transition sets beside the state, its reason and time. */
type CircuitFields = Partial<Pick<Webhook, 'circuitProbeAt' | 'circuitTrips' | 'failingSince'>>

export interface CircuitBreakerDeps {
  /** the webhook rows (a transition is a conditional update of one) */
  db: Db
  /** the pixels: held, released, failed, and the probe taken, by the store's own statements */
  pixels: PixelStore
  pubsub: PubSub
  logger: Logger
  /** pixels were released: the worker looks for due work */
  wake(): void
}

export class CircuitBreaker {
  /** per webhook: when its trip check last ran, and whether one is due */
  private readonly checks = new Map<string, { last: number; due: boolean }>()
  private readonly listeners: ((event: WebhookHealthEvent) => void)[] = []

  constructor(private readonly deps: CircuitBreakerDeps) {}

  /** Called with every change this process makes (the operator URL's notifications). */
  onChange(listener: (event: WebhookHealthEvent) => void): void {
    this.listeners.push(listener)
  }

  /**
   * After an attempt's outcome was recorded: a 410 Gone disables the webhook (when its settings say so); a
   * probe's answer closes or reopens the circuit; a failure marks the webhook failing and may trip it; a
   * success ends its failing. `job.webhook` is the copy the delivery was claimed with: shared by the pixels
   * of one claim, updated here as this process changes the row.
   */
  async afterAttempt(job: DeliveryJob, kind: AttemptKind, statusCode: number | null, probe: boolean): Promise<void> {
    const webhook = job.webhook
    const settings = breakerSettings(webhook)
    const now = new Date()
    if (statusCode === 410 && settings.disableOnGone) {
      await this.disable(webhook.id, 'the endpoint answered 410 Gone (Standard Webhooks: it asks to be disabled)', now)
      return
    }
    if (probe) {
      await (PROBE_CLOSES.has(kind)
        ? this.close(webhook, `the probe succeeded (${kind === 'success' ? `HTTP ${statusCode}` : `answered HTTP ${statusCode}`})`, now)
        : this.reopen(webhook, kind, statusCode, now))
      return
    }
    if (BREAKER_FAILURES.has(kind)) {
      if (!webhook.failingSince) {
        webhook.failingSince = now
        await this.deps.db.webhook.updateMany({ where: { id: webhook.id, failingSince: null }, data: { failingSince: now } })
      }
      // a breaker that is off never trips nor disables (only a 410, above)
      if (!settings.enabled) return
      const reason = disableReason(settings, webhook.circuitTrips, webhook.failingSince, now)
      if (reason) await this.disable(webhook.id, reason, now)
      else if (webhook.circuitState === 'CLOSED') this.checkSoon(webhook)
    } else if (PROBE_CLOSES.has(kind) && webhook.failingSince) {
      // the endpoint answered (a 4xx refuses one request, the endpoint is up): it is failing no more
      webhook.failingSince = null
      await this.deps.db.webhook.updateMany({ where: { id: webhook.id, failingSince: { not: null }, circuitState: 'CLOSED' }, data: { failingSince: null } })
    }
  }

  /**
   * The attempts and breaker failures of the webhook's window (its minute health buckets, every origin).
   * A circuit that closed within the window counts from the minute after it closed: the failures that
   * opened it do not trip it again on the first failure after the close.
   */
  async window(webhookId: string, windowSeconds: number, closedAt: Date | null = null, now = new Date()): Promise<WindowCounts> {
    const start = bucketStart(now, 'MINUTE').getTime() - (windowSeconds / 60 - 1) * 60_000
    const afterClose = closedAt ? bucketStart(closedAt, 'MINUTE').getTime() + 60_000 : 0
    const sums = await this.deps.db.healthBucket.aggregate({
      where: { webhookId, period: 'MINUTE', bucketStart: { gte: new Date(Math.max(start, afterClose)) } },
      _sum: { attempts: true, timeouts: true, networkErrors: true, http5xx: true, http429: true },
    })
    const s = sums._sum
    return { attempts: s.attempts ?? 0, failures: (s.timeouts ?? 0) + (s.networkErrors ?? 0) + (s.http5xx ?? 0) + (s.http429 ?? 0) }
  }

  /**
   * A trip check of the webhook soon: one at a time per webhook and at most one a second (a webhook failing
   * below the trip rate would otherwise be checked after every failure); failures meanwhile ask for it.
   */
  private checkSoon(webhook: Webhook): void {
    const check = this.checks.get(webhook.id) ?? { last: 0, due: false }
    this.checks.set(webhook.id, check)
    if (check.due) return
    check.due = true
    const run = async () => {
      check.due = false
      check.last = Date.now()
      try {
        await this.trip(webhook.id)
      } catch (e) {
        this.deps.logger.error({ err: e, webhookId: webhook.id }, 'circuit breaker check failed')
      }
    }
    const wait = check.last + CHECK_EVERY_MS - Date.now()
    if (wait > 0) setTimeout(() => void run(), wait).unref()
    else void run()
  }

  /** CLOSED -> OPEN when its window says so (or DISABLED when that trip is one too many): waiting pixels are held. */
  private async trip(webhookId: string): Promise<void> {
    const current = await this.deps.db.webhook.findUnique({ where: { id: webhookId } })
    if (current?.circuitState !== 'CLOSED') return
    const now = new Date()
    const settings = breakerSettings(current)
    const counts = await this.window(webhookId, settings.windowSeconds, current.circuitChangedAt, now)
    if (!shouldTrip(counts, settings)) return
    const trips = current.circuitTrips + 1
    const failingSince = current.failingSince ?? now
    const disable = disableReason(settings, trips, failingSince, now)
    if (disable) return this.disable(webhookId, disable, now)
    const reason = tripReason(counts, settings)
    await this.move(current, ['CLOSED'], 'OPEN', reason, now, {
      circuitProbeAt: new Date(now.getTime() + cooldownMs(trips, settings)),
      circuitTrips: trips,
      failingSince,
    })
  }

  /** HALF_OPEN -> OPEN after a failed probe, waiting longer each time (or DISABLED). */
  private async reopen(webhook: Webhook, kind: AttemptKind, statusCode: number | null, now: Date): Promise<void> {
    const current = await this.deps.db.webhook.findUnique({ where: { id: webhook.id } })
    if (current?.circuitState !== 'HALF_OPEN') return
    const settings = breakerSettings(current)
    const trips = current.circuitTrips + 1
    const disable = disableReason(settings, trips, current.failingSince, now)
    if (disable) return this.disable(webhook.id, disable, now)
    const probeAt = new Date(now.getTime() + cooldownMs(trips, settings))
    const what = statusCode === null ? kind : `HTTP ${statusCode}`
    await this.move(current, ['HALF_OPEN'], 'OPEN', `the probe failed (${what}); next probe at ${probeAt.toISOString()}`, now, {
      circuitProbeAt: probeAt,
      circuitTrips: trips,
    })
  }

  /** HALF_OPEN -> CLOSED: the waiting pixels go out. */
  private async close(webhook: Webhook, reason: string, now: Date): Promise<void> {
    const moved = await this.move(webhook, ['HALF_OPEN'], 'CLOSED', reason, now, { circuitProbeAt: null, circuitTrips: 0, failingSince: null })
    if (moved) Object.assign(webhook, { circuitState: 'CLOSED', failingSince: null, circuitTrips: 0 })
  }

  /** Any state but DISABLED -> DISABLED: waiting pixels are kept FAILED, saying so (replayPixels sends them). */
  async disable(webhookId: string, reason: string, now = new Date()): Promise<void> {
    const current = await this.deps.db.webhook.findUnique({ where: { id: webhookId } })
    if (!current || current.circuitState === 'DISABLED') return
    await this.move(current, ['CLOSED', 'OPEN', 'HALF_OPEN'], 'DISABLED', reason, now, { circuitProbeAt: null })
  }

  /** enableWebhook: CLOSED and enabled, whatever the circuit was; pixels that waited go out. Answers the webhook. */
  async enable(webhook: Webhook): Promise<Webhook> {
    const now = new Date()
    if (webhook.circuitState !== 'CLOSED')
      await this.move(webhook, ['OPEN', 'HALF_OPEN', 'DISABLED'], 'CLOSED', 're-enabled through the API', now, {
        circuitProbeAt: null,
        circuitTrips: 0,
        failingSince: null,
      })
    return this.deps.db.webhook.update({ where: { id: webhook.id }, data: { enabled: true } })
  }

  /**
   * Moves the circuit from one of `from` to `to` if it is still there (one worker wins), then applies what
   * the new state means to the pixels, records the event and publishes it. Answers whether it moved.
   */
  private async move(current: Webhook, from: CircuitState[], to: CircuitState, reason: string, now: Date, data: CircuitFields): Promise<boolean> {
    const { db } = this.deps
    const { count } = await db.webhook.updateMany({
      where: { id: current.id, circuitState: { in: from } },
      data: { ...data, circuitState: to, circuitReason: reason, circuitChangedAt: now },
    })
    if (count === 0) return false
    const after = { ...current, ...data, circuitState: to, circuitReason: reason, circuitChangedAt: now } as Webhook
    const { pixels } = this.deps
    if (to === 'OPEN') await inBatches((limit) => pixels.holdPixels(current.id, heldNote(after), limit))
    else if (to === 'CLOSED' && (await inBatches((limit) => pixels.releasePixels(current.id, now, limit))) > 0) this.deps.wake()
    else if (to === 'DISABLED')
      await inBatches((limit) => pixels.endPixels(current.id, { status: 'FAILED', note: disabledNote(after), now, heldOnly: false }, limit))
    await this.record(current, current.circuitState, to, reason, now)
    return true
  }

  private async record(webhook: Pick<Webhook, 'id' | 'companyId'>, from: string, to: CircuitState, reason: string, now: Date): Promise<void> {
    const event = await this.deps.db.webhookHealthEvent.create({
      data: { companyId: webhook.companyId, webhookId: webhook.id, from, to, reason, createdAt: now },
    })
    this.deps.logger.info({ webhookId: webhook.id, from, to, reason }, 'webhook circuit changed')
    this.deps.pubsub.publish('webhookHealthChanged', webhook.companyId, { event: jsonRow(event) })
    for (const listener of this.listeners) listener(event)
  }

  /**
   * Pixels left waiting for a circuit that is no longer open go on: a pixel held on a stale copy of its
   * webhook (a claim or a call event that read OPEN while a probe closed the circuit) or after a crash between
   * a transition and its pixels. Released when the circuit is CLOSED, kept FAILED when it is DISABLED,
   * CANCELLED when the webhook was deleted. Each worker runs this every few seconds (a nested loop over the
   * webhooks on the partial index of PENDING pixels).
   */
  async sweepWaiting(): Promise<void> {
    const { db, pixels } = this.deps
    const stranded = await db.$queryRawUnsafe<Pick<Webhook, 'id' | 'circuitState' | 'circuitReason' | 'circuitChangedAt' | 'deletedAt'>[]>(STRANDED)
    const now = new Date()
    for (const w of stranded) {
      if (w.deletedAt) {
        const note = 'cancelled: its webhook was deleted while the pixel waited for the circuit to close'
        await inBatches((limit) => pixels.endPixels(w.id, { status: 'CANCELLED', note, now, heldOnly: true }, limit))
      } else if (w.circuitState === 'DISABLED') {
        const changedAt = w.circuitChangedAt && new Date(w.circuitChangedAt)
        const note = disabledNote({ circuitChangedAt: changedAt, circuitReason: w.circuitReason })
        await inBatches((limit) => pixels.endPixels(w.id, { status: 'FAILED', note, now, heldOnly: true }, limit))
      } else if ((await inBatches((limit) => pixels.releasePixels(w.id, now, limit))) > 0) {
        this.deps.wake()
      }
    }
  }

  /**
   * Probes due: for each webhook whose circuit is OPEN past its cool-down (or HALF_OPEN whose probe was lost),
   * one waiting pixel, claimed as the probe (the circuit HALF_OPEN until it is answered). A webhook with
   * nothing waiting stays OPEN: its next pixel waits and is the probe, and is not among the candidates (open
   * circuits with nothing waiting, however many, leave the probes of the others their turn).
   */
  async takeProbes(limit: number): Promise<DeliveryJob[]> {
    if (limit <= 0) return []
    const now = new Date()
    const waiting = await this.deps.db.$queryRawUnsafe<ProbeCandidate[]>(PROBE_CANDIDATES)
    const due = waiting
      .map((w) => ({ id: w.id, companyId: w.companyId, timeoutMs: Number(w.timeoutMs), probeAt: new Date(w.circuitProbeAt).getTime() }))
      .filter((w) => w.probeAt <= now.getTime())
      .sort((a, b) => a.probeAt - b.probeAt)
      .slice(0, limit)
    const jobs: DeliveryJob[] = []
    for (const webhook of due) {
      // the probe is given up for lost (its worker died) once its request and the time to record it are over
      const taken = await this.deps.pixels.takeProbe(webhook.id, {
        now,
        deadline: new Date(now.getTime() + webhook.timeoutMs + 2 * LOCK_MARGIN_MS),
        lockedUntil: new Date(now.getTime() + webhook.timeoutMs + LOCK_MARGIN_MS),
        reason: PROBE_SENT,
      })
      if (!taken) continue
      if (taken.from === 'OPEN') await this.record(webhook, 'OPEN', 'HALF_OPEN', PROBE_SENT, now)
      jobs.push(taken.job)
    }
    return jobs
  }
}

/** Webhooks that have pixels waiting for a circuit that is not open (PENDING without a due time). */
const STRANDED = `SELECT w."id", w."circuitState", w."circuitReason", w."circuitChangedAt", w."deletedAt" FROM "Webhook" w
  WHERE (w."circuitState" IN ('CLOSED', 'DISABLED') OR w."deletedAt" IS NOT NULL)
    AND EXISTS (SELECT 1 FROM "Pixel" p WHERE p."webhookId" = w."id" AND p."status" = 'PENDING' AND p."nextAttemptAt" IS NULL)`

/**
 * Open circuits with a pixel waiting (their probe time is compared by the caller: SQLite and PostgreSQL keep
 * times differently, and a raw statement would compare them as each keeps them).
 */
type ProbeCandidate = Pick<Webhook, 'id' | 'companyId'> & { timeoutMs: number | bigint; circuitProbeAt: Date | string }
const PROBE_CANDIDATES = `SELECT w."id", w."companyId", w."timeoutMs", w."circuitProbeAt" FROM "Webhook" w
  WHERE w."circuitState" IN ('OPEN', 'HALF_OPEN') AND w."deletedAt" IS NULL AND w."circuitProbeAt" IS NOT NULL
    AND EXISTS (SELECT 1 FROM "Pixel" p WHERE p."webhookId" = w."id" AND p."status" = 'PENDING' AND p."nextAttemptAt" IS NULL)`

/** Whether a pixel is waiting for its webhook's circuit (PENDING without a due time). */
export const isHeld = (pixel: Pick<Pixel, 'status' | 'nextAttemptAt'>) => pixel.status === 'PENDING' && pixel.nextAttemptAt === null
