// The operations the SQLite writer thread runs, as one table both sides of the thread import: the main
// thread calls them by name with their arguments (SqliteWriter.call), the thread implements each.
import type { RecordedCallEvent } from '../../calls/callEvents.js'
import type { CallEventItem } from '../../calls/planCallEvents.js'
import type { DeliveryJob } from '../../delivery/handoff.js'
import type { WireResult } from './wire.js'
import type { AttemptKind } from '../../delivery/health.js'

export interface WriterOps {
  /** a batch of call events, decided and written in the turn's transaction */
  callEvents(items: CallEventItem[]): WireResult<RecordedCallEvent>[]
  /** a batch of delivery outcomes; each answers whether it was written (false: its pixel was taken over) */
  outcomes(outcomes: Outcome[]): boolean[]
  /** due pixels claimed for the worker, with what their deliveries need */
  claim(limit: number, lockMs: number, takeOver: boolean): DeliveryJob[]
  /** the circuit's work on a webhook's pixels (PixelStore: holdPixels, releasePixels, endPixels, takeProbe); times as SQLite text */
  holdPixels(webhookId: string, note: string, limit: number): number
  releasePixels(webhookId: string, now: string, limit: number): number
  endPixels(webhookId: string, end: { status: 'FAILED' | 'CANCELLED'; note: string; now: string; heldOnly: boolean }, limit: number): number
  takeProbe(
    webhookId: string,
    probe: { now: string; deadline: string; lockedUntil: string; reason: string },
  ): { job: DeliveryJob; from: 'OPEN' | 'HALF_OPEN' } | null
  /** answers once the thread's connection is open (rejects when it could not be) */
  ready(): void
  /** the worker's shared slot counter, taken from as pixels are handed over */
  useSlots(counter: Int32Array): void
  close(): void
}

export type WriterOp = keyof WriterOps

/** The operations that write: those arriving in one turn share its transaction (a savepoint each). */
export const WRITE_OPS = new Set<WriterOp>(['callEvents', 'outcomes', 'claim', 'holdPixels', 'releasePixels', 'endPixels', 'takeProbe'])

/**
 * An outcome as the writer thread writes it: the pixel's columns that change, as SQLite values (JSON as
 * text), and the attempt's. Only primitives cross the threads: cloning the pixel with its nested request
 * and dates costs the main thread more than building these.
 */
export interface Outcome {
  id: string
  /** the attempt count when this worker took the pixel, and the lock it holds: written only if they are still those */
  takenAt: number
  heldUntil: string | null
  callId: string
  status: string
  attemptCount: number
  nextAttemptAt: string | null
  lockedUntil: string | null
  completedAt: string | null
  responseNote: string | null
  tagsApplied: string | null
  request: string | null
  unresolvedTokens: string | null
  /** the attempt, if one was made: its number, start, duration, status code, headers (JSON), body, cut, error */
  attempt: [number, string, number, number | null, string | null, string | null, 0 | 1, string | null] | null
  /** the response's tags as key, value, key, value… */
  tags: string[]
  /** the attempt as endpoint health counts it: company, webhook, origin, time (ms), kind, duration */
  health: [string, string, string, number, AttemptKind, number] | null
}
