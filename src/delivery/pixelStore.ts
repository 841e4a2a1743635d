// The delivery's store port: where deliveries claim pixels, read them and record their attempts. Each
// backend implements it (src/store/sqlite/pixelStore.ts, src/store/postgres/pixelStore.ts).
import type { Pixel } from '../generated/prisma/client.js'
import type { DeliveryJob } from './handoff.js'
import type { TagInput } from '../core/tags.js'
import type { HealthSample } from './health.js'

/** What an attempt (or a decision not to send) changes on the pixel; fields left out keep their value. */
export interface PixelUpdate {
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED'
  attemptCount?: number
  nextAttemptAt: Date | null
  lockedUntil: Date | null
  completedAt?: Date | null
  responseNote?: string | null
  tagsApplied?: Record<string, string>
  /** the rendered request, written at the first attempt */
  request?: Record<string, unknown>
  unresolvedTokens?: string[]
}

export interface AttemptRecord {
  number: number
  startedAt: Date
  durationMs: number
  statusCode: number | null
  responseHeaders: Record<string, string> | null
  responseBody: string | null
  responseTruncated: boolean
  error: string | null
}

export interface PixelStore {
  /**
   * Marks up to `limit` due pixels DELIVERING, locked for `lockMs`, and answers them ready to deliver:
   * PENDING pixels whose time has come, and with `takeOver`, first those whose worker's lock expired.
   */
  claim(limit: number, lockMs: number, takeOver: boolean): Promise<DeliveryJob[]>
  /** a claimed pixel with its webhook and call (and the call's tags when its first attempt is to come) */
  load(pixelId: string): Promise<DeliveryJob>
  /**
   * Keeps the pixel with this worker until then, while it still holds it (DELIVERING, with the lock this
   * worker took: `job.pixel.lockedUntil`, which is moved on); false when another worker took it over.
   */
  holdLock(job: DeliveryJob, until: Date): Promise<boolean>
  /**
   * Writes the attempt, the pixel's new state and the tags the response gave, and answers the pixel as
   * written; only while the pixel is still as this worker holds it (DELIVERING, the same attempt count, the
   * lock this worker holds: a takeover sets a lock of its own).
   * Answers null and writes nothing of the pixel when it is not: another worker took it over (this one was
   * taken for dead) and records its own attempt. `health` (the attempt as endpoint health counts it) is
   * added to its buckets either way, in the same transaction: the request was made.
   */
  settle(job: DeliveryJob, update: PixelUpdate, attempt: AttemptRecord | null, tags: TagInput[], health?: HealthSample | null): Promise<Pixel | null>
  /**
   * The webhook's circuit opened: up to `limit` of its PENDING pixels (a timer's first attempt aside) wait, no
   * due time, saying why. Answers how many (fewer than `limit`: none is left).
   */
  holdPixels(webhookId: string, note: string, limit: number): Promise<number>
  /**
   * The webhook's circuit closed: up to `limit` of its waiting pixels (PENDING without a due time) are due
   * now, if the webhook is still CLOSED and not deleted when the statement runs. Answers how many.
   */
  releasePixels(webhookId: string, now: Date, limit: number): Promise<number>
  /**
   * Up to `limit` of the webhook's PENDING pixels (with `heldOnly`, only those waiting for its circuit) end
   * with `status` (the webhook was disabled: FAILED; deleted: CANCELLED), saying why, if the webhook is still
   * so (DISABLED; deleted) when the statement runs. Answers how many.
   */
  endPixels(webhookId: string, end: EndPixels, limit: number): Promise<number>
  /**
   * A probe, in one transaction: when the webhook's circuit is OPEN or HALF_OPEN with its probe time passed
   * and a pixel of it waits, the circuit goes HALF_OPEN until `deadline` (`reason` noted when it was OPEN)
   * and the oldest waiting pixel is claimed (DELIVERING until `lockedUntil`). Answers it, ready to deliver,
   * with the state the circuit was in; null when no probe is due or nothing waits.
   */
  takeProbe(webhookId: string, probe: ProbeTimes): Promise<{ job: DeliveryJob; from: 'OPEN' | 'HALF_OPEN' } | null>
  close(): Promise<void>
}

/** How a webhook's pending pixels end (PixelStore.endPixels). */
export interface EndPixels {
  status: 'FAILED' | 'CANCELLED'
  note: string
  now: Date
  heldOnly: boolean
}

/** When a probe is taken, until when its circuit waits for it, and until when its pixel is locked. */
export interface ProbeTimes {
  now: Date
  deadline: Date
  lockedUntil: Date
  reason: string
}

/** The pixel after an update, as the stores answer it. */
export function updatedPixel(pixel: Pixel, update: PixelUpdate): Pixel {
  const next = { ...pixel } as Record<string, unknown>
  for (const [key, value] of Object.entries(update)) if (value !== undefined) next[key] = value
  return next as unknown as Pixel
}
