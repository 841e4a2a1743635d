// What a settled delivery tells the metrics: the pixel's final status, and the attempt (how it ended, how
// long its request took, how long after the pixel came due it started). deliverPixel's settle stage calls
// it once per outcome written.
import type { AttemptResultLabel, Metrics } from '../core/metrics.js'
import type { DeliveryJob } from './handoff.js'
import type { AttemptRecord, PixelUpdate } from './pixelStore.js'

const FINAL = new Set<PixelUpdate['status']>(['SUCCEEDED', 'FAILED', 'CANCELLED'])

/** How an attempt ended, from what was recorded of it (the error texts are outboundHttp's). */
export function attemptResult(attempt: AttemptRecord): AttemptResultLabel {
  const status = attempt.statusCode
  if (status !== null) {
    if (status >= 200 && status < 300) return 'success'
    if (status === 429) return 'http_429'
    if (status >= 400 && status < 500) return 'http_4xx'
    if (status >= 500 && status < 600) return 'http_5xx'
    return 'http_other'
  }
  if (attempt.error?.startsWith('refused')) return 'refused'
  if (attempt.error?.startsWith('timed out')) return 'timeout'
  return 'network'
}

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
