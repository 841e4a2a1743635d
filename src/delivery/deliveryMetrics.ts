// What a settled delivery tells the metrics: the pixel's final status, and the attempt (how it ended, how
// long its request took, how long after the pixel came due it started). deliverPixel's settle stage calls
// it once per outcome written.
import type { AttemptResultLabel, Metrics } from '../core/metrics.js'
import type { DeliveryJob } from './handoff.js'
import { attemptKind, type AttemptKind } from './health.js'
import type { AttemptRecord, PixelUpdate } from './pixelStore.js'

const FINAL = new Set<PixelUpdate['status']>(['SUCCEEDED', 'FAILED', 'CANCELLED'])

/** The metrics' label of each kind of attempt (health.ts: what an attempt counts as). */
const LABELS: Record<AttemptKind, AttemptResultLabel> = {
  success: 'success',
  timeout: 'timeout',
  network: 'network',
  http4xx: 'http_4xx',
  http429: 'http_429',
  http5xx: 'http_5xx',
  httpOther: 'http_other',
  refused: 'refused',
}

/** How an attempt ended, from what was recorded of it. */
export const attemptResult = (attempt: AttemptRecord): AttemptResultLabel => LABELS[attemptKind(attempt)]

export class DeliveryMetrics {
  constructor(private readonly metrics: Metrics) {}

  /** An outcome was written for the job: `attempt` is null when nothing was sent (cancelled, unsendable, no slot in time). */
  settled(job: DeliveryJob, update: PixelUpdate, attempt: AttemptRecord | null): void {
    if (FINAL.has(update.status)) this.metrics.pixelFinished(update.status, job.pixel.trigger)
    if (!attempt) return
    const due = job.pixel.nextAttemptAt ?? job.pixel.createdAt
    this.metrics.attempt(attemptResult(attempt), attempt.durationMs, attempt.startedAt.getTime() - due.getTime())
  }
}
