// The rules that decide whether a webhook fires, each written once and used by the firing (both call-event
// stores) and by the "why did it not fire" report alike.
import type { Call, Webhook } from '../generated/prisma/client.js'
import { evaluateMatches } from './matchTags.js'
import type { MatchGroups } from './webhookConfig.js'

/** When the call reached the trigger, as recorded on the call (TIMER webhooks are decided at the answer). */
export function triggerMoment(call: Pick<Call, 'startedAt' | 'answeredAt' | 'endedAt' | 'convertedAt'>, trigger: string): Date | null {
  switch (trigger) {
    case 'CALL_START':
      return call.startedAt
    case 'ANSWERED':
    case 'TIMER':
      return call.answeredAt
    case 'CALL_END':
      return call.endedAt
    case 'CONVERSION':
      return call.convertedAt
    default:
      return null
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

/**
 * The webhooks (enabled, not deleted, of the call's campaign, oldest first) that a trigger fires on this
 * call, dedupe windows aside: those of the trigger whose matches hold, and on ANSWERED also the TIMER
 * webhooks (their matches are checked when they come due).
 */
export function webhooksToFire(
  webhooks: readonly Webhook[],
  trigger: 'CALL_START' | 'ANSWERED' | 'CALL_END' | 'CONVERSION',
  tags: Record<string, string>,
): Webhook[] {
  return webhooks.filter((w) =>
    w.trigger === 'TIMER' ? trigger === 'ANSWERED' : w.trigger === trigger && evaluateMatches(w.matches as unknown as MatchGroups, tags).matched,
  )
}
