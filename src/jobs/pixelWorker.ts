// The delivery worker: claims due pixels in batches and delivers them concurrently. Woken at once when
// this process writes pixels (notify), and otherwise every `pollMs` (pixels written by other instances,
// retries and timers coming due). stop() stops claiming and waits for the deliveries in flight (SIGTERM).
import { claimDuePixels } from '../resolvers/claimDuePixels.js'
import { deliverPixel, type DeliveryDeps } from '../resolvers/deliverPixel.js'
import type { Logger } from '../logger.js'

export interface PixelWorkerOptions {
  concurrency: number
  pollMs: number
  /** how long a claimed pixel stays with this worker before another may take it over */
  lockMs: number
}

export class PixelWorker {
  private inFlight = 0
  private running = false
  private claiming = false
  private wakeAgain = false
  private timer: NodeJS.Timeout | null = null
  private readonly idle: (() => void)[] = []

  constructor(
    private readonly deps: DeliveryDeps,
    private readonly logger: Logger,
    private readonly options: PixelWorkerOptions,
  ) {}

  start(): void {
    this.running = true
    this.timer = setInterval(() => this.notify(), this.options.pollMs)
    this.timer.unref()
    this.notify()
  }

  /** New pixels were written: look for due work now. */
  notify(): void {
    if (!this.running) return
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
        const room = this.options.concurrency - this.inFlight
        if (room <= 0 || !this.running) break
        const ids = await claimDuePixels(this.deps.db, room, this.options.lockMs)
        for (const id of ids) this.deliver(id)
        if (ids.length === room) this.wakeAgain = true
      } while (this.wakeAgain && this.running)
    } catch (e) {
      this.logger.error({ err: e }, 'claiming pixels failed')
    } finally {
      this.claiming = false
    }
  }

  private deliver(id: string): void {
    this.inFlight++
    deliverPixel(this.deps, id)
      .catch((e) => this.logger.error({ err: e, pixelId: id }, 'pixel delivery failed; it is retried when its lock expires'))
      .finally(() => {
        this.inFlight--
        if (this.inFlight === 0) this.idle.splice(0).forEach((r) => r())
        this.notify()
      })
  }

  /** Stops claiming; resolves when the deliveries in flight have settled. */
  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearInterval(this.timer)
    while (this.claiming) await new Promise((r) => setTimeout(r, 5))
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve))
  }
}
