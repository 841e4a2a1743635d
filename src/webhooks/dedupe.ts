// The dedupe rule (firingRules.ts) as a query, for the PostgreSQL call-event store and the "why not fired"
// report (the SQLite store runs the same bounds in a prepared statement of its own).
import type { Call } from '../generated/prisma/client.js'
import { dedupeWindow } from './firingRules.js'
import type { Db, Tx } from '../core/db.js'

/** A pixel of this webhook for this caller (another call) inside the dedupe window before `at` (firingRules.ts). */
export async function isDeduped(tx: Tx | Db, webhookId: string, call: Call, windowSeconds: number, at: Date) {
  const { since, until } = dedupeWindow(windowSeconds, at)
  const earlier = await tx.pixel.findFirst({
    where: { webhookId, callerNumber: call.callerNumber, callId: { not: call.id }, createdAt: { gte: since, lte: until }, status: { not: 'CANCELLED' } },
    select: { id: true },
  })
  return earlier !== null
}
