// The operations the SQLite writer thread runs, as one table both sides of the thread import: the main
// thread calls them by name with their arguments (SqliteWriter.call), the thread implements each.
import type { RecordedCallEvent } from '../../calls/callEvents.js'
import type { CallEventItem } from '../../calls/planCallEvents.js'
import type { DeliveryJob } from '../../delivery/handoff.js'
import type { Outcome } from './pixelStore.js'
import type { WireResult } from './sqliteWriter.js'

export interface WriterOps {
  /** a batch of call events, decided and written in the turn's transaction */
  callEvents(items: CallEventItem[]): WireResult<RecordedCallEvent>[]
  /** a batch of delivery outcomes; each answers whether it was written (false: its pixel was taken over) */
  outcomes(outcomes: Outcome[]): boolean[]
  /** due pixels claimed for the worker, with what their deliveries need */
  claim(limit: number, lockMs: number, takeOver: boolean): DeliveryJob[]
  /** answers once the thread's connection is open (rejects when it could not be) */
  ready(): void
  /** the worker's shared slot counter, taken from as pixels are handed over */
  useSlots(counter: Int32Array): void
  close(): void
}

export type WriterOp = keyof WriterOps

/** The operations that write: those arriving in one turn share its transaction (a savepoint each). */
export const WRITE_OPS = new Set<WriterOp>(['callEvents', 'outcomes', 'claim'])
