// The rules that decide whether a webhook fires, each written once and used by the firing (both call-event
// stores) and by the "why did it not fire" report alike.
import type { Call } from '../generated/prisma/client.js'

/** When the call reached the trigger, as recorded on the call (TIMER webhooks are decided at the answer). */
export function triggerMoment(call: Pick<Call, 'startedAt' | 'answeredAt' | 'endedAt' | 'convertedAt'>, trigger: string): Date | null {
  switch (trigger) {
    case 'CALL_START': return call.startedAt
    case 'ANSWERED':
    case 'TIMER': return call.answeredAt
    case 'CALL_END': return call.endedAt
    case 'CONVERSION': return call.convertedAt
    default: return null
  }
}

/**
 * A webhook with a dedupe window does not fire again for the same caller number: it is deduped when a
 * pixel of it for another call of that number (not cancelled) was created in [at - window, at], `at` being
 * the trigger's moment. The stores run this as their query, with these bounds.
 */
export function dedupeWindow(windowSeconds: number, at: Date): { since: Date; until: Date } {
  return { since: new Date(at.getTime() - windowSeconds * 1000), until: at }
}

/** Why a timer pixel is cancelled when its call ends before the timer comes due. */
export function timerCancelNote(endedAt: Date, due: Date): string {
  return `call ended at ${endedAt.toISOString()}, before the timer (${due.toISOString()})`
}
