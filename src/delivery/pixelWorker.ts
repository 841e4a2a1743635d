// The delivery worker. Pixels reach it two ways: handed over in memory by the call-event stores of this
// process (written already claimed by it, in slots it reserved: no claim query, no reload), and claimed in
// batches from the outbox by its loop (pixels written PENDING because it was full or by another instance,
// retries and timers coming due, pixels whose worker died). The loop is woken when this process writes
// PENDING pixels, and otherwise every `pollMs`. stop() stops taking work and waits for the deliveries in
// flight (SIGTERM).
import { deliverJob, type DeliveryDeps } from './deliverPixel.js'
import type { DeliveryJob, PixelQueue } from './handoff.js'
import type { Logger } from '../core/logger.js'
import { SharedSlots } from './sharedSlots.js'
import type { DeliverySlots } from './handoff.js'

export interface PixelWorkerOptions {
  concurrency: number
  pollMs: number
  /** how long a claimed pixel stays with this worker before another may take it over */
  lockMs: number
}

/** How often a worker looks for circuit probes that are due. */
const PROBE_EVERY_MS = 1000
/** Probes a worker sends in one round at most (one a webhook). */
const PROBES_A_ROUND = 8
/** Every this many probe rounds, pixels left waiting for a circuit that is no longer open are released. */
const SWEEP_EVERY_ROUNDS = 5

export class PixelWorker implements PixelQueue, DeliverySlots {
  /**
   * Free slots: `concurrency` less the deliveries under way and the slots taken for pixels on their way
   * here (handed over by a call-event write, or being claimed). Shared with the SQLite writer thread,
   * which takes slots for the pixels it writes claimed.
   */
  readonly slots: SharedSlots
  /** deliveries under way (the concurrency cap counts these) */
  private sending = 0
  /** deliveries not yet recorded (stop() waits for these) */
  private inFlight = 0
  private running = false
  private claiming = false
  private wakeAgain = false
  /** due work may be waiting that found no room: look again when a delivery ends */
  private waiting = true
  private timer: NodeJS.Timeout | null = null
  private readonly idle: (() => void)[] = []
  private readonly minBatch: number
  private lastTakeOver = 0
  private lastProbe = 0
  private probing = false
  private probeRounds = 0

  constructor(
    private readonly deps: DeliveryDeps,
    private readonly logger: Logger,
    private readonly options: PixelWorkerOptions,
  ) {
    this.minBatch = Math.max(1, Math.floor(options.concurrency / 8))
    this.slots = SharedSlots.create(options.concurrency)
  }

  start(): void {
    this.running = true
    this.timer = setInterval(() => this.notify(), this.options.pollMs)
    this.timer.unref()
    this.notify()
  }

  reserve(n: number): number {
    return this.running ? this.slots.reserve(n) : 0
  }

  release(n: number): void {
    if (n <= 0) return
    this.slots.release(n)
    if (this.waiting) this.notify()
  }

  /** Pixels written claimed by this worker, in slots taken for them: delivered now, even while stopping. */
  deliver(jobs: DeliveryJob[]): void {
    for (const job of jobs) this.run(job.pixel.id, (onSent) => deliverJob(this.deps, job, { onSent }))
  }

  /** New PENDING pixels were written (or the poll timer ticked): look for due work now. */
  notify(): void {
    if (!this.running) return
    if (Date.now() - this.lastProbe >= PROBE_EVERY_MS) void this.probe()
    this.waiting = true
    if (this.claiming) {
      this.wakeAgain = true
      return
    }
    void this.claim()
  }

  private async claim(): Promise<void> {
    this.claiming = true
    try {
      do {
        this.wakeAgain = false
        const free = this.slots.free
        // with deliveries in flight, wait for a few free slots: one claim per batch, not one per delivery
        if (free <= 0 || !this.running || (free < this.minBatch && this.sending > 0)) break
        // the slots are taken while the claim is on its way, so pixels handed over meanwhile cannot take them
        const room = this.slots.reserve(free)
        if (room === 0) break
        this.waiting = false
        let jobs: DeliveryJob[] = []
        try {
          // pixels of dead workers are rare: looked for once per poll interval, not at every claim (that
          // reads every pixel in flight)
          const takeOver = Date.now() - this.lastTakeOver >= this.options.pollMs
          if (takeOver) this.lastTakeOver = Date.now()
          jobs = await this.deps.pixels.claim(room, this.options.lockMs, takeOver)
        } finally {
          this.slots.release(room - jobs.length)
        }
        for (const job of jobs) this.run(job.pixel.id, (onSent) => deliverJob(this.deps, job, { onSent }))
        // a full batch: more may be due
        if (jobs.length === room) this.waiting = this.wakeAgain = true
      } while (this.wakeAgain && this.running)
    } catch (e) {
      this.logger.error({ err: e }, 'claiming pixels failed')
    } finally {
      this.claiming = false
    }
  }

  /** Sends the probes due of webhooks whose circuits are open (circuitBreaker.ts), one a webhook. */
  private async probe(): Promise<void> {
    if (this.probing) return
    this.probing = true
    this.lastProbe = Date.now()
    // probes are few, and must not starve behind a full worker: their slots are taken even when none is free
    const room = this.running ? this.slots.take(PROBES_A_ROUND) : 0
    let jobs: DeliveryJob[] = []
    try {
      if (++this.probeRounds % SWEEP_EVERY_ROUNDS === 0) await this.deps.circuit.sweepWaiting()
      jobs = await this.deps.circuit.takeProbes(room)
      for (const job of jobs) this.run(job.pixel.id, (onSent) => deliverJob(this.deps, job, { onSent, probe: true }))
    } catch (e) {
      this.logger.error({ err: e }, 'taking circuit probes failed')
    } finally {
      this.slots.release(room - jobs.length)
      this.probing = false
    }
  }

  private run(pixelId: string, delivery: (onSent: () => void) => Promise<unknown>): void {
    this.inFlight++
    this.sending++
    let sent = false
    // the slot is free once the request is over: recording the outcome is the database's work, not the endpoint's
    const onSent = () => {
      if (sent) return
      sent = true
      this.sending--
      this.slots.release(1)
      // a slot came free: claim only if work is known or suspected to wait (not after every delivery)
      if (this.waiting) this.notify()
    }
    delivery(onSent)
      .catch((e) => this.logger.error({ err: e, pixelId }, 'pixel delivery failed; it is retried when its lock expires'))
      .finally(() => {
        onSent()
        this.inFlight--
        if (this.inFlight === 0) this.idle.splice(0).forEach((r) => r())
      })
  }

  /**
   * Stops taking work; resolves when the deliveries in flight have settled. (Pixels being handed over are
   * delivered too: the call-event store is drained before the worker stops.)
   */
  async stop(): Promise<void> {
    this.running = false
    this.slots.stop()
    if (this.timer) clearInterval(this.timer)
    while (this.claiming) await new Promise((r) => setTimeout(r, 5))
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve))
  }
}
